// Odd and hostile requests over raw HTTPS, each with upstream's answer (the parameter or
// field named), and the controller still serving after every one of them.
import test from 'ava';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir, startController, type ControllerHandle } from '../helpers/processes.js';

let ctrl: ControllerHandle | undefined;
let ca = '';

test.before(async () => {
  ctrl = await startController();
  ca = readFileSync(join(ctrl.dir, 'pki', 'ca.crt'), 'utf8');
});

test.after.always(async () => {
  if (ctrl) { await ctrl.kill(); removeDir(ctrl.dir); }
});

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; text: string; body: any }

/** One request; a watch is cut after `cutMs` and returns what arrived until then. */
function send(method: string, path: string, opts: { body?: string | Buffer; contentType?: string; accept?: string; cutMs?: number } = {}): Promise<Reply> {
  const url = new URL(ctrl!.apiUrl);
  return new Promise((resolve, reject) => {
    const data = opts.body === undefined ? undefined : Buffer.from(opts.body);
    const req = request({
      host: url.hostname, port: url.port, path, method, ca,
      headers: {
        Authorization: `Bearer ${ctrl!.token}`, Accept: opts.accept ?? 'application/json',
        ...(data ? { 'Content-Length': data.length } : {}), ...(opts.contentType ? { 'Content-Type': opts.contentType } : {}),
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      const done = () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: any;
        try { body = JSON.parse(text); } catch { body = undefined; }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
      };
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', done);
      res.on('close', done);
      if (opts.cutMs) setTimeout(() => req.destroy(), opts.cutMs);
    });
    req.on('error', (err) => (opts.cutMs ? undefined : reject(err)));
    req.setTimeout(20_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.end(data);
  });
}

async function stillServing(t: { is: (a: unknown, b: unknown, m?: string) => void }, after: string): Promise<void> {
  const r = await send('GET', '/api/v1/namespaces/default/configmaps?limit=1');
  t.is(r.status, 200, `the API still answers after ${after}`);
}

const CM = '/api/v1/namespaces/default/configmaps';
const cm = (name: string, extra: Record<string, unknown> = {}) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, ...extra });

test.serial('booleans are parsed as Go ParseBool: every true spelling watches, every false one lists', async (t) => {
  await send('POST', CM, { body: cm('seen'), contentType: 'application/json' });
  for (const v of ['1', 't', 'T', 'TRUE', 'true', 'True']) {
    const r = await send('GET', `${CM}?watch=${v}&timeoutSeconds=1`);
    t.is(r.status, 200, v);
    t.is(r.headers['transfer-encoding'], 'chunked', `watch=${v} streams`);
    t.regex(r.text, /"type":"ADDED"/, `watch=${v} sends events`);
  }
  for (const v of ['0', 'f', 'F', 'FALSE', 'false', 'False']) {
    const r = await send('GET', `${CM}?watch=${v}`);
    t.is(r.body.kind, 'ConfigMapList', `watch=${v} lists`);
  }
  for (const v of ['yes', 'tRUE', 'maybe', '2']) {
    const r = await send('GET', `${CM}?watch=${v}`);
    t.is(r.status, 400, v);
    t.regex(r.body.message, /"watch"/);
  }
  const bm = await send('GET', `${CM}?allowWatchBookmarks=nope&watch=1`);
  t.is(bm.status, 400);
  t.regex(bm.body.message, /allowWatchBookmarks/);
  await stillServing(t, 'bad booleans');
});

