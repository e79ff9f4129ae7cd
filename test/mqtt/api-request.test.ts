// The Kubernetes API over MQTT, its pure half: which requests are well-formed (with the
// field named when not), and which HTTP request each one becomes.
import test from 'ava';
import { apiRequestIdOf, parseApiRequest, PayloadError } from '../../protocol/mqtt/validate.js';
import { Topics } from '../../protocol/mqtt/topics.js';
import { httpCallFor } from '../../controller/mqtt-api/http-call.js';
import { RateLimiter } from '../../controller/mqtt-api/rate-limit.js';
import { UserTokens } from '../../controller/mqtt-api/user-tokens.js';

const b = (o: unknown) => Buffer.from(JSON.stringify(o));

test('malformed requests name the field; the id is still readable for the 400', (t) => {
  const bad: [unknown, RegExp][] = [
    [{ id: 'b1', verb: 'explode' }, /request\.verb: expected one of get\|list/],
    [{ verb: 'get' }, /request\.id/],
    [{ id: 'a/b', verb: 'get', version: 'v1', resource: 'pods', name: 'x' }, /request\.id: must be/],
    [{ id: 'g', verb: 'get', version: 'v1', resource: 'pods' }, /request\.name: required for get/],
    [{ id: 'c', verb: 'create', version: 'v1', resource: 'pods' }, /request\.body: required for create/],
    [{ id: 'p', verb: 'patch', version: 'v1', resource: 'pods', name: 'x', body: {}, patchType: 'xml' }, /request\.patchType/],
    [{ id: 'r', verb: 'list', version: 'v1', resource: 'Pods!' }, /request\.resource: "Pods!" is not a valid name/],
    [{ id: 'v', verb: 'list', resource: 'pods' }, /request\.version/],
  ];
  for (const [payload, message] of bad) t.throws(() => parseApiRequest(b(payload)), { instanceOf: PayloadError, message }, JSON.stringify(payload));
  t.is(apiRequestIdOf(b({ id: 'b1', verb: 'explode' })), 'b1');
  t.is(apiRequestIdOf(Buffer.from('{nope')), undefined);
  t.throws(() => parseApiRequest(Buffer.alloc(2 * 1024 * 1024, 32)), { instanceOf: PayloadError, message: /exceeds the limit/ });
});

test('each verb becomes the HTTP request kubectl would send', (t) => {
  const dep = { id: 'x', group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default', name: 'hello' } as const;
  t.like(httpCallFor({ ...dep, verb: 'get' }), { method: 'GET', path: '/apis/apps/v1/namespaces/default/deployments/hello', stream: false });
  t.like(httpCallFor({ ...dep, verb: 'list', name: undefined, labelSelector: 'app=web' }), { method: 'GET', path: '/apis/apps/v1/namespaces/default/deployments?labelSelector=app%3Dweb' });
  t.like(httpCallFor({ ...dep, verb: 'scale', body: { replicas: 3 } }), { method: 'PATCH', path: '/apis/apps/v1/namespaces/default/deployments/hello/scale', contentType: 'application/merge-patch+json', body: '{"spec":{"replicas":3}}' });
  t.like(httpCallFor({ ...dep, verb: 'patch', subresource: 'scale', patchType: 'merge', body: { spec: { replicas: 2 } } }), { method: 'PATCH', path: '/apis/apps/v1/namespaces/default/deployments/hello/scale' });
  t.like(httpCallFor({ ...dep, verb: 'patch', patchType: 'apply', body: {} }), { contentType: 'application/apply-patch+yaml', path: '/apis/apps/v1/namespaces/default/deployments/hello?fieldManager=pikube-mqtt' });
  t.like(httpCallFor({ id: 'n', verb: 'delete', version: 'v1', resource: 'nodes', name: 'pi-01' }), { method: 'DELETE', path: '/api/v1/nodes/pi-01' });
  t.like(httpCallFor({ id: 'c', verb: 'create', version: 'v1', resource: 'configmaps', namespace: 'default', body: { a: 1 } }), { method: 'POST', path: '/api/v1/namespaces/default/configmaps' });
  const w = httpCallFor({ ...dep, verb: 'watch' });
  t.true(w.stream);
  t.regex(w.path, /^\/apis\/apps\/v1\/namespaces\/default\/deployments\?fieldSelector=metadata.name%3Dhello&watch=true/);
});

test('topics: a user sends on its request topic and reads its own response topics', (t) => {
  const topics = new Topics('pikube');
  t.is(topics.apiRequest('auto'), 'pikube/v1/api/request/auto');
  t.is(topics.apiResponse('auto', 's1'), 'pikube/v1/api/response/auto/s1');
  t.deepEqual(topics.parse('pikube/v1/api/response/auto/s1'), { kind: 'api-response', user: 'auto', id: 's1' });
  t.deepEqual(topics.parse('pikube/v1/api/request/auto'), { kind: 'api-request', user: 'auto' });
  t.throws(() => topics.apiResponse('auto', 'a/b'));
});

test('the rate limit refills over time; tokens stand for a user until revoked', (t) => {
  let now = 0;
  const rl = new RateLimiter(2, 3, () => now);
  t.deepEqual([rl.take('u'), rl.take('u'), rl.take('u'), rl.take('u')], [true, true, true, false]);
  t.true(rl.take('other'));
  now = 500;
  t.true(rl.take('u'));
  t.false(rl.take('u'));
  const tokens = new UserTokens();
  const token = tokens.tokenFor({ username: 'auto', groups: ['g'] });
  t.is(tokens.tokenFor({ username: 'auto', groups: ['g'] }), token);
  t.deepEqual(tokens.authenticate(token), { username: 'auto', groups: ['g'] });
  t.is(tokens.authenticate('someone-else'), undefined);
  tokens.revoke('auto');
  t.is(tokens.authenticate(token), undefined);
});
