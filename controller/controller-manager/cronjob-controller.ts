// CronJob controller (upstream pkg/controller/cronjob/cronjob_controllerv2.go): creates a
// Job for the most recent scheduled time not yet run (so a schedule missed while the
// controller was down runs once on start), honours concurrencyPolicy, suspend and
// startingDeadlineSeconds, keeps status.active and prunes finished Jobs to the history limits.
import type { CronJob } from '../../protocol/kube/types.js';
import { R } from '../apiserver/client.js';
import { ignoreNotFound, isAlreadyExists, isConflict } from '../client/api-errors.js';
import { controllerRefOf, newControllerRef } from './controller-ref.js';
import { mostRecentScheduleTime, parseSchedule, type Schedule } from '../../protocol/kube/cron-schedule.js';
import { objectKey } from '../client/informer.js';
import { conditionTrue, finishedAt, finishedCondition, type Job } from './job-util.js';
import { QueueController, type ControllerDeps } from './queue-controller.js';
import { rfc3339Seconds } from '../../protocol/kube/time.js';

export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

export type { CronJob } from '../../protocol/kube/types.js';

export interface CronJobControllerDeps extends ControllerDeps {
  /** The clock (ms since epoch); tests move it. */
  now?: () => number;
}

/** Upstream's --concurrent-cron-job-syncs default: CronJobs due in the same minute are started together. */
const SYNC_WORKERS = 5;

/** Upstream names a scheduled Job after its scheduled time in minutes since the epoch. */
export function scheduledJobName(cronJobName: string, time: Date): string {
  return `${cronJobName}-${Math.floor(time.getTime() / 60_000)}`;
}

export class CronJobController extends QueueController {
  readonly name = 'cronjob';
  private readonly now: () => number;
  private readonly schedules = new Map<string, { text: string; schedule: Schedule }>();
  /** Jobs already reported finished, so SawCompletedJob is said once. */
  private readonly sawFinished = new Set<string>();

  constructor(deps: CronJobControllerDeps) {
    super({ ...deps, concurrency: deps.concurrency ?? SYNC_WORKERS }, 'cronjob-controller');
    this.now = deps.now ?? Date.now;
  }

  private get cronJobs() { return this.informers.get<CronJob>(R.cronjobs); }
  private get jobs() { return this.informers.get<Job>(R.jobs); }

  protected register(): void {
    this.cronJobs.on((type, cj) => {
      if (type === 'DELETED') this.schedules.delete(objectKey(cj));
      this.queue.add(objectKey(cj));
    });
    this.jobs.on((_type, job, old) => {
      const ref = controllerRefOf(job) ?? (old && controllerRefOf(old));
      if (ref?.kind === 'CronJob') this.queue.add(`${job.metadata.namespace}/${ref.name}`);
    });
    this.cronJobs.start();
    this.jobs.start();
    for (const cj of this.cronJobs.list()) this.queue.add(objectKey(cj));
  }

  /** Runs one pass over every CronJob now (what a periodic resync does). */
  async syncAll(): Promise<void> {
    const keys = this.cronJobs.list().map(objectKey);
    // As many at once as the queue's workers: their writes share the store's fsyncs.
    const worker = async () => {
      for (let key = keys.shift(); key !== undefined; key = keys.shift()) {
        // A queued pass on the same CronJob may have written first: read again and redo.
        for (let attempt = 1; ; attempt++) {
          try {
            await this.reconcile(key);
            break;
          } catch (err) {
            if (!isConflict(err) || attempt >= 5) throw err;
            await new Promise((r) => setTimeout(r, 20));
          }
        }
      }
    };
    await Promise.all(Array.from({ length: SYNC_WORKERS }, worker));
  }

  private scheduleOf(key: string, cj: CronJob): Schedule {
    const text = `${cj.spec.schedule}\u0000${cj.spec.timeZone ?? ''}`;
    const cached = this.schedules.get(key);
    if (cached?.text === text) return cached.schedule;
    const schedule = parseSchedule(cj.spec.schedule, cj.spec.timeZone);
    this.schedules.set(key, { text, schedule });
    return schedule;
  }