test.serial('integers and enumerations are range-checked, resource versions must be numbers', async (t) => {
  const cases: [string, RegExp][] = [
    ['limit=-1', /"limit"/], ['limit=abc', /"limit"/], ['limit=99999999999999999999', /"limit"/], ['limit=1.5', /"limit"/],
    ['timeoutSeconds=-3', /"timeoutSeconds"/], ['resourceVersion=abc', /"resourceVersion"/], ['resourceVersion=-1', /"resourceVersion"/],
    ['watch=1&resourceVersion=abc', /"resourceVersion"/], ['resourceVersionMatch=Sometimes&resourceVersion=1', /"resourceVersionMatch"/],
    ['includeObject=All', /"includeObject"/],
  ];
  for (const [q, named] of cases) {
    const r = await send('GET', `${CM}?${q}`);
    t.is(r.status, 400, q);
    t.is(r.body?.kind, 'Status', q);
    t.regex(r.body.message, named, q);
  }
  const del = await send('DELETE', `${CM}/seen?gracePeriodSeconds=-5`);
  t.is(del.status, 400);
  t.regex(del.body.message, /gracePeriodSeconds/);
  const pp = await send('DELETE', `${CM}/seen?propagationPolicy=Sideways`);
  t.is(pp.status, 400);
  t.regex(pp.body.message, /propagationPolicy/);
  const dry = await send('POST', `${CM}?dryRun=Some`, { body: cm('dry'), contentType: 'application/json' });
  t.is(dry.status, 400);
  t.regex(dry.body.message, /dryRun/);
  t.is((await send('GET', `${CM}?limit=0`)).status, 200);
  await stillServing(t, 'bad integers');
});

test.serial('a 5,000-character label key is refused in a selector (400) and in a body (422)', async (t) => {
  const key = 'a'.repeat(5000);
  const sel = await send('GET', `${CM}?labelSelector=${key}%3Dx`);
  t.is(sel.status, 400);
  t.regex(sel.body.message, /labelSelector.*name part must be no more than 63 characters/);
  t.true(sel.text.length < 2000, 'the answer does not echo the whole key');
  const body = await send('POST', CM, { body: cm('longkey', { metadata: { name: 'longkey', labels: { [key]: 'x' } } }), contentType: 'application/json' });
  t.is(body.status, 422);
  t.true(body.body.details.causes.some((c: any) => c.field === 'metadata.labels'));
  const value = await send('GET', `${CM}?labelSelector=a%3D${'v'.repeat(100)}`);
  t.is(value.status, 400);
  await stillServing(t, 'long label keys');
});

test.serial('content types other than JSON, YAML, protobuf and the patch types are 415', async (t) => {
  for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'application/cbor']) {
    const r = await send('POST', CM, { body: cm('ct'), contentType: ct });
    t.is(r.status, 415, ct);
    t.is(r.body.reason, 'UnsupportedMediaType');
  }
  await send('POST', CM, { body: cm('patched'), contentType: 'application/json' });
  const p = await send('PATCH', `${CM}/patched`, { body: '{"data":{"a":"b"}}', contentType: 'application/json' });
  t.is(p.status, 415);
  t.regex(p.body.message, /merge-patch\+json/);
  const put = await send('PUT', `${CM}/patched`, { body: '{"data":{"a":"b"}}', contentType: 'application/merge-patch+json' });
  t.is(put.status, 415);
  // Parameters on a good type are fine (official clients send charset).
  const ok = await send('POST', CM, { body: cm('charset'), contentType: 'application/json; charset=utf-8' });
  t.is(ok.status, 201);
  await stillServing(t, 'odd content types');
});

test.serial('unknown fields: dropped with a Warning by default, refused by Strict, dropped silently by Ignore', async (t) => {
  const warn = await send('POST', CM, { body: cm('u1', { bogus: 1, data: { a: 'b' } }), contentType: 'application/json' });
  t.is(warn.status, 201);
  t.regex(String(warn.headers.warning), /299 - "unknown field \\"bogus\\""/);
  t.is(warn.body.bogus, undefined);
  t.is((await send('GET', `${CM}/u1`)).body.bogus, undefined);
  const strict = await send('POST', `${CM}?fieldValidation=Strict`, { body: cm('u2', { bogus: 1 }), contentType: 'application/json' });
  t.is(strict.status, 400);
  t.regex(strict.body.message, /unknown field "bogus"/);
  const ignore = await send('POST', `${CM}?fieldValidation=Ignore`, { body: cm('u3', { bogus: 1 }), contentType: 'application/json' });
  t.is(ignore.status, 201);
  t.is(ignore.headers.warning, undefined);
  t.is(ignore.body.bogus, undefined);
  const wrong = await send('POST', `${CM}?fieldValidation=Loud`, { body: cm('u4'), contentType: 'application/json' });
  t.is(wrong.status, 400);
  t.regex(wrong.body.message, /fieldValidation/);
  const patched = await send('PATCH', `${CM}/u1`, { body: '{"metadata":{"nope":1}}', contentType: 'application/merge-patch+json' });
  t.is(patched.status, 200);
  t.regex(String(patched.headers.warning), /metadata.nope/);
  await stillServing(t, 'unknown fields');
});

