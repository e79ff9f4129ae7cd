// The scheduler: watches pods and nodes, places each pending pod on the best node that
// can take it, and binds. Decisions are synchronous against an incremental cache; binds
// run in the background, with the pod "assumed" on its node meanwhile, so a burst of
// pods is placed at the speed of the decision, not of the store's durable writes.
import { pino, type Logger } from 'pino';
import type { Node, Pod, PodCondition } from '../../protocol/kube/types.js';
import { R, type ClusterClient } from '../apiserver/client.js';
import type { NodeTelemetry } from '../client/node-telemetry.js';
import { isConflict, isNotFound } from '../client/api-errors.js';
import type { ControlLoop } from '../client/control-loop.js';
import { EventRecorder } from '../client/event-recorder.js';
import { objectKey, type Informer } from '../client/informer.js';
import { SharedInformers } from '../client/shared-informers.js';
import { filterNode, type FilterFailure } from './filters.js';
import type { ImagePlatforms } from '../images/image-platforms.js';
import { fitErrorMessage } from './fit-error.js';
import type { NodeInfo } from './node-info.js';
import { allocatableOf, readyStatusOf } from './node-info.js';
import { isPodFinished } from './pod-requests.js';
import { podProfile } from './pod-profile.js';
import { SchedulerCache } from './scheduler-cache.js';
import { SchedulingQueue, type SchedulingQueueOptions } from './scheduling-queue.js';
import { DEFAULT_SCORE_WEIGHTS, scoreNodes, type ScoreWeights } from './scores.js';
import { pickBest } from './tie-break.js';
import { VolumeBinding, type PodVolumes } from './volume-binding.js';
import { prefilterMessage } from './fit-error.js';
import { rfc3339Seconds } from '../../protocol/kube/time.js';

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

export interface SchedulerOptions {
  client: ClusterClient;
  telemetry: NodeTelemetry;
  log?: Logger;
  recorder?: EventRecorder;
  /** Shared caches; without them the scheduler makes (and stops) its own. */
  informers?: SharedInformers;
  /** Pods naming another spec.schedulerName are left alone. */
  schedulerName?: string;
  weights?: Partial<ScoreWeights>;
  queue?: SchedulingQueueOptions;
  /** Longest stretch of scheduling before yielding to I/O, in ms. */
  sliceMs?: number;
  /** Told how long each attempt took (decision, plus the bind when there is one), for metrics. */
  onAttempt?: (result: 'scheduled' | 'unschedulable' | 'error', seconds: number) => void;
  /** Platforms of pods' images, to keep pods off boards that cannot run them. */
  imagePlatforms?: ImagePlatforms;
}

/** What the scheduler has done, for metrics and tests. */
export interface SchedulerStats { scheduled: number; unschedulable: number; bindErrors: number; bindsInFlight: number }

/** The parts of a node that can change a scheduling decision. */
function nodeFingerprint(node: Node): string {
  const a = allocatableOf(node);
  return JSON.stringify([node.metadata.labels ?? {}, node.spec?.taints ?? [], node.spec?.unschedulable === true, readyStatusOf(node), a.milliCpu, a.memory, a.pods, [...a.scalar]]);
}

export class Scheduler implements ControlLoop {
  readonly name = 'scheduler';
  readonly stats: SchedulerStats = { scheduled: 0, unschedulable: 0, bindErrors: 0, bindsInFlight: 0 };

  private readonly client: ClusterClient;
  private readonly telemetry: NodeTelemetry;
  private readonly log: Logger;
  private readonly recorder: EventRecorder;
  private readonly informers: SharedInformers;
  private readonly ownsInformers: boolean;
  private readonly schedulerName: string;
  private readonly weights: ScoreWeights;
  private readonly sliceMs: number;
  private readonly onAttempt: SchedulerOptions['onAttempt'];
  private readonly cache = new SchedulerCache();
  private readonly queue: SchedulingQueue;
  private readonly onlineSeen = new Map<string, boolean>();
  private readonly fingerprints = new Map<string, string>();
  private pods?: Informer<Pod>;
  private volumeBinding?: VolumeBinding;
  private nodes?: Informer<Node>;
  private running = false;
  private pumpPending = false;
  private idleWaiters: (() => void)[] = [];
  private readonly imagePlatforms: ImagePlatforms | undefined;
  /** Pods set aside until their images' platforms are read, with the images. */
  private readonly awaitingImages = new Map<string, string[]>();

