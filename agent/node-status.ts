// What a node reports about itself every heartbeat. Runs on a Pi every few seconds, so
// static facts (OS, kernel, ids) are read once, and each heartbeat costs a few /proc
// reads and a statfs: no child processes.
import { ARCH_VARIANT_LABEL, nodePlatform } from './node-platform.js';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, networkInterfaces, hostname as osHostname } from 'node:os';
import { readFile, statfs } from 'node:fs/promises';
import si from 'systeminformation';
import type { NodeAddress, NodeStatusPayload } from '../protocol/mqtt/payloads.js';

export type NodeStatusReading = Omit<NodeStatusPayload, 'pods'>;

export interface RuntimeVersion { name: string; version: string }

export interface NodeStatusOptions {
  /** Pods the node accepts. Default 110 (as the kubelet). */
  maxPods?: number;
  agentVersion?: string;
  /** Name to report instead of the host name. */
  hostname?: string;
  /** Filesystem that holds images and containers. Default `/`. */
  storagePath?: string;
  /** Memory pressure below this many available bytes. Default 100 MiB (kubelet: memory.available<100Mi). */
  memoryAvailableMinBytes?: number;
  /** Disk pressure below this free fraction. Default 0.10 (kubelet: nodefs.available<10%). */
  diskAvailableMinFraction?: number;
  /** PID pressure above this fraction of pid_max in use. Default 0.9. */
  pidMaxFraction?: number;
  /** Memory kept for the system and the agent, not offered to pods. Default 0. */
  reservedMemoryBytes?: number;
  proxyMode?: NodeStatusPayload['proxyMode'];
}

/** Node's `arch` names mapped to Go's (what kubernetes.io/arch uses). */
export function goArch(nodeArch: string): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return map[nodeArch] ?? nodeArch;
}

/** Go's name for the operating system (kubernetes.io/os). */
const GO_OS = process.platform === 'win32' ? 'windows' : process.platform;

/** The agent's start time: a change tells the controller the agent restarted. */
const AGENT_START = new Date(Date.now() - Math.round(process.uptime() * 1000)).toISOString();

interface StaticFacts {
  osImage: string;
  kernelVersion: string;
  architecture: string;
  hostname: string;
  machineID?: string;
  systemUUID?: string;
  bootID?: string;
  hasTemperature: boolean;
  pidMax: number;
}

let facts: Promise<StaticFacts> | undefined;

async function readTrimmed(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim() || undefined;
  } catch {
    return undefined;
  }
}

async function loadStaticFacts(): Promise<StaticFacts> {
  const [os, temp, machineID, bootID, pidMax] = await Promise.all([
    si.osInfo(),
    si.cpuTemperature().catch(() => undefined),
    readTrimmed('/etc/machine-id'),
    readTrimmed('/proc/sys/kernel/random/boot_id'),
    readTrimmed('/proc/sys/kernel/pid_max'),
  ]);
  const osImage = [os.distro, os.release, os.codename ? `(${os.codename})` : ''].filter(Boolean).join(' ');
  return {
    osImage: osImage || os.platform,
    kernelVersion: os.kernel,
    architecture: goArch(process.arch),
    hostname: os.hostname || osHostname(),
    machineID,
    systemUUID: os.serial || undefined,
    bootID,
    hasTemperature: typeof temp?.main === 'number',
    pidMax: Number(pidMax) || 32768,
  };
}

// Bridges made by container runtimes and VPNs are not where other nodes reach us.
const VIRTUAL_INTERFACE = /^(lo|docker|cni|podman|veth|br-|nerdctl|flannel|cilium|virbr|kube|tun|tap|wg|pk-|pks-|pikube)/;

