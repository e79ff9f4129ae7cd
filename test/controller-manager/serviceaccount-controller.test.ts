import test from 'ava';
import { R } from '../../controller/apiserver/client.js';
import { startClusterWithControllers, waitFor } from './util.js';

test('every namespace gets a default ServiceAccount, recreated when deleted', async (t) => {
  const c = await startClusterWithControllers();
  try {
    for (const ns of ['default', 'kube-system', 'kube-public']) await waitFor(`default SA in ${ns}`, () => c.client.get(R.serviceaccounts, ns, 'default'));
    await c.client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fresh' } });
    const first = await waitFor('default SA in fresh', () => c.client.get(R.serviceaccounts, 'fresh', 'default'));
    await c.client.delete(R.serviceaccounts, 'fresh', 'default');
    const again = await waitFor('recreated', () => {
      const sa = c.client.get(R.serviceaccounts, 'fresh', 'default');
      return sa && sa.metadata.uid !== first.metadata.uid && sa;
    });
    t.not(again.metadata.uid, first.metadata.uid);
    // Other accounts are left alone.
    await c.client.create(R.serviceaccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'builder', namespace: 'fresh' } });
    await c.client.delete(R.serviceaccounts, 'fresh', 'builder');
    await new Promise((r) => setTimeout(r, 200));
    t.falsy(c.client.get(R.serviceaccounts, 'fresh', 'builder'));
  } finally {
    await c.close();
  }
});
