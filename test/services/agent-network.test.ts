// Pod networking on a node: the runtime network for the pod CIDR and the routes to the
// other nodes' ranges, against a recording command runner, and routes for real inside a
// network namespace of our own.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import pino from 'pino';
import { bridgeName, parseNetworkInspect, PodNetwork, podNetworkName } from '../../agent/network/pod-network.js';
import { desiredRoutes, HostRoutes } from '../../agent/network/host-routes.js';
import { cidrContains, firstHost, parseCidr, formatCidr } from '../../agent/network/ipv4.js';
import { runCommand, isRoot, type CommandRunner } from '../../agent/network/ip-command.js';
import { ClusterNetworking } from '../../agent/network/cluster-networking.js';

const log = pino({ level: 'silent' });

function recorder(answers: (cmd: string, args: string[]) => { ok: boolean; stdout?: string; stderr?: string }): { run: CommandRunner; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    run: async (cmd, args) => {
      calls.push([cmd, ...args].join(' '));
      const a = answers(cmd, args);
      return { ok: a.ok, stdout: a.stdout ?? '', stderr: a.stderr ?? '' };
    },
  };
}

test('ipv4 helpers', (t) => {
  t.is(firstHost('10.42.3.0/24'), '10.42.3.1');
  t.is(formatCidr(parseCidr('10.42.3.7/24')), '10.42.3.0/24');
  t.true(cidrContains('10.42.0.0/16', '10.42.9.1'));
  t.false(cidrContains('10.42.0.0/16', '10.43.0.1'));
  t.throws(() => parseCidr('10.42.0.0/33'));
  t.throws(() => parseCidr('300.1.1.1/8'));
});

test('pod network: created once for the pod CIDR with our own bridge name and no runtime DNS', async (t) => {
  let exists = false;
  const { run, calls } = recorder((_cmd, args) => {
    if (args[1] === 'inspect') return exists ? { ok: true, stdout: JSON.stringify([{ name: 'x', subnets: [{ subnet: '10.42.3.0/24', gateway: '10.42.3.1' }] }]) } : { ok: false, stderr: 'no such network' };
    if (args[1] === 'create') { exists = true; return { ok: true }; }
    return { ok: false };
  });
  const net = new PodNetwork({ runtime: 'podman', nodeName: 'pi-1', run, log });
  const s = await net.ensure('10.42.3.0/24');
  t.deepEqual(s, { network: 'pikube-pi-1', gateway: '10.42.3.1', podCIDR: '10.42.3.0/24' });
  t.true(calls.includes(`podman network create --subnet 10.42.3.0/24 --gateway 10.42.3.1 --label pikube.io/node=pi-1 --interface-name ${bridgeName('pi-1')} --disable-dns pikube-pi-1`));
  t.true(bridgeName('a-very-long-node-name.example.com').length <= 15);
  t.is(podNetworkName('pi-1'), 'pikube-pi-1');
  // a new agent finds it and does not create it again
  const again = recorder((_c, args) => args[1] === 'inspect' ? { ok: true, stdout: JSON.stringify({ subnets: [{ subnet: '10.42.3.0/24', gateway: '10.42.3.1' }] }) } : { ok: false });
  t.is((await new PodNetwork({ runtime: 'podman', nodeName: 'pi-1', run: again.run, log }).ensure('10.42.3.0/24')).network, 'pikube-pi-1');
  t.false(again.calls.some((c) => c.includes('create')));
});

test('pod network: refusal falls back to the default network and its gateway', async (t) => {
  const { run } = recorder((_c, args) => {
    if (args[1] === 'inspect' && args[2] === 'podman') return { ok: true, stdout: JSON.stringify([{ subnets: [{ subnet: '10.88.0.0/16', gateway: '10.88.0.1' }] }]) };
    if (args[1] === 'create') return { ok: false, stderr: 'Error: subnet 10.42.3.0/24 is already used on the host' };
    return { ok: false, stderr: 'no such network' };
  });
  const s = await new PodNetwork({ runtime: 'podman', nodeName: 'pi-1', run, log }).ensure('10.42.3.0/24');
  t.deepEqual(s, { gateway: '10.88.0.1', podCIDR: '10.88.0.0/16' });
  t.deepEqual(parseNetworkInspect(JSON.stringify([{ IPAM: { Config: [{ Subnet: '10.4.0.0/24', Gateway: '10.4.0.1' }] } }])), { subnet: '10.4.0.0/24', gateway: '10.4.0.1' });
  t.deepEqual(await new PodNetwork({ runtime: 'simulated', nodeName: 'x', run, log }).ensure('10.42.3.0/24'), {});
});