/** Non-internal IPv4 addresses as InternalIP (physical interfaces first), then the host name. */
export function nodeAddresses(hostname: string, routeTable = readRouteTable()): NodeAddress[] {
  // Like the kubelet, report the address other boards reach us on: the one on the
  // interface of the default route. Bridges, veths and dummies that containers and the
  // proxy add come and go; reporting them would rewrite the Node on every change.
  const defaultIfaces = routeTable.filter((r) => r.destination === '00000000').map((r) => r.iface);
  const interfaces = networkInterfaces();
  for (const name of defaultIfaces) {
    const a = (interfaces[name] ?? []).find((x) => x.family === 'IPv4' && !x.internal);
    if (a) return [{ type: 'InternalIP', address: a.address }, { type: 'Hostname', address: hostname }];
  }
  const ips: NodeAddress[] = [];
  const virtual: NodeAddress[] = [];
  for (const [name, addrs] of Object.entries(interfaces)) {
    for (const a of addrs ?? []) {
      if (a.family !== 'IPv4' || a.internal) continue;
      (VIRTUAL_INTERFACE.test(name) ? virtual : ips).push({ type: 'InternalIP', address: a.address });
    }
  }
  const list = ips.length > 0 ? ips : virtual;
  return [...list, { type: 'Hostname', address: hostname }];
}

/** IPv4 routes from /proc/net/route (empty where it cannot be read). */
export function readRouteTable(): { iface: string; destination: string }[] {
  try {
    return readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f.length > 2)
      .map((f) => ({ iface: f[0]!, destination: f[1]! }));
  } catch {
    return [];
  }
}

/** `running/total` threads from /proc/loadavg: the cheapest count of what uses pids. */
async function threadsInUse(): Promise<number | undefined> {
  const text = await readTrimmed('/proc/loadavg');
  const total = text?.split(/\s+/)[3]?.split('/')[1];
  return total ? Number(total) : undefined;
}

/**
 * Busy fraction of all CPUs since the previous reading, from the kernel's counters as
 * os.cpus() reports them. (systeminformation's currentLoad spawns `cat /proc/stat | grep`
 * synchronously on every call: too costly for a Pi's heartbeat.) Readings less than a
 * second apart reuse the last value: a tiny interval is mostly noise.
 */
let lastCpu: { at: number; busy: number; total: number; fraction: number } | undefined;
function cpuBusyFraction(): number {
  const now = Date.now();
  if (lastCpu && now - lastCpu.at < 1000) return lastCpu.fraction;
  let busy = 0, total = 0;
  for (const { times: t } of cpus()) {
    busy += t.user + t.nice + t.sys + t.irq;
    total += t.user + t.nice + t.sys + t.irq + t.idle;
  }
  // The first reading has no interval: the average since boot stands in.
  const dBusy = lastCpu ? busy - lastCpu.busy : busy;
  const dTotal = lastCpu ? total - lastCpu.total : total;
  const fraction = dTotal > 0 ? Math.min(1, Math.max(0, dBusy / dTotal)) : (lastCpu?.fraction ?? 0);
  lastCpu = { at: now, busy, total, fraction };
  return fraction;
}

// A temperature read shells out in systeminformation: do it at most this often.
const TEMPERATURE_EVERY_MS = 30_000;
let lastTemperature: { at: number; value?: number } | undefined;

async function temperature(): Promise<number | undefined> {
  const now = Date.now();
  if (lastTemperature && now - lastTemperature.at < TEMPERATURE_EVERY_MS) return lastTemperature.value;
  const t = await si.cpuTemperature().catch(() => undefined);
  lastTemperature = { at: now, value: typeof t?.main === 'number' ? Math.round(t.main * 10) / 10 : undefined };
  return lastTemperature.value;
}

/**
 * Simulation knob for the simulated runtime only: `PIKUBE_SIMULATED_USAGE=CPU,MEM`, each a
 * fraction of capacity between 0 and 1 (e.g. `0.9,0.8`), replaces the measured usage, so
 * that many simulated nodes on one machine can report different loads (tests, benchmarks).
 */
export const SIMULATED_USAGE_ENV = 'PIKUBE_SIMULATED_USAGE';

