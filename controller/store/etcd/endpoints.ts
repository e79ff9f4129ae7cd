// `--datastore-endpoint` and its TLS settings, checked without loading the etcd client:
// a controller on its embedded store parses its flags with this alone.

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