test.serial('deep nesting is a 400 before anything recurses, in JSON and YAML', async (t) => {
  for (const depth of [3000, 2000, 100_000]) {
    const r = await send('POST', CM, { body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"x":${'['.repeat(depth)}${']'.repeat(depth)}}`, contentType: 'application/json' });
    t.is(r.status, 400, `JSON ${depth} deep`);
    t.regex(r.body.message, /nested too deeply/);
  }
  const obj = await send('POST', CM, { body: `{"metadata":{"name":"deepo"},"x":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}`, contentType: 'application/json' });
  t.is(obj.status, 400);
  const flow = await send('POST', CM, { body: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deepy}\nx: ${'['.repeat(3000)}${']'.repeat(3000)}\n`, contentType: 'application/yaml' });
  t.is(flow.status, 400);
  let block = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deepb}\nx:\n';
  for (let i = 1; i <= 400; i++) block += `${'  '.repeat(i)}a:\n`;
  const blockReply = await send('POST', CM, { body: block, contentType: 'application/yaml' });
  t.is(blockReply.status, 400);
  const patch = await send('PATCH', `${CM}/u1`, { body: `{"data":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}`, contentType: 'application/merge-patch+json' });
  t.is(patch.status, 400);
  // Moderate nesting is fine.
  const ok = await send('POST', CM, { body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"shallow"},"x":${'['.repeat(100)}${']'.repeat(100)}}`, contentType: 'application/json' });
  t.is(ok.status, 201);
  await stillServing(t, 'deep bodies');
});

test.serial('malformed and oversized bodies', async (t) => {
  const bad = await send('POST', CM, { body: '{"metadata":', contentType: 'application/json' });
  t.is(bad.status, 400);
  const empty = await send('POST', CM, { body: '', contentType: 'application/json' });
  t.is(empty.status, 400);
  const arr = await send('POST', CM, { body: '[1,2]', contentType: 'application/json' });
  t.is(arr.status, 400);
  const huge = await send('POST', CM, { body: cm('huge', { data: { a: 'x'.repeat(4 * 1024 * 1024) } }), contentType: 'application/json' });
  t.is(huge.status, 413);
  const proto = await send('POST', CM, { body: Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0xff, 0xff]), contentType: 'application/vnd.kubernetes.protobuf' });
  t.is(proto.status, 400);
  await stillServing(t, 'malformed bodies');
});

test.serial('pods/log parameters are checked before anything is relayed (400 at once)', async (t) => {
  const cases: [string, RegExp][] = [
    ['tailLines=-5', /tailLines/], ['sinceSeconds=abc', /sinceSeconds/], ['sinceSeconds=0', /sinceSeconds/], ['limitBytes=0', /limitBytes/],
    ['follow=maybe', /follow/], ['sinceTime=yesterday', /sinceTime/], ['sinceTime=2026-01-01T00:00:00Z&sinceSeconds=5', /sinceSeconds/],
    ['previous=2', /previous/],
  ];
  for (const [q, named] of cases) {
    const started = Date.now();
    const r = await send('GET', `/api/v1/namespaces/default/pods/anything/log?${q}`);
    t.is(r.status, 400, q);
    t.regex(r.body.message, named, q);
    t.true(Date.now() - started < 5000, `${q} answered at once`);
  }
  await stillServing(t, 'bad log parameters');
});

test.serial('a burst of hostile requests leaves the controller serving', async (t) => {
  const deep = `{"x":${'['.repeat(5000)}${']'.repeat(5000)}}`;
  const burst = [];
  for (let i = 0; i < 40; i++) {
    burst.push(send('POST', CM, { body: deep, contentType: 'application/json' }));
    burst.push(send('GET', `${CM}?limit=-${i + 1}`));
    burst.push(send('POST', CM, { body: 'x', contentType: 'text/plain' }));
  }
  const replies = await Promise.all(burst);
  t.deepEqual([...new Set(replies.map((r) => r.status))].sort(), [400, 415]);
  await stillServing(t, 'a burst');
  const ready = await send('GET', '/readyz');
  t.is(ready.status, 200);
});
