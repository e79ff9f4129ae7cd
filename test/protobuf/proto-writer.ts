// A tiny protobuf writer for building test bodies by hand (the server only decodes).

export function varint(value: bigint | number): number[] {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v ? byte | 0x80 : byte);
  } while (v);
  return out;
}

const key = (field: number, wireType: number) => varint((BigInt(field) << 3n) | BigInt(wireType));

export const int = (field: number, value: bigint | number): number[] => [...key(field, 0), ...varint(value)];
export const bool = (field: number, value: boolean): number[] => int(field, value ? 1 : 0);

export function bytes(field: number, payload: Uint8Array | number[]): number[] {
  return [...key(field, 2), ...varint(payload.length), ...payload];
}

export const str = (field: number, value: string): number[] => bytes(field, [...Buffer.from(value, 'utf8')]);
export const msg = (field: number, ...parts: number[][]): number[] => bytes(field, parts.flat());

export function fixed32(field: number, value: number): number[] {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value);
  return [...key(field, 5), ...b];
}

export function fixed64(field: number, value: bigint): number[] {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, value));
  return [...key(field, 1), ...b];
}

/** A map<string, V> entry: key = 1, value = 2. */
export const entry = (field: number, k: string, value: number[]): number[] => msg(field, str(1, k), value);

/** "k8s\0" + runtime.Unknown{typeMeta{apiVersion, kind}, raw}. */
export function envelope(apiVersion: string, kind: string, raw: number[], extra: number[] = []): Buffer {
  return Buffer.from([0x6b, 0x38, 0x73, 0x00, ...msg(1, str(1, apiVersion), str(2, kind)), ...bytes(2, raw), ...extra]);
}
