// Hands out IPv4 addresses from a CIDR, skipping the network, gateway (.1) and broadcast
// addresses; freed addresses are reused.

function toInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`invalid IPv4 address: ${ip}`);
  }
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

function toIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export class IpPool {
  private readonly first: number;
  private readonly last: number;
  private next: number;
  private readonly used = new Set<number>();

  constructor(cidr: string) {
    const m = /^([0-9.]+)\/(\d{1,2})$/.exec(cidr.trim());
    const bits = m ? Number(m[2]) : NaN;
    if (!m || bits < 8 || bits > 30) throw new Error(`invalid pod CIDR (want a.b.c.d/8..30): ${cidr}`);
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    const network = (toInt(m[1]!) & mask) >>> 0;
    this.first = network + 2;
    this.last = network + 2 ** (32 - bits) - 2;
    this.next = this.first;
  }

  get size(): number {
    return this.last - this.first + 1;
  }

  /** A free address, or undefined when the range is exhausted. */
  allocate(): string | undefined {
    if (this.used.size >= this.size) return undefined;
    while (this.used.has(this.next)) this.next = this.next >= this.last ? this.first : this.next + 1;
    const n = this.next;
    this.used.add(n);
    this.next = n >= this.last ? this.first : n + 1;
    return toIp(n);
  }

  release(ip: string): void {
    this.used.delete(toInt(ip));
  }
}
