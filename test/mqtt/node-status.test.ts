import test from 'ava';
import { readFile, statfs } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { goArch, nodeAddresses, readNodeStatus } from '../../agent/node-status.js';
import { parseNodeStatus } from '../../protocol/mqtt/validate.js';

test('reads the real machine: cores, MemTotal, usage, OS image, arch labels', async (t) => {
  const s = await readNodeStatus({ name: 'podman', version: '4.3.1' }, { agentVersion: '9.9.9' });
  t.is(s.capacity.cpuCores, availableParallelism());
  const memTotalKb = Number(/MemTotal:\s+(\d+) kB/.exec(await readFile('/proc/meminfo', 'utf8'))![1]);
  t.is(s.capacity.memoryBytes, memTotalKb * 1024);
  t.is(s.capacity.pods, 110);
  t.true(s.usage.memoryBytes > 0 && s.usage.memoryBytes < s.capacity.memoryBytes);
  t.true(s.usage.cpuCores >= 0 && s.usage.cpuCores <= s.capacity.cpuCores);
  t.true((s.capacity.ephemeralStorageBytes ?? 0) > 0);
  const pretty = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(await readFile('/etc/os-release', 'utf8'))?.[1];
  if (pretty?.startsWith('Debian')) t.is(s.nodeInfo.osImage, pretty);
  t.is(s.nodeInfo.kernelVersion, (await readFile('/proc/sys/kernel/osrelease', 'utf8')).trim());
  t.is(s.nodeInfo.architecture, goArch(process.arch));
  t.is(s.nodeInfo.containerRuntimeVersion, 'podman://4.3.1');
  t.is(s.nodeInfo.agentVersion, '9.9.9');
  t.is(s.labels['kubernetes.io/arch'], s.nodeInfo.architecture);
  t.is(s.labels['kubernetes.io/os'], 'linux');
  t.is(s.labels['kubernetes.io/hostname'], s.addresses.at(-1)!.address);
  t.is(s.addresses.at(-1)!.type, 'Hostname');
  const meminfo = await readFile('/proc/meminfo', 'utf8');
  const availableKb = Number(/MemAvailable:\s+(\d+) kB/.exec(meminfo)![1]);
  t.is(s.pressure.memory, availableKb * 1024 < 100 * 1024 * 1024);
  const fs = await statfs('/');
  t.is(s.pressure.disk, fs.bavail / fs.blocks < 0.1);
  t.is(s.capacity.ephemeralStorageBytes, fs.blocks * fs.bsize);
  t.false(s.pressure.pid);
  // The reading plus per-pod usage is a valid status payload.
  t.notThrows(() => parseNodeStatus(Buffer.from(JSON.stringify({ ...s, pods: [] }))));
});

test('later readings are cheap and keep static facts', async (t) => {
  const first = await readNodeStatus({ name: 'nerdctl', version: '2.0.0' });
  const started = process.hrtime.bigint();
  const second = await readNodeStatus({ name: 'nerdctl', version: '2.0.0' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  t.true(ms < 250, `second reading took ${ms} ms`);
  t.is(second.bootTime, first.bootTime);
  t.is(second.nodeInfo.osImage, first.nodeInfo.osImage);
});

test('thresholds turn into pressure, options into allocatable and hostname', async (t) => {
  const s = await readNodeStatus({ name: 'podman', version: '1' }, {
    memoryAvailableMinBytes: Number.MAX_SAFE_INTEGER, diskAvailableMinFraction: 1.01, pidMaxFraction: 0,
    reservedMemoryBytes: 1024, maxPods: 20, hostname: 'pi-override', proxyMode: 'userspace',
  });
  t.deepEqual(s.pressure, { memory: true, disk: true, pid: true });
  t.is(s.allocatable.memoryBytes, s.capacity.memoryBytes - 1024);
  t.is(s.allocatable.pods, 20);
  t.is(s.labels['kubernetes.io/hostname'], 'pi-override');
  t.is(s.proxyMode, 'userspace');
});

test('arch names follow Go', (t) => {
  t.is(goArch('x64'), 'amd64');
  t.is(goArch('arm64'), 'arm64');
  t.is(goArch('arm'), 'arm');
});

test('addresses list non-internal IPv4 then the hostname', (t) => {
  const list = nodeAddresses('h');
  t.deepEqual(list.at(-1), { type: 'Hostname', address: 'h' });
  for (const a of list.slice(0, -1)) {
    t.is(a.type, 'InternalIP');
    t.regex(a.address, /^\d+\.\d+\.\d+\.\d+$/);
    t.false(a.address.startsWith('127.'));
  }
});