export function parseSimulatedUsage(text: string): { cpu: number; memory: number } {
  const parts = text.split(',').map((p) => p.trim());
  const nums = parts.map(Number);
  if (parts.length !== 2 || parts.some((p) => p === '') || nums.some((n) => !Number.isFinite(n) || n < 0 || n > 1)) {
    throw new Error(`${SIMULATED_USAGE_ENV}="${text}" must be CPU,MEM: two fractions of capacity between 0 and 1, e.g. 0.9,0.8`);
  }
  return { cpu: nums[0]!, memory: nums[1]! };
}

function simulatedUsage(measured: { cpuCores: number; memoryBytes: number }, capacity: { cpuCores: number; memoryBytes: number }): { cpuCores: number; memoryBytes: number } {
  const text = process.env[SIMULATED_USAGE_ENV];
  if (!text) return measured;
  const u = parseSimulatedUsage(text);
  return { cpuCores: Math.round(u.cpu * capacity.cpuCores * 1000) / 1000, memoryBytes: Math.round(u.memory * capacity.memoryBytes) };
}

/** Reads the node's real capacity, usage and facts (everything of the status payload but per-pod usage). */
export async function readNodeStatus(runtimeVersion: RuntimeVersion, opts: NodeStatusOptions = {}): Promise<NodeStatusReading> {
  facts ??= loadStaticFacts().catch((err) => { facts = undefined; throw err; });
  const f = await facts;
  const cores = availableParallelism();
  const storagePath = opts.storagePath ?? '/';
  const [mem, fs, threads, temp] = await Promise.all([
    si.mem(),
    statfs(storagePath).catch(() => undefined),
    threadsInUse(),
    f.hasTemperature ? temperature() : Promise.resolve(undefined),
  ]);

  const maxPods = opts.maxPods ?? 110;
  const storageBytes = fs ? fs.blocks * fs.bsize : undefined;
  const memoryAvailable = mem.available;
  const hostname = opts.hostname ?? f.hostname;
  const capacity = { cpuCores: cores, memoryBytes: mem.total, pods: maxPods, ...(storageBytes !== undefined ? { ephemeralStorageBytes: storageBytes } : {}) };
  const allocatable = { ...capacity, memoryBytes: Math.max(0, mem.total - (opts.reservedMemoryBytes ?? 0)) };

  const measured = {
    cpuCores: Math.round(cpuBusyFraction() * cores * 1000) / 1000,
    memoryBytes: Math.max(0, mem.total - memoryAvailable),
  };
  const platform = nodePlatform(f.architecture, runtimeVersion.name === 'simulated');
  const reading: NodeStatusReading = {
    time: new Date().toISOString(),
    bootTime: AGENT_START,
    capacity,
    allocatable,
    usage: runtimeVersion.name === 'simulated' ? simulatedUsage(measured, capacity) : measured,
    pressure: {
      memory: memoryAvailable < (opts.memoryAvailableMinBytes ?? 100 * 1024 * 1024),
      disk: fs ? fs.bavail / Math.max(1, fs.blocks) < (opts.diskAvailableMinFraction ?? 0.1) : false,
      pid: threads !== undefined ? threads > f.pidMax * (opts.pidMaxFraction ?? 0.9) : false,
    },
    nodeInfo: {
      osImage: f.osImage,
      kernelVersion: f.kernelVersion,
      architecture: platform.architecture,
      operatingSystem: GO_OS,
      containerRuntimeVersion: `${runtimeVersion.name}://${runtimeVersion.version}`,
      ...(f.machineID ? { machineID: f.machineID } : {}),
      ...(f.systemUUID ? { systemUUID: f.systemUUID } : {}),
      ...(f.bootID ? { bootID: f.bootID } : {}),
      agentVersion: opts.agentVersion ?? '0.1.0',
    },
    addresses: nodeAddresses(hostname),
    labels: {
      'kubernetes.io/arch': platform.architecture,
      ...(platform.variant ? { [ARCH_VARIANT_LABEL]: platform.variant } : {}),
      'kubernetes.io/os': GO_OS,
      'kubernetes.io/hostname': hostname,
    },
  };
  if (temp !== undefined) reading.temperatureC = temp;
  if (opts.proxyMode) reading.proxyMode = opts.proxyMode;
  return reading;
}
