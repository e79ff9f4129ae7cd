// Job controller (upstream pkg/controller/job/job_controller.go): runs pods of a template
// to `completions` successes, `parallelism` at a time, with back-off between failures,
// the backoffLimit and activeDeadlineSeconds, Indexed completion, suspend and the TTL
// after finishing (upstream's ttlafterfinished controller, folded in here).
import type { Pod } from '../../protocol/kube/types.js';
import { selectorMatches } from '../../protocol/kube/labels.js';
import { R } from '../apiserver/client.js';
import { ignoreNotFound, isNotFound } from '../client/api-errors.js';
import { claimObjects, controllerRefOf, newControllerRef } from './controller-ref.js';
import { Expectations } from './expectations.js';
import { objectKey } from '../client/informer.js';
import {
  backoffDelayMs, COMPLETION_INDEX_ANNOTATION, COMPLETION_INDEX_LABEL, completionIndex, conditionTrue, finishedAt, finishedCondition,
  formatIndexes, parseIndexes, podFinishedAt, restartsOf, setCondition, type Job, type JobCondition,
} from './job-util.js';
import { isPodReady } from './pod-state.js';
import { QueueController, type ControllerDeps } from './queue-controller.js';
import { deletionOrder } from './replicaset-controller.js';
import { rfc3339Seconds } from '../../protocol/kube/time.js';

export interface JobControllerDeps extends ControllerDeps {
  /** The clock (ms since epoch); tests move it. */
  now?: () => number;
}

/** Most pods created in one pass; more follow on the next. */
const BURST = 500;

export class JobController extends QueueController {
  readonly name = 'job';
  private readonly expectations = new Expectations();
  private readonly now: () => number;

  constructor(deps: JobControllerDeps) {
    super(deps, 'job-controller');
    this.now = deps.now ?? Date.now;
  }

  private get jobs() { return this.informers.get<Job>(R.jobs); }
  private get pods() { return this.informers.get<Pod>(R.pods); }

  protected register(): void {
    this.jobs.on((_type, job) => this.queue.add(objectKey(job)));
    this.pods.on((type, pod, old) => {
      const ref = controllerRefOf(pod) ?? (old && controllerRefOf(old));
      if (ref?.kind !== 'Job') return;
      const key = `${pod.metadata.namespace}/${ref.name}`;
      if (type === 'ADDED') this.expectations.creationObserved(key);
      if (type === 'DELETED' || (pod.metadata.deletionTimestamp && !old?.metadata.deletionTimestamp)) this.expectations.deletionObserved(key, objectKey(pod));
      this.queue.add(key);
    });
    this.jobs.start();
    this.pods.start();
    for (const job of this.jobs.list()) this.queue.add(objectKey(job));
  }