test('pod network: a desired set right behind the one that brought the range waits for its network', async (t) => {
  // First contact had no range yet (the default network's gateway is known), then two sets
  // with the range arrive back to back while the network is still being made.
  let created = false;
  const { run } = recorder((_c, args) => {
    if (args[1] === 'inspect' && args[2] === 'podman') return { ok: true, stdout: JSON.stringify([{ subnets: [{ subnet: '10.88.0.0/16', gateway: '10.88.0.1' }] }]) };
    if (args[1] === 'inspect') return created ? { ok: true, stdout: JSON.stringify([{ subnets: [{ subnet: '10.42.3.0/24', gateway: '10.42.3.1' }] }]) } : { ok: false, stderr: 'no such network' };
    if (args[1] === 'create') { created = true; return { ok: true }; }
    return { ok: false };
  });
  const slow: CommandRunner = async (cmd, args) => { if (args[1] === 'create') await new Promise((r) => setTimeout(r, 200)); return run(cmd, args); };
  const net = new ClusterNetworking({ nodeName: 'pi-1', runtime: 'podman', proxyMode: 'off', clusterDns: false, log, run: slow });
  await net.setPodCIDR(undefined);
  t.is(net.network, undefined, 'no range: the runtime default');
  const first = net.setPodCIDR('10.42.3.0/24');
  await net.setPodCIDR('10.42.3.0/24');
  t.is(net.network, 'pikube-pi-1', 'the second set resolves only once the network exists');
  await first;
});

test('routes: one per other node via its first IPv4 address, none to ourselves', (t) => {
  const nodes = [
    { name: 'a', podCIDR: '10.42.1.0/24', addresses: ['192.168.1.11'] },
    { name: 'b', podCIDR: '10.42.2.0/24', addresses: ['pi-b', '192.168.1.12'] },
    { name: 'c', addresses: ['192.168.1.13'] },
    { name: 'd', podCIDR: '10.42.4.0/24', addresses: [] },
  ];
  t.deepEqual(desiredRoutes(nodes, 'a', '10.42.1.0/24'), [{ cidr: '10.42.2.0/24', via: '192.168.1.12', node: 'b' }]);
});

test('routes: installed, replaced, stale ones removed; not root says so', async (t) => {
  const { run, calls } = recorder(() => ({ ok: true, stdout: JSON.stringify([{ dst: '10.42.9.0/24', gateway: '192.168.1.99' }]) }));
  const routes = new HostRoutes({ nodeName: 'a', run, canChange: true, log });
  await routes.sync([{ name: 'b', podCIDR: '10.42.2.0/24', addresses: ['192.168.1.12'] }]);
  t.deepEqual(calls, [
    'ip -4 -j route show proto 77',
    'ip route del 10.42.9.0/24 proto 77',
    'ip route replace 10.42.2.0/24 via 192.168.1.12 proto 77',
  ]);
  calls.length = 0;
  await routes.sync([{ name: 'b', podCIDR: '10.42.2.0/24', addresses: ['192.168.1.12'] }]);
  t.deepEqual(calls, [], 'nothing to do when nothing changed');
  await routes.sync([]);
  t.deepEqual(calls, ['ip route del 10.42.2.0/24 proto 77']);

  const warnings: string[] = [];
  const wlog = pino({ level: 'warn' }, { write: (s: string) => { warnings.push(s); } });
  const none = recorder(() => ({ ok: false }));
  await new HostRoutes({ nodeName: 'a', run: none.run, canChange: false, log: wlog }).sync([{ name: 'b', podCIDR: '10.42.2.0/24', addresses: ['192.168.1.12'] }]);
  t.deepEqual(none.calls, []);
  t.regex(warnings.join(''), /NOT installed: the agent is not root/);
});

test('routes: real routes inside a network namespace', async (t) => {
  if (!isRoot()) { t.fail('needs root for a network namespace'); return; }
  const ns = `pkt-rt-${randomBytes(3).toString('hex')}`;
  await execa('ip', ['netns', 'add', ns]);
  t.teardown(() => execa('ip', ['netns', 'del', ns], { reject: false }));
  const inNs: CommandRunner = (cmd, args, input) => runCommand('nsenter', [`--net=/run/netns/${ns}`, cmd, ...args], input);
  await inNs('ip', ['link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'lan1']);
  await inNs('ip', ['addr', 'add', '192.168.77.1/24', 'dev', 'lan0']);
  await inNs('ip', ['link', 'set', 'lan0', 'up']);
  await inNs('ip', ['link', 'set', 'lan1', 'up']);
  const routes = new HostRoutes({ nodeName: 'a', run: inNs, canChange: true, log });
  await routes.sync([{ name: 'b', podCIDR: '10.42.2.0/24', addresses: ['192.168.77.2'] }, { name: 'c', podCIDR: '10.42.3.0/24', addresses: ['10.9.9.9'] }]);
  let table = (await inNs('ip', ['route', 'show'])).stdout;
  t.regex(table, /10\.42\.2\.0\/24 via 192\.168\.77\.2 dev lan0 proto 77/);
  t.notRegex(table, /10\.42\.3\.0/, 'an unreachable gateway cannot be routed to');
  // a new agent (restart) removes what is no longer wanted
  const restarted = new HostRoutes({ nodeName: 'a', run: inNs, canChange: true, log });
  await restarted.sync([]);
  table = (await inNs('ip', ['route', 'show'])).stdout;
  t.notRegex(table, /10\.42\.2\.0/);
});
