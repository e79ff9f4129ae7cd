// The TopicBinding loop runs under its own user, system:pikube-topicbinding-controller:
// it does its whole job (finalizer, node taint on and off, status, events) with no request
// refused, and cannot read a Secret or delete a node. Real store, RBAC authorizer and
// bootstrap policy; the broker is replaced by a subscribe that hands messages over.
import test from 'ava';
import type { KubeObject, Node } from '../../protocol/kube/types.js';
import type { MessageHandler } from '../../protocol/mqtt/link.js';
import { R } from '../../controller/apiserver/client.js';
import { ApiError } from '../../controller/apiserver/errors.js';
import { CrdController } from '../../controller/apiserver/crd/crd-controller.js';
import { CustomResourceRegistry } from '../../controller/apiserver/crd/registry.js';
import { LocalClient } from '../../controller/apiserver/local-client.js';
import { ensureBootstrapRbac } from '../../controller/auth/bootstrap-rbac.js';
import { AuthorizedClient, TOPIC_BINDING_CONTROLLER_USER } from '../../controller/auth/component-identities.js';
import { RbacAuthorizer } from '../../controller/auth/rbac-authorizer.js';
import { EventRecorder } from '../../controller/client/event-recorder.js';
import { SharedInformers } from '../../controller/client/shared-informers.js';
import { ensureTopicBindingCrd } from '../../controller/topicbindings/install.js';
import { TopicBindingController } from '../../controller/topicbindings/topic-binding-controller.js';
import { TOPIC_BINDING_REF, type TopicBinding } from '../../controller/topicbindings/topic-binding-types.js';
import { startTestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

const silent = { warn: () => {}, info: () => {}, debug: () => {}, error: () => {}, child: () => silent } as never;

test('the TopicBinding loop does its job as its own user and no more', async (t) => {
  const c = await startTestCluster();
  await ensureBootstrapRbac(c.core);
  new CustomResourceRegistry(c.store).install();
  const crds = new CrdController(c.core, silent);
  crds.start();
  await ensureTopicBindingCrd(c.client);
  const authorizer = new RbacAuthorizer(c.core);
  const refused: object[] = [];
  const client = new AuthorizedClient({
    client: new LocalClient(c.core, TOPIC_BINDING_CONTROLLER_USER), user: TOPIC_BINDING_CONTROLLER_USER,
    authorize: (a) => authorizer.authorize(a).allowed, log: { warn: (o) => refused.push(o) },
  });
  const handlers = new Map<string, MessageHandler>();
  const link = { subscribe: async (topic: string, h: MessageHandler) => { handlers.set(topic, h); return async () => { handlers.delete(topic); }; } };
  // the caches are the controller manager's (here the admin's): only the loop's own calls are this user's
  const informers = new SharedInformers(c.client);
  const loop = new TopicBindingController({
    client, informers, link, baseTopic: 'pikube', log: silent,
    recorder: new EventRecorder(client, { component: 'topicbinding-controller' }, silent),
  });
  t.teardown(async () => { loop.stop(); informers.stop(); authorizer.stop(); crds.stop(); await c.stop(); });

  await c.client.create(R.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'pi-01', labels: { power: 'ups' } } } as Node);
  await waitFor('the TopicBinding resource served', () => { try { return c.client.list(TOPIC_BINDING_REF) && true; } catch { return false; } }, 5000);
  await c.client.create(TOPIC_BINDING_REF, {
    apiVersion: 'pikube.io/v1', kind: 'TopicBinding', metadata: { name: 'on-battery' },
    spec: { topic: 'home/ups/on_battery', when: { equals: 'true' }, nodeSelector: { power: 'ups' }, taint: { key: 'pikube.io/on-battery', effect: 'NoSchedule' } },
  } as KubeObject);
  loop.start();
  const taints = () => c.client.get<Node>(R.nodes, undefined, 'pi-01')!.spec?.taints ?? [];
  const publish = async (value: string) => (await waitFor('the subscription', () => handlers.get('home/ups/on_battery'), 5000))('home/ups/on_battery', Buffer.from(value), {} as never);
  await publish('true');
  await waitFor('the taint on', () => taints().some((x) => x.key === 'pikube.io/on-battery'), 5000);
  await waitFor('the status', () => c.client.get<TopicBinding>(TOPIC_BINDING_REF, undefined, 'on-battery')!.status?.active === true, 5000);
  await publish('false');
  await waitFor('the taint off', () => !taints().some((x) => x.key === 'pikube.io/on-battery'), 5000);
  await waitFor('the Deactivated event', () => c.client.list(R.events, { namespace: 'default' }).items.some((e) => (e as { reason?: string }).reason === 'Deactivated'), 5000);
  t.deepEqual(refused, [], 'nothing the loop does is refused');

  // and nothing beyond it
  for (const attempt of [
    () => client.list(R.secrets, { namespace: 'kube-system' }),
    () => client.delete(R.nodes, undefined, 'pi-01'),
    () => client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'default' } } as KubeObject),
  ]) {
    const err = await t.throwsAsync(async () => attempt());
    t.true(err instanceof ApiError && err.code === 403, String(err));
  }
  t.is(refused.length, 3);
});
