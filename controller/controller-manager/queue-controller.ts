// The common shape of a level-triggered controller: informers feed keys into a work
// queue, one reconcile per key reads from the cache and converges the world.
import { pino, type Logger } from 'pino';
import type { ClusterClient } from '../apiserver/client.js';
import type { ControlLoop } from '../client/control-loop.js';
import { EventRecorder } from '../client/event-recorder.js';
import { WorkQueue } from '../client/work-queue.js';
import { SharedInformers } from '../client/shared-informers.js';

export interface ControllerDeps {
  client: ClusterClient;
  log?: Logger;
  /** Shared caches; a controller started alone makes (and stops) its own. */
  informers?: SharedInformers;
  recorder?: EventRecorder;
  /** Parallel reconciles (different keys). */
  concurrency?: number;
}

export abstract class QueueController implements ControlLoop {
  abstract readonly name: string;
  protected readonly client: ClusterClient;
  protected readonly log: Logger;
  protected readonly informers: SharedInformers;
  protected readonly recorder: EventRecorder;
  protected readonly queue: WorkQueue;
  private readonly ownsInformers: boolean;

  constructor(deps: ControllerDeps, component: string) {
    this.client = deps.client;
    this.log = (deps.log ?? pino({ level: 'silent' })).child({ controller: component });
    this.ownsInformers = !deps.informers;
    this.informers = deps.informers ?? new SharedInformers(deps.client);
    this.recorder = deps.recorder ?? new EventRecorder(deps.client, { component }, this.log);
    this.queue = new WorkQueue((key) => this.reconcile(key), {
      concurrency: deps.concurrency ?? 2,
      onError: (key, err) => this.log.debug({ key, err: String(err) }, 'reconcile failed; retrying'),
    });
  }

  /** Attaches informer handlers, starts the informers and enqueues what already exists. */
  protected abstract register(): void;
  protected abstract reconcile(key: string): Promise<void>;

  start(): void {
    this.register();
  }

  stop(): void {
    this.queue.stop();
    if (this.ownsInformers) this.informers.stop();
  }
}
