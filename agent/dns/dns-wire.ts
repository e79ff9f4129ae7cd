// The DNS wire format (RFC 1035 §4): just what a cluster resolver needs. Decodes any
// query (following compression pointers) and encodes answers with A records.

export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, ANY: 255 } as const;
export const CLASS_IN = 1;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export interface Question { name: string; type: number; class: number }

export interface ResourceRecord { name: string; type: number; class: number; ttl: number; data: Buffer }

export interface Message {
  id: number;
  /** QR bit: true for a response. */
  response: boolean;
  opcode: number;
  authoritative: boolean;
  truncated: boolean;
  recursionDesired: boolean;
  recursionAvailable: boolean;
  rcode: number;
  questions: Question[];
  answers: ResourceRecord[];
  authorities: ResourceRecord[];
  additionals: ResourceRecord[];
}

export class DnsFormatError extends Error {}

/** Reads a (possibly compressed) name at `offset`; returns it lower-case without the final dot. */
export function readName(buf: Buffer, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let pos = offset;
  let next = -1;
  for (let jumps = 0; ; ) {
    if (pos >= buf.length) throw new DnsFormatError('name runs past the message');
    const len = buf[pos]!;
    if (len === 0) { pos += 1; break; }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= buf.length) throw new DnsFormatError('truncated compression pointer');
      if (++jumps > 32) throw new DnsFormatError('compression loop');
      if (next < 0) next = pos + 2;
      pos = ((len & 0x3f) << 8) | buf[pos + 1]!;
      continue;
    }
    if ((len & 0xc0) !== 0) throw new DnsFormatError('unsupported label type');
    if (pos + 1 + len > buf.length) throw new DnsFormatError('label runs past the message');
    labels.push(buf.toString('latin1', pos + 1, pos + 1 + len));
    pos += 1 + len;
    if (labels.join('.').length > 253) throw new DnsFormatError('name too long');
  }
  return { name: labels.join('.').toLowerCase(), next: next >= 0 ? next : pos };
}

export function encodeName(name: string): Buffer {
  const trimmed = name.replace(/\.$/, '');
  const parts: Buffer[] = [];
  if (trimmed) {
    for (const label of trimmed.split('.')) {
      const b = Buffer.from(label, 'latin1');
      if (b.length === 0 || b.length > 63) throw new DnsFormatError(`invalid label in "${name}"`);
      parts.push(Buffer.from([b.length]), b);
    }
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

function readRecords(buf: Buffer, pos: number, count: number): { records: ResourceRecord[]; next: number } {
  const records: ResourceRecord[] = [];
  for (let i = 0; i < count; i++) {
    const { name, next } = readName(buf, pos);
    if (next + 10 > buf.length) throw new DnsFormatError('truncated resource record');
    const rdlen = buf.readUInt16BE(next + 8);
    if (next + 10 + rdlen > buf.length) throw new DnsFormatError('truncated record data');
    records.push({ name, type: buf.readUInt16BE(next), class: buf.readUInt16BE(next + 2), ttl: buf.readUInt32BE(next + 4), data: buf.subarray(next + 10, next + 10 + rdlen) });
    pos = next + 10 + rdlen;
  }
  return { records, next: pos };
}

export function decodeMessage(buf: Buffer): Message {
  if (buf.length < 12) throw new DnsFormatError('message shorter than its header');
  const flags = buf.readUInt16BE(2);
  const counts = [4, 6, 8, 10].map((o) => buf.readUInt16BE(o));
  let pos = 12;
  const questions: Question[] = [];
  for (let i = 0; i < counts[0]!; i++) {
    const { name, next } = readName(buf, pos);
    if (next + 4 > buf.length) throw new DnsFormatError('truncated question');
    questions.push({ name, type: buf.readUInt16BE(next), class: buf.readUInt16BE(next + 2) });
    pos = next + 4;
  }
  const an = readRecords(buf, pos, counts[1]!);
  const ns = readRecords(buf, an.next, counts[2]!);
  const ar = readRecords(buf, ns.next, counts[3]!);
  return {
    id: buf.readUInt16BE(0),
    response: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    authoritative: (flags & 0x0400) !== 0,
    truncated: (flags & 0x0200) !== 0,
    recursionDesired: (flags & 0x0100) !== 0,
    recursionAvailable: (flags & 0x0080) !== 0,
    rcode: flags & 0xf,
    questions, answers: an.records, authorities: ns.records, additionals: ar.records,
  };
}

function encodeRecord(r: ResourceRecord): Buffer {
  const head = Buffer.alloc(10);
  head.writeUInt16BE(r.type, 0);
  head.writeUInt16BE(r.class, 2);
  head.writeUInt32BE(r.ttl >>> 0, 4);
  head.writeUInt16BE(r.data.length, 8);
  return Buffer.concat([encodeName(r.name), head, r.data]);
}

export function encodeMessage(m: Partial<Message> & { id: number }): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(m.id & 0xffff, 0);
  const flags = (m.response ? 0x8000 : 0) | (((m.opcode ?? 0) & 0xf) << 11) | (m.authoritative ? 0x0400 : 0)
    | (m.truncated ? 0x0200 : 0) | (m.recursionDesired ? 0x0100 : 0) | (m.recursionAvailable ? 0x0080 : 0) | ((m.rcode ?? 0) & 0xf);
  header.writeUInt16BE(flags, 2);
  const qs = m.questions ?? [], an = m.answers ?? [], ns = m.authorities ?? [], ar = m.additionals ?? [];
  [qs, an, ns, ar].forEach((list, i) => header.writeUInt16BE(list.length, 4 + 2 * i));
  const parts: Buffer[] = [header];
  for (const q of qs) {
    const tail = Buffer.alloc(4);
    tail.writeUInt16BE(q.type, 0);
    tail.writeUInt16BE(q.class, 2);
    parts.push(encodeName(q.name), tail);
  }
  for (const r of [...an, ...ns, ...ar]) parts.push(encodeRecord(r));
  return Buffer.concat(parts);
}

export function aRecord(name: string, ip: string, ttl: number): ResourceRecord {
  return { name, type: TYPE.A, class: CLASS_IN, ttl, data: Buffer.from(ip.split('.').map(Number)) };
}

/** The IPv4 address of an A record's data. */
export function aData(r: ResourceRecord): string {
  return [...r.data].join('.');
}

/** A query as a stub resolver sends it (for tests and health checks). */
export function encodeQuery(id: number, name: string, type: number = TYPE.A): Buffer {
  return encodeMessage({ id, recursionDesired: true, questions: [{ name, type, class: CLASS_IN }] });
}
