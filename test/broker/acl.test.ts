import test from 'ava';
import { allowedFilters, mayPublish, mayReceive, maySubscribe, renderMosquittoAcl } from '../../controller/broker/acl.js';
import { Topics } from '../../protocol/mqtt/topics.js';

const topics = new Topics();
const a = { role: 'node', node: 'a' } as const;
const joiner = { role: 'joiner', node: 'a' } as const;
const controller = { role: 'controller' } as const;

test('nodes publish only their own reports', (t) => {
  for (const kind of ['availability', 'status', 'pod-status', 'events'] as const) {
    t.true(mayPublish(a, topics.node('a', kind), topics), kind);
    t.false(mayPublish(a, topics.node('b', kind), topics), `b ${kind}`);
  }
  t.true(mayPublish(a, topics.response('a', 'logs'), topics));
  t.false(mayPublish(a, topics.response('b', 'logs'), topics));
  t.false(mayPublish(a, topics.pods('a'), topics));
  t.false(mayPublish(a, topics.request('a', 'exec'), topics));
  t.false(mayPublish(a, topics.services(), topics));
  t.false(mayPublish(a, topics.joinRequest('a'), topics));
});

test('nodes read only their own desired state and requests, and cluster topics', (t) => {
  t.true(maySubscribe(a, topics.pods('a'), topics));
  t.true(maySubscribe(a, topics.nodeRequests('a'), topics));
  t.true(maySubscribe(a, topics.cluster(), topics));
  t.true(maySubscribe(a, topics.services(), topics));
  t.false(maySubscribe(a, topics.pods('b'), topics));
  t.false(maySubscribe(a, topics.allNodes('pods'), topics));
  t.false(maySubscribe(a, '#', topics));
  t.false(maySubscribe(a, `${topics.root}/nodes/a/#`, topics));
  t.true(mayReceive(a, topics.pods('a'), topics));
  t.false(mayReceive(a, topics.pods('b'), topics), 'retained deliveries of other nodes are filtered');
  t.false(mayReceive(a, topics.status('a'), topics));
});

test('joiners only see their own join topics; the controller sees everything under the base', (t) => {
  t.true(mayPublish(joiner, topics.joinRequest('a'), topics));
  t.false(mayPublish(joiner, topics.joinRequest('b'), topics));
  t.false(mayPublish(joiner, topics.joinResponse('a'), topics));
  t.true(maySubscribe(joiner, topics.joinResponse('a'), topics));
  t.false(maySubscribe(joiner, topics.joinResponse('b'), topics));
  t.false(maySubscribe(joiner, topics.pods('a'), topics));
  t.true(mayPublish(controller, topics.pods('x'), topics));
  t.true(maySubscribe(controller, `${topics.base}/#`, topics));
  t.false(mayPublish(controller, 'other/topic', topics));
  t.deepEqual(allowedFilters(joiner, 'read', topics), ['pikube/v1/join/a/response']);
});

test('the mosquitto ACL renders the same rules', (t) => {
  const acl = renderMosquittoAcl(new Topics('lab'));
  t.true(acl.includes('pattern write lab/v1/nodes/%u/status\n'));
  t.true(acl.includes('pattern write lab/v1/nodes/%u/response/#\n'));
  t.true(acl.includes('pattern read lab/v1/nodes/%u/pods\n'));
  t.true(acl.includes('pattern read lab/v1/nodes/%u/request/#\n'));
  t.true(acl.includes('pattern read lab/v1/cluster/#\n'));
  t.true(acl.includes('user pikube-controller\ntopic readwrite lab/#\n'));
  t.true(acl.includes('user pikube-join\ntopic write lab/v1/join/+/request\ntopic read lab/v1/join/+/response\n'));
  t.false(acl.includes('{node}'));
});
