// A ClusterIP that `lo` already holds under another agent's label: one `ip` call, an info
// line, then no retry every resync until five minutes passed; never deleted by this agent.
import test from 'ava';
import pino from 'pino';
import { ClusterIpInterface } from '../../agent/proxy/cluster-ip-interface.js';

test('an address another agent holds on lo is tried again only after five minutes, and never removed', async (t) => {
  const calls: string[] = [];
  let now = 0;
  const run = async (cmd: string, args: string[]) => {
    calls.push(`${cmd} ${args.join(' ')}`);
    if (args[0] === 'link' && args[1] === 'add') return { ok: false, stdout: '', stderr: 'Error: Unknown device type.' };
    if (args.includes('show')) return { ok: true, stdout: '[]', stderr: '' };
    if (args[0] === 'addr' && args[1] === 'add' && args[2] === '10.43.0.1/32') return { ok: false, stdout: '', stderr: 'Error: ipv4: Address already assigned.' };
    return { ok: true, stdout: '', stderr: '' };
  };
  const iface = new ClusterIpInterface({ log: pino({ level: 'silent' }), run, canChange: true, name: 'pikube-svc-a', now: () => now });
  t.deepEqual([...await iface.sync(['10.43.0.1', '10.43.0.10'])], ['10.43.0.10']);
  const adds = () => calls.filter((c) => c.startsWith('ip addr add 10.43.0.1/')).length;
  t.is(adds(), 1);
  now += 30_000;
  await iface.sync(['10.43.0.1', '10.43.0.10']);
  t.is(adds(), 1, 'not tried again at the next resync');
  now += 5 * 60_000;
  await iface.sync(['10.43.0.1', '10.43.0.10']);
  t.is(adds(), 2, 'tried again after five minutes');
  await iface.sync(['10.43.0.10']);
  await iface.remove();
  t.false(calls.some((c) => c.startsWith('ip addr del 10.43.0.1/')), 'never removed');
  t.true(calls.includes('ip addr del 10.43.0.10/32 dev lo'));
});