  constructor(opts: SchedulerOptions) {
    this.client = opts.client;
    this.telemetry = opts.telemetry;
    this.log = (opts.log ?? pino({ level: 'silent' })).child({ component: 'scheduler' });
    this.recorder = opts.recorder ?? new EventRecorder(opts.client, { component: DEFAULT_SCHEDULER_NAME }, this.log);
    this.ownsInformers = !opts.informers;
    this.informers = opts.informers ?? new SharedInformers(opts.client);
    this.schedulerName = opts.schedulerName ?? DEFAULT_SCHEDULER_NAME;
    this.weights = { ...DEFAULT_SCORE_WEIGHTS, ...(opts.weights ?? {}) };
    this.sliceMs = opts.sliceMs ?? 20;
    this.onAttempt = opts.onAttempt;
    this.queue = new SchedulingQueue(() => this.kick(), opts.queue);
    this.imagePlatforms = opts.imagePlatforms;
    this.imagePlatforms?.onSettled((image) => {
      if (!this.running) return;
      for (const [key, images] of [...this.awaitingImages]) {
        if (!images.includes(image)) continue;
        this.awaitingImages.delete(key);
        this.queue.add(key);
      }
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.nodes = this.informers.get<Node>(R.nodes);
    this.pods = this.informers.get<Pod>(R.pods);
    this.nodes.on((type, node, old) => { if (this.running) this.onNode(type, node, old); });
    this.pods.on((type, pod, old) => { if (this.running) this.onPod(type, pod, old); });
    this.telemetry.on('change', this.onTelemetry);
    this.nodes.start();
    this.pods.start();
    // Claims being bound or volumes appearing can make an unschedulable pod fit.
    this.volumeBinding = new VolumeBinding(this.informers, this.client);
    this.volumeBinding.start(() => { if (this.running) this.queue.moveAllUnschedulable(); });
    // A shared informer may have been started before our handlers were attached; the
    // handlers are idempotent, so replaying the caches is safe either way.
    for (const n of this.nodes.list()) this.onNode('ADDED', n);
    for (const p of this.pods.list()) this.onPod('ADDED', p);
    for (const name of this.telemetry.names()) this.onlineSeen.set(name, this.telemetry.get(name)?.online === true);
  }

  stop(): void {
    this.running = false;
    this.telemetry.off('change', this.onTelemetry);
    this.queue.stop();
    if (this.ownsInformers) this.informers.stop();
    this.resolveIdle();
  }

  /** Resolves once no pod is waiting to be tried and no bind is in flight. */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return !this.running || (this.queue.length === 0 && this.awaitingImages.size === 0 && this.stats.bindsInFlight === 0 && !this.pumpPending);
  }

  private resolveIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  // ---- informer and telemetry events ----

  private onNode(type: 'ADDED' | 'MODIFIED' | 'DELETED', node: Node, _old?: Node): void {
    const name = node.metadata.name!;
    if (type === 'DELETED') {
      this.cache.removeNode(name);
      this.fingerprints.delete(name);
      return;
    }
    this.cache.setNode(node);
    const fp = nodeFingerprint(node);
    if (this.fingerprints.get(name) !== fp) {
      this.fingerprints.set(name, fp);
      this.queue.moveAllUnschedulable();
    }
  }

  private onPod(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: Pod, old?: Pod): void {
    const key = objectKey(pod);
    this.awaitingImages.delete(key);
    if (type === 'DELETED') {
      const held = this.cache.has(key);
      this.cache.remove(key);
      this.queue.delete(key);
      if (held) this.queue.moveAllUnschedulable();
      return;
    }
    if (pod.spec?.nodeName) {
      this.queue.delete(key);
      if (isPodFinished(pod)) {
        if (this.cache.has(key)) {
          this.cache.remove(key);
          this.queue.moveAllUnschedulable();
        }
      } else {
        this.cache.upsertBound(key, pod);
      }
      return;
    }
    if (this.cache.isAssumed(key)) return; // our bind is on its way
    if (pod.metadata.deletionTimestamp || (pod.spec?.schedulerName || DEFAULT_SCHEDULER_NAME) !== this.schedulerName) {
      this.queue.delete(key);
      return;
    }
    // Our own status patch (the PodScheduled condition) must not wake an unschedulable pod.
    if (type === 'MODIFIED' && old && this.queue.isUnschedulable(key) && !this.podChangedForScheduling(old, pod)) return;
    this.queue.add(key);
  }

  private podChangedForScheduling(old: Pod, pod: Pod): boolean {
    return old.metadata.uid !== pod.metadata.uid
      || JSON.stringify(old.spec) !== JSON.stringify(pod.spec)
      || JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(pod.metadata.labels ?? {});
  }

  private readonly onTelemetry = (nodeName: string): void => {
    if (!this.running) return;
    const online = this.telemetry.get(nodeName)?.online === true;
    const before = this.onlineSeen.get(nodeName) ?? false;
    this.onlineSeen.set(nodeName, online);
    if (online && !before) this.queue.moveAllUnschedulable();
  };

  // ---- the scheduling loop ----

  private kick(): void {
    if (this.pumpPending || !this.running) return;
    this.pumpPending = true;
    setImmediate(() => this.pump());
  }

  private pump(): void {
    this.pumpPending = false;
    const deadline = performance.now() + this.sliceMs;
    while (this.running) {
      const key = this.queue.pop();
      if (key === undefined) break;
      try {
        this.scheduleOne(key);
      } catch (err) {
        this.log.error({ key, err: String(err) }, 'scheduling attempt failed');
        this.queue.retryLater(key);
      }
      if (performance.now() >= deadline) break;
    }
    if (this.queue.length > 0) this.kick();
    else this.resolveIdle();
  }

  private scheduleOne(key: string): void {
    const pod = this.pods?.getByKey(key);
    if (!pod || pod.spec?.nodeName || pod.metadata.deletionTimestamp || this.cache.isAssumed(key)) {
      this.queue.delete(key);
      return;
    }
    const startedAt = performance.now();
    const images = this.imagePlatforms?.forPod(pod);
    if (images?.state === 'pending') {
      // back when the lookups end (or have taken long enough)
      this.queue.delete(key);
      this.awaitingImages.set(key, images.images);
      return;
    }
    const profile = podProfile(key, pod);
    const nodes = this.cache.nodes();
    const volumes = this.volumeBinding?.forPod(pod);
    if (volumes?.rejected) {
      this.unschedulable(pod, key, prefilterMessage(pod, nodes.length, volumes.rejected));
      this.onAttempt?.('unschedulable', (performance.now() - startedAt) / 1000);
      return;
    }
    const feasible: NodeInfo[] = [];
    const failures: FilterFailure[] = [];
    for (const n of nodes) {
      let failure = filterNode(profile, n, this.telemetry.get(n.name)?.online === true, images?.images);
      if (!failure && volumes) {
        const reason = this.volumeBinding!.filter(volumes, n);
        if (reason) failure = { reasons: [reason], preemptionMightHelp: false };
      }
      if (failure) failures.push(failure);
      else feasible.push(n);
    }
    if (feasible.length === 0) {
      this.unschedulable(pod, key, fitErrorMessage(pod, nodes.length, failures));
      this.onAttempt?.('unschedulable', (performance.now() - startedAt) / 1000);
      return;
    }
    let chosen = feasible[0]!;
    if (feasible.length > 1) {
      const scores = scoreNodes(profile, feasible, this.cache, this.telemetry, this.weights);
      chosen = feasible[pickBest(scores, feasible.map((n) => n.name), pod.metadata.uid ?? key)]!;
    }
    this.cache.assume(key, pod, chosen.name, profile.requests, profile.ports, profile.owner);
    this.queue.delete(key);
    void this.bind(pod, key, chosen, startedAt, volumes?.delayed.length ? volumes : undefined);
  }

  private async bind(pod: Pod, key: string, node: NodeInfo, startedAt: number, volumes?: PodVolumes): Promise<void> {
    const ns = pod.metadata.namespace ?? 'default';
    const name = pod.metadata.name!;
    const nodeName = node.name;
    this.stats.bindsInFlight++;
    this.log.debug({ pod: key, node: nodeName }, 'binding');
    try {
      if (volumes) await this.volumeBinding!.bindFor(volumes, node, ns);
      await this.client.bind(ns, name, nodeName);
      this.log.debug({ pod: key, node: nodeName }, 'bound');
      this.stats.scheduled++;
      this.onAttempt?.('scheduled', (performance.now() - startedAt) / 1000);
      this.recorder.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${ns}/${name} to ${nodeName}`);
    } catch (err) {
      this.cache.forgetAssumed(key);
      if (isNotFound(err) || isConflict(err)) {
        // Gone, being deleted, or bound by someone else: the informer tells the rest.
        this.log.debug({ pod: key, err: String(err) }, 'bind refused');
      } else {
        this.stats.bindErrors++;
        this.onAttempt?.('error', (performance.now() - startedAt) / 1000);
        this.log.warn({ pod: key, node: nodeName, err: String(err) }, 'bind failed; retrying');
        this.queue.retryLater(key);
      }
      this.queue.moveAllUnschedulable();
    } finally {
      this.stats.bindsInFlight--;
      this.resolveIdle();
    }
  }

  private unschedulable(pod: Pod, key: string, message: string): void {
    this.stats.unschedulable++;
    this.queue.markUnschedulable(key);
    const conditions = pod.status?.conditions ?? [];
    const current = conditions.find((c) => c.type === 'PodScheduled');
    // A retry that fails for the same reason changes nothing a user would see: recording
    // it again would write to the store (and the SD card) every retry while at rest.
    if (current?.status === 'False' && current.reason === 'Unschedulable' && current.message === message) return;
    this.recorder.event(pod, 'Warning', 'FailedScheduling', message);
    const condition: PodCondition = {
      type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message,
      lastProbeTime: null,
      lastTransitionTime: current?.status === 'False' && current.lastTransitionTime ? current.lastTransitionTime : rfc3339Seconds(),
    };
    const next = [...conditions.filter((c) => c.type !== 'PodScheduled'), condition];
    this.client.patch(R.pods, pod.metadata.namespace, pod.metadata.name!, { status: { conditions: next } }, 'status')
      .catch((err) => { if (!isNotFound(err)) this.log.warn({ pod: key, err: String(err) }, 'could not record PodScheduled=False'); });
  }
}
