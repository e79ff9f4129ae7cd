// pods/log through a real agent (simulated runtime): parameters are read as upstream reads
// them (follow=True streams, tailLines trims) and bad ones are a 400 at once, never a
// request that hangs waiting for the node.
import test from 'ava';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterApi } from '../e2e/cluster-api.js';
import { kubectl, removeDir, startAgent, startController, waitFor, type AgentHandle, type ControllerHandle, type Kubectl } from '../helpers/processes.js';

let ctrl: ControllerHandle | undefined;
let agent: AgentHandle | undefined;
let k: Kubectl;
let api: ClusterApi;
const LOG = '/api/v1/namespaces/default/pods/talker/log';

test.before(async () => {
  ctrl = await startController();
  agent = startAgent(ctrl, { nodeName: `logs-${Math.random().toString(36).slice(2, 6)}`, runtime: 'simulated' });
  k = kubectl(ctrl.kubeconfig);
  api = ClusterApi.forController(ctrl);
  await waitFor('node Ready', async () => (await k(['get', 'nodes', '--no-headers'], { reject: false })).stdout.includes(' Ready'), 60_000);
  await k(['run', 'talker', '--image=localhost/busybox:latest', '--restart=Never']);
  await waitFor('pod Running', async () => (await k(['get', 'pod', 'talker', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running', 60_000);
});

test.after.always(async () => {
  if (agent) { await agent.kill(); removeDir(agent.dir); }
  if (ctrl) { await ctrl.kill(); removeDir(ctrl.dir); }
  if (k) removeDir(k.home);
});

test.serial('good parameters reach the node: tailLines trims, timestamps=T prefixes, follow=True streams', async (t) => {
  const all = await api.call('GET', LOG);
  t.is(all.status, 200);
  t.is(String(all.body).trim().split('\n').length, 3);
  const tail = await api.call('GET', `${LOG}?tailLines=1&timestamps=T`);
  t.is(tail.status, 200);
  t.regex(String(tail.body).trim(), /^\d{4}-\d{2}-\d{2}T\S+ listening, pid 1$/);
  // follow=True (ParseBool) keeps the stream open after the existing lines.
  const followed = await new Promise<{ status: number; text: string; endedEarly: boolean }>((resolve, reject) => {
    const url = new URL(ctrl!.apiUrl);
    let text = '';
    let endedEarly = false;
    const req = request({ host: url.hostname, port: url.port, path: `${LOG}?follow=True&tailLines=2`, ca: readFileSync(join(ctrl!.dir, 'pki', 'ca.crt'), 'utf8'), headers: { Authorization: `Bearer ${ctrl!.token}` } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => { endedEarly = true; });
      setTimeout(() => { req.destroy(); resolve({ status: res.statusCode ?? 0, text, endedEarly }); }, 1500);
    });
    req.on('error', (err) => (text ? undefined : reject(err)));
    req.end();
  });
  t.is(followed.status, 200);
  t.false(followed.endedEarly, 'follow keeps the stream open');
  t.deepEqual(followed.text.trim().split('\n'), ['image localhost/busybox:latest', 'listening, pid 1']);
});

test.serial('bad parameters are a 400 at once, naming the parameter', async (t) => {
  for (const [q, named] of [['tailLines=-5', 'tailLines'], ['sinceSeconds=abc', 'sinceSeconds'], ['follow=maybe', 'follow'], ['limitBytes=-1', 'limitBytes']] as const) {
    const started = Date.now();
    const r = await api.call('GET', `${LOG}?${q}${q.startsWith('follow') ? '' : '&follow=true'}`);
    t.is(r.status, 400, q);
    t.regex(r.body.message, new RegExp(named), q);
    t.true(Date.now() - started < 3000, `${q} answered in ${Date.now() - started} ms`);
  }
  const container = await api.call('GET', `${LOG}?container=nope`);
  t.is(container.status, 400);
  t.regex(container.body.message, /nope/);
  t.is((await api.call('GET', `${LOG}?tailLines=0`)).status, 200);
});