  protected async reconcile(key: string): Promise<void> {
    const cj = this.cronJobs.getByKey(key);
    if (!cj || cj.metadata.deletionTimestamp) return;
    const now = this.now();
    const ns = cj.metadata.namespace!;
    const owned = this.jobs.list((j) => j.metadata.namespace === ns && controllerRefOf(j)?.uid === cj.metadata.uid);
    const status = structuredClone(cj.status ?? {});
    const activeJobs = owned.filter((j) => !finishedCondition(j) && !j.metadata.deletionTimestamp);
    for (const job of owned) {
      const done = finishedCondition(job);
      if (!done || this.sawFinished.has(job.metadata.uid!)) continue;
      this.sawFinished.add(job.metadata.uid!);
      if (this.sawFinished.size > 10_000) this.sawFinished.delete(this.sawFinished.values().next().value as string);
      this.recorder.event(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${job.metadata.name}, condition: ${done.type}`);
      if (done.type === 'Complete') {
        const at = finishedAt(job);
        if (at && (!status.lastSuccessfulTime || Date.parse(status.lastSuccessfulTime) < at)) status.lastSuccessfulTime = rfc3339Seconds(at);
      }
    }
    status.active = activeJobs.map(jobRef);
    await this.pruneHistory(cj, owned);

    if (!cj.spec.suspend) await this.runDue(key, cj, status, activeJobs, now);
    if (!status.active.length) delete status.active;
    if (JSON.stringify(status) === JSON.stringify(cj.status ?? {})) return;
    const copy = structuredClone(cj);
    copy.status = status;
    await ignoreNotFound(this.client.update(R.cronjobs, copy, 'status'));
  }

  private async runDue(key: string, cj: CronJob, status: NonNullable<CronJob['status']>, activeJobs: Job[], now: number): Promise<void> {
    let schedule: Schedule;
    try {
      schedule = this.scheduleOf(key, cj);
    } catch (err) {
      const message = (err as Error).message;
      const reason = message.startsWith('unknown time zone') ? 'UnknownTimeZone' : 'UnparseableSchedule';
      this.recorder.event(cj, 'Warning', reason, `invalid schedule: ${cj.spec.schedule} : ${message}`);
      return;
    }
    const created = Date.parse(cj.metadata.creationTimestamp ?? '') || now;
    let earliest = status.lastScheduleTime ? Date.parse(status.lastScheduleTime) : created;
    const deadline = cj.spec.startingDeadlineSeconds;
    if (deadline !== undefined && deadline !== null) earliest = Math.max(earliest, now - deadline * 1000);
    const next = schedule.next(new Date(now));
    // Long waits are re-checked hourly (timers hold 32-bit delays; clocks get corrected).
    if (next) this.queue.addAfter(key, Math.min(next.getTime() - now + 100, 3_600_000));
    const { time, missed } = mostRecentScheduleTime(schedule, new Date(earliest), new Date(now));
    if (!time) return;
    if (missed > 100) {
      this.recorder.event(cj, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    }
    const name = scheduledJobName(cj.metadata.name!, time);
    if (this.jobs.getByKey(`${cj.metadata.namespace}/${name}`)) {
      status.lastScheduleTime = rfc3339Seconds(time.getTime());
      return;
    }
    const policy = cj.spec.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && activeJobs.length) {
      this.recorder.event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return;
    }
    if (policy === 'Replace') {
      for (const job of activeJobs) {
        await ignoreNotFound(this.client.delete(R.jobs, job.metadata.namespace, job.metadata.name!, { propagationPolicy: 'Background' }));
        this.recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`);
      }
      status.active = [];
    }
    const template = structuredClone(cj.spec.jobTemplate);
    const job: Job = {
      apiVersion: 'batch/v1', kind: 'Job',
      metadata: {
        name, namespace: cj.metadata.namespace,
        labels: { ...(template.metadata?.labels ?? {}) },
        annotations: { ...(template.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP_ANNOTATION]: rfc3339Seconds(time.getTime()) },
        ownerReferences: [newControllerRef(cj, 'batch/v1', 'CronJob')],
      },
      spec: template.spec,
    };
    try {
      const made = await this.client.create<Job>(R.jobs, job);
      this.recorder.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${name}`);
      status.active = [...(status.active ?? []), jobRef(made)];
    } catch (err) {
      if (!isAlreadyExists(err)) {
        this.recorder.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${(err as Error).message}`);
        throw err;
      }
    }
    status.lastScheduleTime = rfc3339Seconds(time.getTime());
  }

  /** Keeps the newest successfulJobsHistoryLimit Complete and failedJobsHistoryLimit Failed Jobs. */
  private async pruneHistory(cj: CronJob, owned: Job[]): Promise<void> {
    const prune = async (jobs: Job[], limit: number | undefined) => {
      if (limit === undefined || limit === null || jobs.length <= limit) return;
      const oldestFirst = [...jobs].sort((a, b) => startOf(a) - startOf(b));
      for (const job of oldestFirst.slice(0, jobs.length - limit)) {
        if (job.metadata.deletionTimestamp) continue;
        await ignoreNotFound(this.client.delete(R.jobs, job.metadata.namespace, job.metadata.name!, { propagationPolicy: 'Background' }));
        this.recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`);
      }
    };
    await prune(owned.filter((j) => conditionTrue(j, 'Complete')), cj.spec.successfulJobsHistoryLimit);
    await prune(owned.filter((j) => conditionTrue(j, 'Failed')), cj.spec.failedJobsHistoryLimit);
  }
}

function startOf(job: Job): number {
  return Date.parse(job.status?.startTime ?? job.metadata.creationTimestamp ?? '') || 0;
}

function jobRef(job: Job) {
  return { kind: 'Job', namespace: job.metadata.namespace!, name: job.metadata.name!, uid: job.metadata.uid!, apiVersion: 'batch/v1' };
}
