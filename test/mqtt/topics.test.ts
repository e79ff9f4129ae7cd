import test from 'ava';
import { Topics, filterCovers, isValidNodeName, topicMatches } from '../../protocol/mqtt/topics.js';

test('builds every topic under <base>/v1', (t) => {
  const topics = new Topics();
  t.is(topics.availability('pi-1'), 'pikube/v1/nodes/pi-1/availability');
  t.is(topics.status('pi-1'), 'pikube/v1/nodes/pi-1/status');
  t.is(topics.pods('pi-1'), 'pikube/v1/nodes/pi-1/pods');
  t.is(topics.podStatus('pi-1'), 'pikube/v1/nodes/pi-1/pod-status');
  t.is(topics.events('pi-1'), 'pikube/v1/nodes/pi-1/events');
  t.is(topics.request('pi-1', 'logs'), 'pikube/v1/nodes/pi-1/request/logs');
  t.is(topics.response('pi-1', 'exec'), 'pikube/v1/nodes/pi-1/response/exec');
  t.is(topics.services(), 'pikube/v1/cluster/services');
  t.is(topics.joinRequest('pi-1'), 'pikube/v1/join/pi-1/request');
  t.is(topics.joinResponse('pi-1'), 'pikube/v1/join/pi-1/response');
  t.is(topics.allNodes('status'), 'pikube/v1/nodes/+/status');
  t.is(topics.allJoinRequests(), 'pikube/v1/join/+/request');
});

test('a configurable, possibly multi-level base topic', (t) => {
  const topics = new Topics('home/lab');
  t.is(topics.status('a'), 'home/lab/v1/nodes/a/status');
  t.deepEqual(topics.parse('home/lab/v1/nodes/a/status'), { kind: 'status', node: 'a' });
  t.is(topics.parse('pikube/v1/nodes/a/status'), undefined);
});

test('rejects bad base topics and names that would break topic levels', (t) => {
  for (const base of ['', 'a/+', 'a/#', '$SYS', 'a//b', '/a']) t.throws(() => new Topics(base), undefined, base);
  const topics = new Topics();
  for (const node of ['', 'a/b', '+', '#', 'x+y']) t.throws(() => topics.status(node), undefined, node);
  t.throws(() => topics.request('a', 'x/y'));
});

test('parses every topic kind and rejects the rest', (t) => {
  const topics = new Topics();
  t.deepEqual(topics.parse('pikube/v1/nodes/n1/availability'), { kind: 'availability', node: 'n1' });
  t.deepEqual(topics.parse('pikube/v1/nodes/n1/pod-status'), { kind: 'pod-status', node: 'n1' });
  t.deepEqual(topics.parse('pikube/v1/nodes/n1/request/exec'), { kind: 'request', node: 'n1', op: 'exec' });
  t.deepEqual(topics.parse('pikube/v1/nodes/n1/response/logs'), { kind: 'response', node: 'n1', op: 'logs' });
  t.deepEqual(topics.parse('pikube/v1/cluster/services'), { kind: 'services' });
  t.deepEqual(topics.parse('pikube/v1/join/n1/request'), { kind: 'join-request', node: 'n1' });
  t.deepEqual(topics.parse('pikube/v1/join/n1/response'), { kind: 'join-response', node: 'n1' });
  for (const bad of [
    'pikube/v2/nodes/n1/status', 'pikube/v1/nodes/n1/other', 'pikube/v1/nodes/n1', 'pikube/v1/nodes//status',
    'pikube/v1/nodes/n1/request', 'pikube/v1/nodes/n1/request/a/b', 'pikube/v1/cluster/other', 'pikube/v1/join/n1/x',
    'pikube/v1/nodes/+/status', 'other/v1/nodes/n1/status', 'pikube', '',
  ]) t.is(topics.parse(bad), undefined, bad);
});

test('topicMatches follows MQTT wildcard rules', (t) => {
  t.true(topicMatches('a/+/c', 'a/b/c'));
  t.false(topicMatches('a/+/c', 'a/b/d'));
  t.true(topicMatches('a/#', 'a'));
  t.true(topicMatches('a/#', 'a/b/c'));
  t.false(topicMatches('a/b', 'a/b/c'));
  t.false(topicMatches('a/b/c', 'a/b'));
  t.false(topicMatches('#', '$SYS/x'));
  t.true(topicMatches('#', 'x/y'));
});

test('filterCovers decides whether a subscription stays inside what is allowed', (t) => {
  t.true(filterCovers('p/v1/nodes/a/request/#', 'p/v1/nodes/a/request/+'));
  t.true(filterCovers('p/v1/nodes/a/request/#', 'p/v1/nodes/a/request/logs'));
  t.true(filterCovers('p/v1/cluster/#', 'p/v1/cluster/#'));
  t.false(filterCovers('p/v1/nodes/a/pods', 'p/v1/nodes/+/pods'));
  t.false(filterCovers('p/v1/nodes/a/pods', 'p/v1/nodes/a/#'));
  t.false(filterCovers('p/v1/nodes/a/+', 'p/v1/nodes/a/#'));
  t.true(filterCovers('p/+/x', 'p/y/x'));
  t.false(filterCovers('p/v1/nodes/a/pods', 'p/v1/nodes/b/pods'));
});

test('node names are DNS-1123 subdomains', (t) => {
  for (const ok of ['pi', 'pi-1', 'rack1.pi-4', 'a'.repeat(63)]) t.true(isValidNodeName(ok), ok);
  for (const bad of ['', 'Pi', '-pi', 'pi-', 'pi_1', 'pi/1', 'pi+', 'a..b', 'a'.repeat(254)]) t.false(isValidNodeName(bad), bad);
});