  protected async reconcile(key: string): Promise<void> {
    const job = this.jobs.getByKey(key);
    if (!job) { this.expectations.forget(key); return; }
    if (job.metadata.deletionTimestamp) return;
    const now = this.now();
    if (finishedCondition(job)) return this.expireFinished(key, job, now);

    const ns = job.metadata.namespace!;
    const pods = await claimObjects<Pod>({
      client: this.client, ref: R.pods, owner: job, ownerApiVersion: 'batch/v1', ownerKind: 'Job',
      matches: (p) => selectorMatches(job.spec.selector ?? {}, p.metadata.labels), candidates: this.pods.list((p) => p.metadata.namespace === ns),
    });
    const active = pods.filter((p) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
    const succeededPods = pods.filter((p) => p.status?.phase === 'Succeeded');
    const failedPods = pods.filter((p) => p.status?.phase === 'Failed');
    const terminating = pods.filter((p) => p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed').length;
    const indexed = job.spec.completionMode === 'Indexed';
    const old = job.status ?? {};
    // Counts never go down: a finished pod deleted by hand stays counted.
    const completed = parseIndexes(old.completedIndexes);
    if (indexed) for (const p of succeededPods) { const i = completionIndex(p); if (i !== undefined && i < (job.spec.completions ?? 0)) completed.add(i); }
    const succeeded = indexed ? Math.max(completed.size, old.succeeded ?? 0) : Math.max(succeededPods.length, old.succeeded ?? 0);
    const failed = Math.max(failedPods.length, old.failed ?? 0);

    let conditions: JobCondition[] = [...(old.conditions ?? [])];
    let startTime = old.startTime;
    let completionTime = old.completionTime;
    const suspended = job.spec.suspend === true;
    if (!suspended && !startTime) startTime = rfc3339Seconds(now);
    const backoffLimit = job.spec.backoffLimit ?? 6;
    const startMs = startTime ? Date.parse(startTime) : now;
    const deadlineMs = job.spec.activeDeadlineSeconds !== undefined ? startMs + job.spec.activeDeadlineSeconds * 1000 : undefined;

    let failure: { reason: string; message: string } | undefined;
    if (failed > backoffLimit || this.pastBackoffLimitOnFailure(job, active, backoffLimit)) {
      failure = { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
    } else if (!suspended && deadlineMs !== undefined && now >= deadlineMs) {
      failure = { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
    }

    let activeCount = active.length;
    if (failure) {
      await this.deletePods(key, job, active);
      activeCount = 0;
      conditions = setCondition(conditions, { type: 'FailureTarget', status: 'True', ...failure }, now);
      conditions = setCondition(conditions, { type: 'Failed', status: 'True', ...failure }, now);
      this.recorder.event(job, 'Warning', failure.reason, failure.message);
    } else if (suspended) {
      await this.deletePods(key, job, active);
      activeCount = 0;
      if (!conditionTrue(job, 'Suspended')) {
        conditions = setCondition(conditions, { type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' }, now);
        this.recorder.event(job, 'Normal', 'Suspended', 'Job suspended');
      }
      startTime = undefined;
    } else {
      if (conditionTrue(job, 'Suspended')) {
        conditions = setCondition(conditions, { type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed' }, now);
        startTime = rfc3339Seconds(now);
        this.recorder.event(job, 'Normal', 'Resumed', 'Job resumed');
      }
      const completions = job.spec.completions;
      const done = indexed ? completed.size >= (completions ?? 0)
        : completions !== undefined ? succeeded >= completions : succeeded > 0 && active.length === 0;
      if (done) {
        await this.deletePods(key, job, active);
        activeCount = 0;
        completionTime = rfc3339Seconds(now);
        conditions = setCondition(conditions, { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' }, now);
        conditions = setCondition(conditions, { type: 'Complete', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' }, now);
        this.recorder.event(job, 'Normal', 'Completed', 'Job completed');
      } else {
        activeCount = await this.managePods(key, job, active, succeeded, completed, failedPods, succeededPods, now);
        if (deadlineMs !== undefined) this.queue.addAfter(key, Math.max(0, deadlineMs - now) + 10);
      }
    }

    const status: NonNullable<Job['status']> = {
      ...old,
      active: activeCount, succeeded, failed, ready: failure || suspended ? 0 : active.filter(isPodReady).length, terminating,
      uncountedTerminatedPods: {}, conditions,
    };
    if (startTime) status.startTime = startTime; else delete status.startTime;
    if (completionTime) status.completionTime = completionTime;
    if (indexed) status.completedIndexes = formatIndexes(completed);
    if (!conditions.length) delete status.conditions;
    if (JSON.stringify(status) === JSON.stringify(old)) return;
    const copy = structuredClone(job);
    copy.status = status;
    await ignoreNotFound(this.client.update(R.jobs, copy, 'status'));
  }

  /** restartPolicy OnFailure: container restarts count as failures (upstream pastBackoffLimitOnFailure). */
  private pastBackoffLimitOnFailure(job: Job, active: Pod[], backoffLimit: number): boolean {
    if (job.spec.template.spec.restartPolicy !== 'OnFailure') return false;
    const restarts = active.reduce((n, p) => n + restartsOf(p), 0);
    return backoffLimit === 0 ? restarts > 0 : restarts >= backoffLimit;
  }

  private async managePods(key: string, job: Job, active: Pod[], succeeded: number, completed: Set<number>, failedPods: Pod[], succeededPods: Pod[], now: number): Promise<number> {
    if (!this.expectations.satisfied(key)) return active.length;
    const parallelism = job.spec.parallelism ?? 1;
    const completions = job.spec.completions;
    let want: number;
    let indexes: number[] = [];
    if (job.spec.completionMode === 'Indexed') {
      const running = new Set(active.map(completionIndex));
      for (let i = 0; i < (completions ?? 0) && indexes.length < parallelism; i++) if (!completed.has(i) && !running.has(i)) indexes.push(i);
      want = Math.min(parallelism, active.length + indexes.length);
    } else {
      want = completions !== undefined ? Math.min(parallelism, completions - succeeded) : succeeded > 0 ? 0 : parallelism;
    }
    if (active.length > want) {
      await this.deletePods(key, job, [...active].sort(deletionOrder).slice(0, active.length - want));
      return want;
    }
    if (active.length === want) return active.length;
    // Back-off after failures since the last success, as upstream's backoff records do.
    const lastSuccess = Math.max(0, ...succeededPods.map(podFinishedAt));
    const recent = failedPods.filter((p) => podFinishedAt(p) >= lastSuccess);
    if (recent.length) {
      const readyAt = Math.max(...recent.map(podFinishedAt)) + backoffDelayMs(recent.length);
      if (readyAt > now) { this.queue.addAfter(key, readyAt - now + 10); return active.length; }
    }
    const count = Math.min(want - active.length, BURST);
    this.expectations.expect(key, count);
    let created = 0;
    for (let batch = 1; created < count; batch *= 2) {
      const n = Math.min(batch, count - created);
      const results = await Promise.allSettled(Array.from({ length: n }, (_, i) => this.createPod(job, indexes[created + i])));
      created += n;
      const failedCreate = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
      if (failedCreate) {
        for (let i = 0; i < results.filter((r) => r.status === 'rejected').length + (count - created); i++) this.expectations.creationFailed(key);
        this.recorder.event(job, 'Warning', 'FailedCreate', `Error creating: ${String((failedCreate.reason as Error)?.message ?? failedCreate.reason)}`);
        throw failedCreate.reason;
      }
    }
    return active.length + count;
  }

  private async createPod(job: Job, index: number | undefined): Promise<void> {
    const template = structuredClone(job.spec.template);
    const name = job.metadata.name!;
    const labels = { ...(template.metadata?.labels ?? {}) };
    const annotations = { ...(template.metadata?.annotations ?? {}) };
    const spec = template.spec;
    if (index !== undefined) {
      labels[COMPLETION_INDEX_LABEL] = String(index);
      annotations[COMPLETION_INDEX_ANNOTATION] = String(index);
      spec.hostname ??= `${name}-${index}`;
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        c.env = [...(c.env ?? []).filter((e: { name: string }) => e.name !== 'JOB_COMPLETION_INDEX'), { name: 'JOB_COMPLETION_INDEX', value: String(index) }];
      }
    }
    const pod: Pod = {
      apiVersion: 'v1', kind: 'Pod',
      metadata: {
        generateName: index !== undefined ? `${name}-${index}-` : `${name}-`, namespace: job.metadata.namespace, labels,
        ...(Object.keys(annotations).length ? { annotations } : {}),
        ownerReferences: [newControllerRef(job, 'batch/v1', 'Job')],
      },
      spec,
    };
    const created = await this.client.create<Pod>(R.pods, pod);
    this.recorder.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
  }

  private async deletePods(key: string, job: Job, pods: Pod[]): Promise<void> {
    if (!pods.length) return;
    this.expectations.expect(key, 0, pods.map(objectKey));
    await Promise.all(pods.map(async (pod) => {
      try {
        await this.client.delete(R.pods, pod.metadata.namespace, pod.metadata.name!);
        this.recorder.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
      } catch (err) {
        this.expectations.deletionObserved(key, objectKey(pod));
        if (!isNotFound(err)) throw err;
      }
    }));
  }

  /** ttlSecondsAfterFinished: the finished Job (and through GC its pods) goes when it expires. */
  private async expireFinished(key: string, job: Job, now: number): Promise<void> {
    const ttl = job.spec.ttlSecondsAfterFinished;
    if (ttl === undefined || ttl === null) return;
    const at = (finishedAt(job) ?? now) + ttl * 1000;
    if (at > now) { this.queue.addAfter(key, at - now + 10); return; }
    await ignoreNotFound(this.client.delete(R.jobs, job.metadata.namespace, job.metadata.name!, {
      propagationPolicy: 'Background', preconditions: { uid: job.metadata.uid! },
    }));
  }
}
