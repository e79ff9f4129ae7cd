// The protobuf wire format: a sequence of (field number, wire type, value) records.
// Unknown fields are skipped by the caller; malformed input throws WireError.

export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireError';
  }
}

export const WireType = { Varint: 0, Fixed64: 1, LengthDelimited: 2, StartGroup: 3, EndGroup: 4, Fixed32: 5 } as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

export interface WireField {
  field: number;
  wireType: WireType;
  /** Varint and fixed64 values as 64-bit unsigned BigInt, fixed32 as BigInt too. */
  int?: bigint;
  /** Length-delimited payload (a view, not a copy). */
  bytes?: Uint8Array;
}

/** Reads one varint at `pos`; returns the value and the position after it. */
export function readVarint(buf: Uint8Array, pos: number): [bigint, number] {
  // Fast path: values below 2^28 (field keys, lengths, most ints) fit in four bytes.
  let small = 0;
  for (let i = 0; i < 4; i++) {
    if (pos + i >= buf.length) throw new WireError(`truncated varint at byte ${pos}`);
    const b = buf[pos + i];
    small |= (b & 0x7f) << (7 * i);
    if (b < 0x80) return [BigInt(small >>> 0), pos + i + 1];
  }
  let value = BigInt(small >>> 0);
  for (let i = 4; i < 10; i++) {
    if (pos + i >= buf.length) throw new WireError(`truncated varint at byte ${pos}`);
    const b = buf[pos + i];
    value |= BigInt(b & 0x7f) << BigInt(7 * i);
    if (b < 0x80) return [BigInt.asUintN(64, value), pos + i + 1];
  }
  throw new WireError(`varint longer than 10 bytes at byte ${pos}`);
}

function readFixed(buf: Uint8Array, pos: number, size: 4 | 8): [bigint, number] {
  if (pos + size > buf.length) throw new WireError(`truncated fixed${size * 8} at byte ${pos}`);
  const view = new DataView(buf.buffer, buf.byteOffset + pos, size);
  return [size === 4 ? BigInt(view.getUint32(0, true)) : view.getBigUint64(0, true), pos + size];
}

/** Skips a group's contents up to its matching end-group key (groups are deprecated but legal). */
function skipGroup(buf: Uint8Array, pos: number, field: number): number {
  for (;;) {
    if (pos >= buf.length) throw new WireError(`unterminated group for field ${field}`);
    const [key, next] = readVarint(buf, pos);
    const f = Number(key >> 3n);
    const wt = Number(key & 7n) as WireType;
    if (wt === WireType.EndGroup) {
      if (f !== field) throw new WireError(`group for field ${field} closed by field ${f}`);
      return next;
    }
    pos = readValue(buf, next, f, wt)[1];
  }
}

function readValue(buf: Uint8Array, pos: number, field: number, wireType: WireType): [WireField, number] {
  switch (wireType) {
    case WireType.Varint: {
      const [int, next] = readVarint(buf, pos);
      return [{ field, wireType, int }, next];
    }
    case WireType.Fixed64: {
      const [int, next] = readFixed(buf, pos, 8);
      return [{ field, wireType, int }, next];
    }
    case WireType.Fixed32: {
      const [int, next] = readFixed(buf, pos, 4);
      return [{ field, wireType, int }, next];
    }
    case WireType.LengthDelimited: {
      const [len, start] = readVarint(buf, pos);
      const end = start + Number(len);
      if (len > BigInt(buf.length) || end > buf.length) throw new WireError(`field ${field} claims ${len} bytes at byte ${start}, only ${buf.length - start} remain`);
      return [{ field, wireType, bytes: buf.subarray(start, end) }, end];
    }
    case WireType.StartGroup:
      return [{ field, wireType }, skipGroup(buf, pos, field)];
    default:
      throw new WireError(`invalid wire type ${wireType} for field ${field} at byte ${pos}`);
  }
}

/** Every field record of one message, in wire order. */
export function* readFields(buf: Uint8Array): Generator<WireField> {
  let pos = 0;
  while (pos < buf.length) {
    const [key, next] = readVarint(buf, pos);
    const field = Number(key >> 3n);
    if (field === 0) throw new WireError(`field number 0 at byte ${pos}`);
    const [value, after] = readValue(buf, next, field, Number(key & 7n) as WireType);
    pos = after;
    yield value;
  }
}

/** Splits a packed repeated scalar field into its varints. */
export function readPackedVarints(buf: Uint8Array): bigint[] {
  const out: bigint[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [v, next] = readVarint(buf, pos);
    out.push(v);
    pos = next;
  }
  return out;
}
