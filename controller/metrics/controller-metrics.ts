// Prometheus metrics of the control plane. Counters the hot paths bump directly; gauges
// that mirror state (store, nodes, MQTT) are read when scraped.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface MetricSources {
  store?: () => { objects: number; revision: number; bytesWritten: number; batches: number; writes: number; snapshots: number; failedWrites?: number; writeFailing?: boolean };
  mqtt?: () => { messagesSent: number; bytesSent: number; messagesReceived: number; bytesReceived: number };
  nodes?: () => { name: string; online: boolean; cpuCores?: number; memoryBytes?: number; cpuCapacityCores?: number; memoryCapacityBytes?: number; pods: number; temperatureC?: number }[];
  scheduler?: () => { scheduled: number; unschedulable: number; bindErrors: number };
}

export class ControllerMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({ name: 'apiserver_request_total', help: 'API requests by verb, resource and HTTP code.', labelNames: ['verb', 'resource', 'code'], registers: [this.registry] });
  private readonly latency = new Histogram({
    name: 'apiserver_request_duration_seconds', help: 'API request latency.', labelNames: ['verb', 'resource'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry],
  });
  private readonly watchGauge = new Gauge({ name: 'apiserver_registered_watchers', help: 'Open watch requests.', registers: [this.registry] });
  readonly schedulingLatency = new Histogram({
    name: 'scheduler_scheduling_attempt_duration_seconds', help: 'Scheduling attempt latency: the decision, plus the binding when the pod was placed.', labelNames: ['result'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [this.registry],
  });
  /** Requests RBAC refused, and things a node tried that NodeRestriction refused. */
  readonly authorizationDenials = new Counter({ name: 'pikube_authorization_denials_total', help: 'API requests refused by the authorizer, by kind of user.', labelNames: ['user_kind'], registers: [this.registry] });
  readonly nodeDenials = new Counter({ name: 'pikube_node_denials_total', help: 'Requests by a node that were refused, by node and what was refused.', labelNames: ['node', 'what'], registers: [this.registry] });
  private sources: MetricSources = {};

  constructor() {
    const self = this;
    const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge) => void) =>
      new Gauge({ name, help, labelNames, registers: [this.registry], collect() { collect(this); } });
    gauge('pikube_store_objects', 'Objects in the store.', [], (g) => g.set(self.sources.store?.().objects ?? 0));
    gauge('pikube_store_revision', 'Current store revision.', [], (g) => g.set(self.sources.store?.().revision ?? 0));
    gauge('pikube_store_writes_total', 'Store writes since start.', [], (g) => g.set(self.sources.store?.().writes ?? 0));
    gauge('pikube_store_bytes_written_total', 'Bytes written to disk by the store since start.', [], (g) => g.set(self.sources.store?.().bytesWritten ?? 0));
    gauge('pikube_store_fsyncs_total', 'Group commits (one fsync each) since start.', [], (g) => g.set(self.sources.store?.().batches ?? 0));
    gauge('pikube_store_snapshots_total', 'Snapshots written since start.', [], (g) => g.set(self.sources.store?.().snapshots ?? 0));
    new Counter({
      name: 'pikube_store_failed_writes_total', help: 'Store writes that failed to reach the disk (full disk, I/O error) since start.', registers: [this.registry],
      collect() { this.reset(); this.inc(self.sources.store?.().failedWrites ?? 0); },
    });
    gauge('pikube_store_write_failing', 'Whether the store cannot write right now (1 while its disk is full or failing).', [], (g) => g.set(self.sources.store?.().writeFailing ? 1 : 0));
    gauge('pikube_mqtt_messages_total', 'MQTT messages by the controller, by direction.', ['direction'], (g) => {
      const m = self.sources.mqtt?.();
      g.set({ direction: 'sent' }, m?.messagesSent ?? 0);
      g.set({ direction: 'received' }, m?.messagesReceived ?? 0);
    });
    gauge('pikube_mqtt_bytes_total', 'MQTT payload bytes by the controller, by direction.', ['direction'], (g) => {
      const m = self.sources.mqtt?.();
      g.set({ direction: 'sent' }, m?.bytesSent ?? 0);
      g.set({ direction: 'received' }, m?.bytesReceived ?? 0);
    });
    gauge('scheduler_schedule_attempts_total', 'Scheduling attempts by result.', ['result'], (g) => {
      const s = self.sources.scheduler?.();
      g.set({ result: 'scheduled' }, s?.scheduled ?? 0);
      g.set({ result: 'unschedulable' }, s?.unschedulable ?? 0);
      g.set({ result: 'error' }, s?.bindErrors ?? 0);
    });
    const perNode = (name: string, help: string, pick: (n: ReturnType<NonNullable<MetricSources['nodes']>>[number]) => number | undefined) =>
      gauge(name, help, ['node'], (g) => {
        g.reset();
        for (const n of self.sources.nodes?.() ?? []) { const v = pick(n); if (v !== undefined) g.set({ node: n.name }, v); }
      });
    perNode('pikube_node_online', 'Whether the node\'s agent is connected.', (n) => (n.online ? 1 : 0));
    perNode('pikube_node_cpu_usage_cores', 'CPU the node really uses, in cores.', (n) => n.cpuCores);
    perNode('pikube_node_memory_usage_bytes', 'Memory the node really uses.', (n) => n.memoryBytes);
    perNode('pikube_node_cpu_capacity_cores', 'CPU cores the node has.', (n) => n.cpuCapacityCores);
    perNode('pikube_node_memory_capacity_bytes', 'Memory the node has.', (n) => n.memoryCapacityBytes);
    perNode('pikube_node_pods', 'Pods the node\'s agent reports.', (n) => n.pods);
    perNode('pikube_node_temperature_celsius', 'SoC temperature.', (n) => n.temperatureC);
  }

  attach(sources: MetricSources): void {
    this.sources = { ...this.sources, ...sources };
  }

  request(verb: string, resource: string, code: number, seconds: number): void {
    this.requests.inc({ verb, resource, code: String(code) });
    this.latency.observe({ verb, resource }, seconds);
  }

  watches(delta: number): void {
    this.watchGauge.inc(delta);
  }
}
