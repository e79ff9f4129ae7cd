// The node's default ingress certificate: made once, kept in the data directory, made
// anew when its key does not match or it is near its end.
import test from 'ava';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CERT_CN, defaultCertificate } from '../../agent/ingress/default-certificate.js';
import { removeDir } from '../helpers/processes.js';
import { selfSignedCert } from './ingress-client.js';

test('made once and kept: a self-signed server certificate that names no real host', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pikube-default-cert-'));
  try {
    const first = await defaultCertificate(join(dir, 'ingress'));
    const c = new X509Certificate(first.cert);
    t.is(c.subject, `CN=${DEFAULT_CERT_CN}`);
    t.is(c.issuer, c.subject);
    t.true(c.checkPrivateKey(createPrivateKey(first.key)));
    t.regex(c.subjectAltName ?? '', /^DNS:[0-9a-f]{16}\.pikube\.default$/);
    t.true(new Date(c.validTo).getTime() > Date.now() + 300 * 86400_000);
    t.deepEqual(await defaultCertificate(join(dir, 'ingress')), first, 'the same certificate after a restart');
    t.is(readFileSync(join(dir, 'ingress', 'default.key'), 'utf8'), first.key);
  } finally {
    removeDir(dir);
  }
});

test('made anew when the kept key does not match the certificate, or the certificate ends within 30 days', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pikube-default-cert-'));
  try {
    const first = await defaultCertificate(dir);
    const other = await selfSignedCert(dir, 'other.home.lan');
    writeFileSync(join(dir, 'default.key'), other.key);
    const second = await defaultCertificate(dir);
    t.not(second.cert, first.cert);
    t.true(new X509Certificate(second.cert).checkPrivateKey(createPrivateKey(second.key)));
    // a certificate that is valid for 2 days only (the pair matches): replaced too
    writeFileSync(join(dir, 'default.crt'), other.cert);
    writeFileSync(join(dir, 'default.key'), other.key);
    const third = await defaultCertificate(dir);
    t.is(new X509Certificate(third.cert).subject, `CN=${DEFAULT_CERT_CN}`);
  } finally {
    removeDir(dir);
  }
});

test('without a directory a certificate is still made (kept in memory only)', async (t) => {
  const pair = await defaultCertificate(undefined);
  t.is(new X509Certificate(pair.cert).subject, `CN=${DEFAULT_CERT_CN}`);
});
