// Turns `--datastore-endpoint` and its TLS flags into an etcd v3 client. Every endpoint
// of the list is used: the client balances requests and moves on when a member dies.
// Only an etcd-backed controller loads this module (and with it the etcd client library).
import { readFileSync } from 'node:fs';
import { Etcd3, type IOptions } from 'etcd3';
import type { EtcdEndpointOptions } from './endpoints.js';

export type { EtcdEndpointOptions } from './endpoints.js';

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
