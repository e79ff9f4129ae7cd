// What a node reports about itself every heartbeat. Runs on a Pi every few seconds, so
// static facts (OS, kernel, ids) are read once, and each heartbeat costs a few /proc
// reads and a statfs: no child processes.
import { availableParallelism, networkInterfaces, hostname as osHostname } from 'node:os';
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
const VIRTUAL_INTERFACE = /^(lo|docker|cni|podman|veth|br-|nerdctl|flannel|cilium|virbr|kube|tun|tap|wg)/;

/** Non-internal IPv4 addresses as InternalIP (physical interfaces first), then the host name. */
export function nodeAddresses(hostname: string): NodeAddress[] {
  const ips: NodeAddress[] = [];
  const virtual: NodeAddress[] = [];
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family !== 'IPv4' || a.internal) continue;
      (VIRTUAL_INTERFACE.test(name) ? virtual : ips).push({ type: 'InternalIP', address: a.address });
    }
  }
  const list = ips.length > 0 ? ips : virtual;
  return [...list, { type: 'Hostname', address: hostname }];
}

/** `running/total` threads from /proc/loadavg: the cheapest count of what uses pids. */
async function threadsInUse(): Promise<number | undefined> {
  const text = await readTrimmed('/proc/loadavg');
  const total = text?.split(/\s+/)[3]?.split('/')[1];
  return total ? Number(total) : undefined;
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

/** Reads the node's real capacity, usage and facts (everything of the status payload but per-pod usage). */
export async function readNodeStatus(runtimeVersion: RuntimeVersion, opts: NodeStatusOptions = {}): Promise<NodeStatusReading> {
  facts ??= loadStaticFacts().catch((err) => { facts = undefined; throw err; });
  const f = await facts;
  const cores = availableParallelism();
  const storagePath = opts.storagePath ?? '/';
  const [mem, load, fs, threads, temp] = await Promise.all([
    si.mem(),
    si.currentLoad(),
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

  const reading: NodeStatusReading = {
    time: new Date().toISOString(),
    bootTime: AGENT_START,
    capacity,
    allocatable,
    usage: {
      cpuCores: Math.round((Math.max(0, load.currentLoad) / 100) * cores * 1000) / 1000,
      memoryBytes: Math.max(0, mem.total - memoryAvailable),
    },
    pressure: {
      memory: memoryAvailable < (opts.memoryAvailableMinBytes ?? 100 * 1024 * 1024),
      disk: fs ? fs.bavail / Math.max(1, fs.blocks) < (opts.diskAvailableMinFraction ?? 0.1) : false,
      pid: threads !== undefined ? threads > f.pidMax * (opts.pidMaxFraction ?? 0.9) : false,
    },
    nodeInfo: {
      osImage: f.osImage,
      kernelVersion: f.kernelVersion,
      architecture: f.architecture,
      operatingSystem: GO_OS,
      containerRuntimeVersion: `${runtimeVersion.name}://${runtimeVersion.version}`,
      ...(f.machineID ? { machineID: f.machineID } : {}),
      ...(f.systemUUID ? { systemUUID: f.systemUUID } : {}),
      ...(f.bootID ? { bootID: f.bootID } : {}),
      agentVersion: opts.agentVersion ?? '0.1.0',
    },
    addresses: nodeAddresses(hostname),
    labels: {
      'kubernetes.io/arch': f.architecture,
      'kubernetes.io/os': GO_OS,
      'kubernetes.io/hostname': hostname,
    },
  };
  if (temp !== undefined) reading.temperatureC = temp;
  if (opts.proxyMode) reading.proxyMode = opts.proxyMode;
  return reading;
}
