// Talking to an ingress proxy from a test: HTTP(S) with a chosen Host/SNI name, the
// certificate a TLS handshake presents, and a self-signed certificate for a host name.
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import tls from 'node:tls';

export interface Answer { status: number; headers: http.IncomingHttpHeaders; body: string }

/** `sni: false` sends no SNI name and takes any certificate (as `curl -k https://<address>/`). */
export function ingressRequest(addr: { host: string; port: number }, hostHeader: string, path: string, opts: { secure?: boolean; headers?: Record<string, string>; ca?: string; sni?: boolean } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const mod = opts.secure ? https : http;
    const req = mod.request({
      host: addr.host, port: addr.port, path, agent: false, timeout: 3000,
      headers: { host: hostHeader, ...(opts.headers ?? {}) },
      ...(opts.secure ? (opts.sni === false ? { servername: '', rejectUnauthorized: false } : { servername: hostHeader, ca: opts.ca }) : {}),
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** The certificate presented for an SNI name (none when undefined), and whether it verifies against `ca`. */
export function peerCertificate(addr: { host: string; port: number }, servername: string | undefined, ca: string): Promise<{ authorized: boolean; cn: string }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: addr.host, port: addr.port, ...(servername ? { servername } : {}), ca, rejectUnauthorized: false, timeout: 3000 }, () => {
      resolve({ authorized: s.authorized, cn: String(s.getPeerCertificate().subject?.CN) });
      s.end();
    });
    s.on('timeout', () => s.destroy(new Error('timeout')));
    s.on('error', reject);
  });
}

/** A self-signed certificate for one host name (files `<dir>/<host>.crt|.key`). */
export async function selfSignedCert(dir: string, host: string): Promise<{ cert: string; key: string; certFile: string; keyFile: string }> {
  const keyFile = join(dir, `${host}.key`), certFile = join(dir, `${host}.crt`);
  await execa('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host}`, '-keyout', keyFile, '-out', certFile]);
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile, keyFile };
}
