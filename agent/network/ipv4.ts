// IPv4 arithmetic for pod ranges: parsing CIDRs, the gateway (first host) address.

export interface Cidr { base: number; bits: number; size: number }

export function ipToNumber(ip: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m || m.slice(1).some((o) => Number(o) > 255)) throw new Error(`invalid IPv4 address "${ip}"`);
  return m.slice(1).reduce((acc, o) => ((acc << 8) | Number(o)) >>> 0, 0);
}

export function numberToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

export function isIPv4(s: string): boolean {
  try { ipToNumber(s); return true; } catch { return false; }
}

export function parseCidr(cidr: string): Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  const bits = m ? Number(m[2]) : NaN;
  if (!m || bits > 32) throw new Error(`invalid IPv4 CIDR "${cidr}"`);
  const size = 2 ** (32 - bits);
  const base = (ipToNumber(m[1]!) - (ipToNumber(m[1]!) % size)) >>> 0;
  return { base, bits, size };
}

/** The canonical form: host bits cleared. */
export function formatCidr(c: Cidr): string {
  return `${numberToIp(c.base)}/${c.bits}`;
}

/** The first host address of a range: where a bridge gateway lives. */
export function firstHost(cidr: string): string {
  return numberToIp(parseCidr(cidr).base + 1);
}

export function cidrContains(cidr: string, ip: string): boolean {
  const c = parseCidr(cidr);
  const n = ipToNumber(ip);
  return n >= c.base && n < c.base + c.size;
}
