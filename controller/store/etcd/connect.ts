// Turns `--datastore-endpoint` and its TLS flags into an etcd v3 client. Every endpoint
// of the list is used: the client balances requests and moves on when a member dies.
import { readFileSync } from 'node:fs';
import { Etcd3, type IOptions } from 'etcd3';

export interface EtcdEndpointOptions {
  /** http(s)://HOST:PORT, one or more. */
  endpoints: string[];
  /** PEM files for https:// endpoints: the CA that signed etcd's certificate, and our client certificate. */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** Or the PEM texts themselves (managed etcd hands them over in memory). */
  ca?: string;
  cert?: string;
  key?: string;
}

/** Splits a comma-separated endpoint list; throws one readable line on a bad entry. */
export function parseEndpoints(value: string): string[] {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) throw new Error('--datastore-endpoint needs at least one URL');
  for (const url of list) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new Error(`--datastore-endpoint: not a URL: ${JSON.stringify(url)}`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`--datastore-endpoint: ${url} must start with http:// or https://`);
    if (!u.port) throw new Error(`--datastore-endpoint: ${url} needs a port (etcd's is usually 2379)`);
  }
  const schemes = new Set(list.map((u) => new URL(u).protocol));
  if (schemes.size > 1) throw new Error('--datastore-endpoint: mix of http:// and https:// endpoints');
  return list;
}

export function etcdClient(opts: EtcdEndpointOptions): Etcd3 {
  const tls = opts.endpoints.some((e) => e.startsWith('https://'));
  const read = (text: string | undefined, file: string | undefined) => text !== undefined ? Buffer.from(text) : file ? readFileSync(file) : undefined;
  const ca = read(opts.ca, opts.caFile);
  const cert = read(opts.cert, opts.certFile);
  const key = read(opts.key, opts.keyFile);
  if ((cert === undefined) !== (key === undefined)) throw new Error('an etcd client certificate needs both the certificate and its key');
  const options: IOptions = {
    hosts: opts.endpoints,
    dialTimeout: 5000,
    // Unary calls give up after a while so a dead member cannot hang a write forever;
    // watch streams stay open.
    defaultCallOptions: (ctx) => ctx.isStream ? {} : { deadline: Date.now() + 10_000 },
    // Pings that etcd accepts: its server refuses pings more often than every 5 s
    // (--grpc-keepalive-min-time) or on a connection without streams, answering with
    // GOAWAY "too_many_pings", which drops every call on that connection. A dead member
    // is still noticed within 15 s, and unary calls have their own deadline.
    grpcOptions: { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5000, 'grpc.keepalive_permit_without_calls': 0 },
  };
  if (tls) {
    if (!ca) throw new Error('https:// etcd endpoints need the CA certificate (--datastore-cafile)');
    options.credentials = { rootCertificate: ca, ...(cert && key ? { certChain: cert, privateKey: key } : {}) };
  }
  return new Etcd3(options);
}
