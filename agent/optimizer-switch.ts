// The agent starts without V8's optimising compiler (cli/v8-flags.ts): its own work is
// light, and TurboFan costs it about 12 MB. A node whose ingress proxy carries sustained
// traffic earns it back (the proxy then spends about half the CPU per request), so the
// agent turns TurboFan on for itself once that traffic is seen, and keeps it on.
import { setFlagsFromString } from 'node:v8';

export interface OptimizerSwitchOptions {
  /** Requests within one window that turn the optimiser on. */
  threshold: number;
  windowMs: number;
  log: { info: (o: object, m: string) => void };
  /** Turns the optimiser on; V8's own flag unless a test gives another. */
  enable?: () => void;
  now?: () => number;
}

/** About 35 requests a second for a minute: more than a few people browsing a home lab's apps. */
export const HOT_INGRESS = { threshold: 2000, windowMs: 60_000 };

export class OptimizerSwitch {
  private windowStart = Number.NEGATIVE_INFINITY;
  private count = 0;
  private on = false;

  constructor(private readonly opts: OptimizerSwitchOptions) {}

  get enabled(): boolean {
    return this.on;
  }

  /** One request served; the one that reaches the threshold within a window turns the optimiser on. */
  hit(): void {
    if (this.on) return;
    const now = (this.opts.now ?? Date.now)();
    if (now - this.windowStart >= this.opts.windowMs) {
      this.windowStart = now;
      this.count = 0;
    }
    if (++this.count < this.opts.threshold) return;
    this.on = true;
    (this.opts.enable ?? (() => setFlagsFromString('--opt')))();
    this.opts.log.info({ requests: this.count, windowMs: this.opts.windowMs }, 'ingress traffic is sustained: V8 optimising compiler on');
  }
}
