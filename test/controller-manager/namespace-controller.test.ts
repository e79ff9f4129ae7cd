import test from 'ava';
import { R } from '../../controller/apiserver/client.js';
import type { Namespace } from '../../protocol/kube/types.js';
import { podTemplate, startClusterWithControllers, waitFor } from './util.js';

test('deleting a namespace empties it and then removes it', async (t) => {
  const c = await startClusterWithControllers();
  try {
    await c.client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
    await c.client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'team' }, data: { a: '1' } });
    await c.client.create(R.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'team' }, stringData: { a: '1' } });
    await c.client.create(R.deployments, {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'app', namespace: 'team' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'app' } }, template: podTemplate({ app: 'app' }) },
    });
    await waitFor('pods', () => c.client.list(R.pods, { namespace: 'team' }).items.length === 2);
    await waitFor('default SA', () => c.client.get(R.serviceaccounts, 'team', 'default'));

    await c.client.delete(R.namespaces, undefined, 'team');
    const terminating = c.client.get<Namespace>(R.namespaces, undefined, 'team');
    t.is(terminating?.status?.phase, 'Terminating');
    await waitFor('namespace gone', () => !c.client.get(R.namespaces, undefined, 'team'));
    for (const ref of [R.pods, R.configmaps, R.secrets, R.deployments, R.replicasets, R.serviceaccounts]) {
      t.is(c.client.list(ref, { namespace: 'team' }).items.length, 0, ref.resource);
    }
  } finally {
    await c.close();
  }
});

test('the built-in namespaces cannot be deleted', async (t) => {
  const c = await startClusterWithControllers();
  try {
    for (const name of ['default', 'kube-system', 'kube-public']) {
      await t.throwsAsync(c.client.delete(R.namespaces, undefined, name));
      t.falsy(c.client.get(R.namespaces, undefined, name)?.metadata.deletionTimestamp);
    }
  } finally {
    await c.close();
  }
});
