// The Kubernetes protobuf envelope: the magic bytes "k8s\0", then a runtime.Unknown
// message that names the kind and carries the object's own message as raw bytes.
import { readFields, WireError, WireType } from './wire.js';

export const PROTOBUF_MAGIC = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);

export interface Envelope {
  apiVersion: string;
  kind: string;
  raw: Uint8Array;
  contentEncoding: string;
  contentType: string;
}

export function hasProtobufMagic(buf: Uint8Array): boolean {
  return buf.length >= 4 && PROTOBUF_MAGIC.every((b, i) => buf[i] === b);
}

const utf8 = new TextDecoder();

function text(bytes: Uint8Array | undefined, what: string, wireType: number): string {
  if (wireType !== WireType.LengthDelimited || !bytes) throw new WireError(`${what}: expected a length-delimited field`);
  return utf8.decode(bytes);
}

export function readEnvelope(buf: Uint8Array): Envelope {
  if (!hasProtobufMagic(buf)) throw new WireError('missing the "k8s\\0" prefix of a Kubernetes protobuf body');
  const env: Envelope = { apiVersion: '', kind: '', raw: new Uint8Array(0), contentEncoding: '', contentType: '' };
  for (const wf of readFields(buf.subarray(4))) {
    switch (wf.field) {
      case 1: // typeMeta { apiVersion = 1, kind = 2 }
        if (wf.wireType !== WireType.LengthDelimited) throw new WireError('typeMeta: expected a length-delimited field');
        for (const tf of readFields(wf.bytes!)) {
          if (tf.field === 1) env.apiVersion = text(tf.bytes, 'typeMeta.apiVersion', tf.wireType);
          else if (tf.field === 2) env.kind = text(tf.bytes, 'typeMeta.kind', tf.wireType);
        }
        break;
      case 2:
        if (wf.wireType !== WireType.LengthDelimited) throw new WireError('raw: expected a length-delimited field');
        env.raw = wf.bytes!;
        break;
      case 3: env.contentEncoding = text(wf.bytes, 'contentEncoding', wf.wireType); break;
      case 4: env.contentType = text(wf.bytes, 'contentType', wf.wireType); break;
    }
  }
  return env;
}
