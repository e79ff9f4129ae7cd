// Decodes one protobuf message into the JSON shape the API server stores, driven by the
// field tables: zero values of plain fields are left out (as `omitempty` would), pointer
// fields keep what was sent, maps become objects, bytes become base64.
import { INL, PTR, REP, type FieldSpec } from './message-table.js';
import { MESSAGES } from './messages/index.js';
import { readFields, readPackedVarints, WireError, WireType, type WireField } from './wire.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const utf8 = new TextDecoder();

/** Go's zero time (0001-01-01T00:00:00Z) in Unix seconds: a clean encoder sends nothing instead. */
const GO_ZERO_TIME_SECONDS = -62135596800n;

export function decodeMessage(message: string, buf: Uint8Array, path: string = message): JsonObject {
  const table = MESSAGES[message];
  if (!table) throw new WireError(`${path}: no field table for message ${message}`);
  const out: JsonObject = {};
  for (const wf of readFields(buf)) {
    const spec: FieldSpec | undefined = table[wf.field];
    if (!spec) continue; // a field newer than our tables: skipped, like any protobuf reader
    const [json, type, flags = 0] = spec;
    const where = `${path}.${json || type}`;
    if (type.startsWith('map:')) {
      const [key, value] = decodeMapEntry(type.slice(4), expectBytes(wf, where), where);
      const map = (out[json] ??= {}) as JsonObject;
      map[key] = value;
    } else if (flags & REP) {
      const list = (out[json] ??= []) as Json[];
      list.push(...decodeRepeated(type, wf, where));
    } else if (flags & INL) {
      Object.assign(out, decodeValue(type, wf, where));
    } else {
      const value = decodeValue(type, wf, where);
      if (value === null || (!(flags & PTR) && isZero(value))) delete out[json];
      else out[json] = value;
    }
  }
  return out;
}

function isZero(v: Json): boolean {
  if (v === '' || v === 0 || v === false) return true;
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
}

const VARINT_TYPES = new Set(['bool', 'int32', 'int64', 'uint32', 'uint64']);

function decodeRepeated(type: string, wf: WireField, where: string): Json[] {
  // Repeated scalars may arrive packed in one length-delimited record.
  if (VARINT_TYPES.has(type) && wf.wireType === WireType.LengthDelimited) {
    return readPackedVarints(wf.bytes!).map((v) => varintAs(type, v));
  }
  return [decodeValue(type, wf, where)];
}

function varintAs(type: string, v: bigint): Json {
  switch (type) {
    case 'bool': return v !== 0n;
    case 'int32': return Number(BigInt.asIntN(32, v));
    case 'int64': return Number(BigInt.asIntN(64, v));
    default: return Number(v);
  }
}

function expectBytes(wf: WireField, where: string): Uint8Array {
  if (wf.wireType !== WireType.LengthDelimited) throw new WireError(`${where}: expected a length-delimited field, got wire type ${wf.wireType}`);
  return wf.bytes!;
}

function decodeValue(type: string, wf: WireField, where: string): Json {
  if (VARINT_TYPES.has(type)) {
    if (wf.wireType !== WireType.Varint) throw new WireError(`${where}: expected a varint, got wire type ${wf.wireType}`);
    return varintAs(type, wf.int!);
  }
  if (type === 'double') {
    if (wf.wireType !== WireType.Fixed64) throw new WireError(`${where}: expected a fixed64, got wire type ${wf.wireType}`);
    const view = new DataView(new ArrayBuffer(8));
    view.setBigUint64(0, wf.int!, true);
    return view.getFloat64(0, true);
  }
  const bytes = expectBytes(wf, where);
  switch (type) {
    case 'string': return utf8.decode(bytes);
    case 'bytes': return Buffer.from(bytes).toString('base64');
    case 'Quantity': return decodeQuantity(bytes, where);
    case 'IntOrString': return decodeIntOrString(bytes, where);
    case 'Time': return decodeTime(bytes, false, where);
    case 'MicroTime': return decodeTime(bytes, true, where);
    case 'RawExtension':
    case 'FieldsV1': return decodeEmbeddedJson(bytes, where);
    default: return decodeMessage(type, bytes, where);
  }
}

function decodeMapEntry(valueType: string, buf: Uint8Array, where: string): [string, Json] {
  let key = '';
  let value: Json = valueType === 'string' || valueType === 'bytes' ? '' : null;
  for (const wf of readFields(buf)) {
    if (wf.field === 1) key = utf8.decode(expectBytes(wf, `${where} key`));
    else if (wf.field === 2) value = decodeValue(valueType, wf, `${where}[${key}]`);
  }
  if (value === null) value = valueType === 'Quantity' ? '0' : {};
  return [key, value];
}

/** resource.Quantity travels as its canonical string. */
function decodeQuantity(buf: Uint8Array, where: string): string {
  let s = '';
  for (const wf of readFields(buf)) if (wf.field === 1) s = utf8.decode(expectBytes(wf, where));
  return s;
}

/** intstr.IntOrString: type 0 carries intVal, type 1 carries strVal. */
function decodeIntOrString(buf: Uint8Array, where: string): number | string {
  let kind = 0n;
  let intVal = 0;
  let strVal = '';
  for (const wf of readFields(buf)) {
    if (wf.field === 1) kind = wf.int ?? 0n;
    else if (wf.field === 2) intVal = decodeValue('int32', wf, where) as number;
    else if (wf.field === 3) strVal = utf8.decode(expectBytes(wf, where));
  }
  return kind === 1n ? strVal : intVal;
}

/** metav1.Time is RFC 3339 to the second; MicroTime keeps microseconds. Empty means unset. */
function decodeTime(buf: Uint8Array, micro: boolean, where: string): string | null {
  if (buf.length === 0) return null;
  let seconds = 0n;
  let nanos = 0;
  for (const wf of readFields(buf)) {
    if (wf.field === 1) seconds = BigInt.asIntN(64, (decodeRaw(wf, where)));
    else if (wf.field === 2) nanos = Number(BigInt.asIntN(32, decodeRaw(wf, where)));
  }
  if (seconds === GO_ZERO_TIME_SECONDS && nanos === 0) return null;
  const ms = Number(seconds) * 1000;
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) throw new WireError(`${where}: time ${seconds}s is out of range`);
  const base = new Date(ms).toISOString().slice(0, 19);
  return micro ? `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${base}Z`;
}

function decodeRaw(wf: WireField, where: string): bigint {
  if (wf.wireType !== WireType.Varint) throw new WireError(`${where}: expected a varint, got wire type ${wf.wireType}`);
  return wf.int!;
}

/** RawExtension and FieldsV1 wrap raw JSON bytes. */
function decodeEmbeddedJson(buf: Uint8Array, where: string): Json {
  let raw: Uint8Array | undefined;
  for (const wf of readFields(buf)) if (wf.field === 1) raw = expectBytes(wf, where);
  if (!raw || raw.length === 0) return null;
  try {
    return JSON.parse(utf8.decode(raw)) as Json;
  } catch {
    throw new WireError(`${where}: the embedded object is not JSON`);
  }
}
