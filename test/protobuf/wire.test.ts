import test from 'ava';
import { readFields, readPackedVarints, readVarint, WireError, WireType } from '../../controller/apiserver/protobuf/wire.js';
import { bytes, fixed32, fixed64, int, str, varint } from './proto-writer.js';

const u8 = (parts: number[]) => Uint8Array.from(parts);

test('varints of one, several and ten bytes', (t) => {
  t.deepEqual(readVarint(u8([0x01]), 0), [1n, 1]);
  t.deepEqual(readVarint(u8([0xac, 0x02]), 0), [300n, 2]);
  t.deepEqual(readVarint(u8([0xff, 0xff, 0xff, 0xff, 0x0f]), 0), [0xffffffffn, 5]);
  // -1 as int64 is ten bytes of all ones.
  const minusOne = u8([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  const [v, next] = readVarint(minusOne, 0);
  t.is(BigInt.asIntN(64, v), -1n);
  t.is(next, 10);
  t.deepEqual(readVarint(u8(varint(2n ** 40n + 5n)), 0), [2n ** 40n + 5n, 6]);
  t.deepEqual(readVarint(u8([0x00, 0x96, 0x01]), 1), [150n, 3], 'reads from an offset');
});

test('truncated and overlong varints are errors', (t) => {
  t.throws(() => readVarint(u8([0x80, 0x80]), 0), { instanceOf: WireError, message: /truncated varint/ });
  t.throws(() => readVarint(u8(Array(11).fill(0x80)), 0), { instanceOf: WireError, message: /longer than 10 bytes/ });
});

test('reads every wire type in order', (t) => {
  const buf = u8([...int(1, 150), ...str(2, 'hé'), ...fixed32(3, 0xdeadbeef), ...fixed64(4, -2n), ...bytes(5, [])]);
  const fields = [...readFields(buf)];
  t.is(fields.length, 5);
  t.deepEqual(fields.map((f) => [f.field, f.wireType]), [[1, WireType.Varint], [2, WireType.LengthDelimited], [3, WireType.Fixed32], [4, WireType.Fixed64], [5, WireType.LengthDelimited]]);
  t.is(fields[0]!.int, 150n);
  t.is(Buffer.from(fields[1]!.bytes!).toString('utf8'), 'hé');
  t.is(fields[2]!.int, 0xdeadbeefn);
  t.is(BigInt.asIntN(64, fields[3]!.int!), -2n);
  t.is(fields[4]!.bytes!.length, 0);
});

test('large field numbers and a Buffer slice with a non-zero offset', (t) => {
  const big = Buffer.concat([Buffer.from([9, 9, 9]), Buffer.from([...int(536870911, 7), ...fixed32(2, 42)])]).subarray(3);
  const fields = [...readFields(big)];
  t.deepEqual(fields.map((f) => [f.field, f.int]), [[536870911, 7n], [2, 42n]]);
});

test('groups are skipped as a whole, nested ones too', (t) => {
  // field 7 start-group { field 1 varint, field 8 start-group { } end 8 } end 7, then field 2.
  const buf = u8([...varint((7 << 3) | 3), ...int(1, 5), ...varint((8 << 3) | 3), ...varint((8 << 3) | 4), ...varint((7 << 3) | 4), ...int(2, 9)]);
  const fields = [...readFields(buf)];
  t.deepEqual(fields.map((f) => f.field), [7, 2]);
  t.is(fields[1]!.int, 9n);
});

test('malformed records are errors that say where', (t) => {
  t.throws(() => [...readFields(u8([...varint((1 << 3) | 2), 10, 1, 2]))], { instanceOf: WireError, message: /claims 10 bytes/ });
  t.throws(() => [...readFields(u8([(1 << 3) | 1, 1, 2, 3]))], { instanceOf: WireError, message: /truncated fixed64/ });
  t.throws(() => [...readFields(u8([(1 << 3) | 5, 1]))], { instanceOf: WireError, message: /truncated fixed32/ });
  t.throws(() => [...readFields(u8([(1 << 3) | 6, 1]))], { instanceOf: WireError, message: /invalid wire type 6/ });
  t.throws(() => [...readFields(u8([0x00, 0x01]))], { instanceOf: WireError, message: /field number 0/ });
  t.throws(() => [...readFields(u8([...varint((7 << 3) | 3), ...int(1, 5)]))], { instanceOf: WireError, message: /unterminated group/ });
  t.throws(() => [...readFields(u8([...varint((7 << 3) | 3), ...varint((6 << 3) | 4)]))], { instanceOf: WireError, message: /closed by field 6/ });
});

test('packed varints', (t) => {
  t.deepEqual(readPackedVarints(u8([1, 0xac, 0x02, 0])), [1n, 300n, 0n]);
  t.deepEqual(readPackedVarints(u8([])), []);
  t.throws(() => readPackedVarints(u8([0x80])), { instanceOf: WireError });
});
