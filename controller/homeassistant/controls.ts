// `--homeassistant` controls: workloads annotated `pikube.io/homeassistant: "true"` get a
// replicas number and a restart button (Deployments, StatefulSets) or a run-now button and
// a suspend switch (CronJobs); every node gets a cordon switch. State follows the cluster
// at once; commands run through the MQTT API gateway as `--homeassistant-user`, so Home
// Assistant can do exactly what RBAC gives that user and nothing more.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { KubeObject, Node } from '../../protocol/kube/types.js';
import type { ApiRequest, ApiResponse } from '../../protocol/mqtt/payloads.js';
import type { MessageLink } from '../../protocol/mqtt/link.js';
import type { Topics } from '../../protocol/mqtt/topics.js';
import { R } from '../apiserver/client.js';
import { findResource } from '../apiserver/resources.js';
import type { ControlLoop } from '../client/control-loop.js';
import type { SharedInformers } from '../client/shared-informers.js';
import { nodeCordonControl, workloadControls, workloadControlTopics } from './control-discovery.js';
import {
  commandFilters, CONTROLLED_KINDS, CONTROLS_ANNOTATION, cordonStateTopic, MAX_REPLICAS_ANNOTATION, parseCommandTopic, workloadStateTopic,
  type ControlledKind, type ParsedCommand,
} from './control-topics.js';
import { BIRTH_TOPIC } from './homeassistant-topics.js';

interface Workload extends KubeObject {
  spec?: { replicas?: number; suspend?: boolean; jobTemplate?: { metadata?: KubeObject['metadata']; spec?: unknown } };
  status?: { readyReplicas?: number; replicas?: number; active?: unknown[]; lastScheduleTime?: string };
}

export interface HomeAssistantControlsOptions {
  link: Pick<MessageLink, 'subscribe' | 'publish' | 'onConnect'>;
  topics: Topics;
  informers: SharedInformers;
  /** Runs a request as a user (the MQTT API gateway); 401 when the user does not exist. */
  execute: (user: string, req: ApiRequest) => Promise<ApiResponse>;
  /** The identity Home Assistant's commands run as. */
  user: string;
  version: string;
  log: Logger;
}

const DEFAULT_MAX_REPLICAS = 10;
const controlled = (o: KubeObject) => o.metadata.annotations?.[CONTROLS_ANNOTATION] === 'true';

export class HomeAssistantControls implements ControlLoop {
  readonly name = 'homeassistant-controls';
  /** Announced workloads: key → the discovery fingerprint and last state. */
  private readonly announced = new Map<string, { fingerprint: string; state?: string }>();
  private readonly cordonState = new Map<string, string>();
  private unsubscribers: (() => Promise<void>)[] = [];
  private offConnect?: () => void;
  private stopped = false;
  /** Commands carried out and refused, for metrics and tests. */
  readonly counts = { done: 0, refused: 0 };

  constructor(private readonly opts: HomeAssistantControlsOptions) {}

  async start(): Promise<void> {
    const { informers, link } = this.opts;
    for (const kind of Object.keys(CONTROLLED_KINDS) as ControlledKind[]) {
      const k = CONTROLLED_KINDS[kind];
      if (!findResource(k.group, k.resource)) continue; // not served by this build
      const informer = informers.get<Workload>({ group: k.group, resource: k.resource });
      informer.on((type, w) => { if (!this.stopped) this.onWorkload(kind, type, w); });
      informer.start();
      for (const w of informer.list()) this.onWorkload(kind, 'ADDED', w);
    }
    const nodes = informers.get<Node>(R.nodes);
    nodes.on((type, n) => { if (!this.stopped) this.onNode(type, n); });
    nodes.start();
    for (const n of nodes.list()) this.onNode('ADDED', n);
    for (const filter of commandFilters(this.opts.topics)) {
      this.unsubscribers.push(await link.subscribe(filter, (topic, payload) => void this.onCommand(topic, payload.toString('utf8').trim())));
    }
    this.unsubscribers.push(await link.subscribe(BIRTH_TOPIC, (_t, payload) => {
      if (payload.toString('utf8').trim().replace(/^"(.*)"$/, '$1') === 'online') this.reannounce();
    }));
    this.offConnect = link.onConnect(() => this.reannounce());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.offConnect?.();
    for (const u of this.unsubscribers) await u().catch(() => undefined);
    this.unsubscribers = [];
  }

  private key(kind: ControlledKind, ns: string, name: string): string {
    return `${kind}/${ns}/${name}`;
  }

  private onWorkload(kind: ControlledKind, type: 'ADDED' | 'MODIFIED' | 'DELETED', w: Workload): void {
    const ns = w.metadata.namespace!;
    const name = w.metadata.name!;
    const key = this.key(kind, ns, name);
    if (type === 'DELETED' || !controlled(w)) {
      if (!this.announced.delete(key)) return;
      for (const topic of workloadControlTopics(kind, ns, name)) this.send(topic, '');
      this.send(workloadStateTopic(this.opts.topics, kind, ns, name), '');
      return;
    }
    const max = Number(w.metadata.annotations?.[MAX_REPLICAS_ANNOTATION]);
    const device = { kind, namespace: ns, name, maxReplicas: Number.isInteger(max) && max > 0 ? max : DEFAULT_MAX_REPLICAS };
    const fingerprint = JSON.stringify(device);
    const entry = this.announced.get(key) ?? { fingerprint: '' };
    if (entry.fingerprint !== fingerprint) {
      for (const m of workloadControls(this.opts.topics, device, this.opts.version)) this.send(m.topic, m.payload);
      entry.fingerprint = fingerprint;
      entry.state = undefined;
    }
    this.announced.set(key, entry);
    const state = kind === 'cronjob'
      ? { suspended: w.spec?.suspend ?? false, active: w.status?.active?.length ?? 0, lastScheduleTime: w.status?.lastScheduleTime ?? null }
      : { replicas: w.spec?.replicas ?? 1, ready: w.status?.readyReplicas ?? 0 };
    const json = JSON.stringify(state);
    if (json === entry.state) return;
    entry.state = json;
    this.send(workloadStateTopic(this.opts.topics, kind, ns, name), state);
  }

  private onNode(type: 'ADDED' | 'MODIFIED' | 'DELETED', n: Node): void {
    const name = n.metadata.name!;
    if (type === 'DELETED') {
      this.cordonState.delete(name);
      this.send(nodeCordonControl(this.opts.topics, name, this.opts.version).topic, '');
      this.send(cordonStateTopic(this.opts.topics, name), '');
      return;
    }
    if (!this.cordonState.has(name)) {
      const m = nodeCordonControl(this.opts.topics, name, this.opts.version);
      this.send(m.topic, m.payload);
    }
    const state = n.spec?.unschedulable ? 'ON' : 'OFF';
    if (this.cordonState.get(name) === state) return;
    this.cordonState.set(name, state);
    this.send(cordonStateTopic(this.opts.topics, name), state, true);
  }

  private reannounce(): void {
    const states = [...this.cordonState];
    this.cordonState.clear();
    for (const [node, state] of states) {
      const m = nodeCordonControl(this.opts.topics, node, this.opts.version);
      this.send(m.topic, m.payload);
      this.send(cordonStateTopic(this.opts.topics, node), state, true);
      this.cordonState.set(node, state);
    }
    for (const entry of this.announced.values()) { entry.fingerprint = ''; entry.state = undefined; }
    for (const kind of Object.keys(CONTROLLED_KINDS) as ControlledKind[]) {
      const k = CONTROLLED_KINDS[kind];
      if (!findResource(k.group, k.resource)) continue;
      for (const w of this.opts.informers.get<Workload>({ group: k.group, resource: k.resource }).list()) this.onWorkload(kind, 'MODIFIED', w);
    }
  }

  /** The API request a Home Assistant command stands for; undefined for a payload that means nothing. */
  requestFor(cmd: ParsedCommand, payload: string): ApiRequest | string {
    const id = `ha-${randomBytes(4).toString('hex')}`;
    const onOff = (p: string) => (p.toUpperCase() === 'ON' ? true : p.toUpperCase() === 'OFF' ? false : undefined);
    if (cmd.target === 'node') {
      const on = onOff(payload);
      if (on === undefined) return `cordon expects ON or OFF, got ${JSON.stringify(payload.slice(0, 20))}`;
      return { id, verb: 'patch', version: 'v1', resource: 'nodes', name: cmd.node, patchType: 'merge', body: { spec: { unschedulable: on || null } } };
    }
    const k = CONTROLLED_KINDS[cmd.kind];
    const target = { id, group: k.group, version: k.version, resource: k.resource, namespace: cmd.namespace, name: cmd.name };
    switch (cmd.action) {
      case 'replicas': {
        const n = Number(payload);
        if (!Number.isInteger(n) || n < 0) return `replicas expects a whole number, got ${JSON.stringify(payload.slice(0, 20))}`;
        return { ...target, verb: 'scale', body: { replicas: n } };
      }
      case 'restart':
        // What `kubectl rollout restart` does: a new template annotation starts a rollout.
        return { ...target, verb: 'patch', patchType: 'merge', body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } } };
      case 'suspend': {
        const on = onOff(payload);
        if (on === undefined) return `suspend expects ON or OFF, got ${JSON.stringify(payload.slice(0, 20))}`;
        return { ...target, verb: 'patch', patchType: 'merge', body: { spec: { suspend: on } } };
      }
      case 'run': {
        // What `kubectl create job --from=cronjob/NAME` does.
        const cj = this.opts.informers.get<Workload>({ group: k.group, resource: k.resource }).get(cmd.namespace, cmd.name);
        if (!cj?.spec?.jobTemplate) return `cronjob ${cmd.namespace}/${cmd.name} not found`;
        const name = `${cmd.name}-manual-${randomBytes(3).toString('hex')}`.slice(0, 63);
        return {
          id, verb: 'create', group: 'batch', version: 'v1', resource: 'jobs', namespace: cmd.namespace,
          body: {
            apiVersion: 'batch/v1', kind: 'Job',
            metadata: {
              name, namespace: cmd.namespace, labels: cj.spec.jobTemplate.metadata?.labels,
              annotations: { ...(cj.spec.jobTemplate.metadata?.annotations ?? {}), 'cronjob.kubernetes.io/instantiate': 'manual' },
              ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: cmd.name, uid: cj.metadata.uid, controller: true, blockOwnerDeletion: true }],
            },
            spec: cj.spec.jobTemplate.spec,
          },
        };
      }
    }
  }

  private async onCommand(topic: string, payload: string): Promise<void> {
    const cmd = parseCommandTopic(this.opts.topics, topic);
    if (!cmd || this.stopped) return;
    if (cmd.target === 'workload' && !this.announced.has(this.key(cmd.kind, cmd.namespace, cmd.name))) {
      this.counts.refused++;
      this.opts.log.warn({ topic }, 'home assistant command for a workload without controls dropped');
      return;
    }
    const req = this.requestFor(cmd, payload);
    if (typeof req === 'string') {
      this.counts.refused++;
      this.opts.log.warn({ topic, err: req }, 'home assistant command dropped');
      return;
    }
    const answer = await this.opts.execute(this.opts.user, req).catch((err: Error) => ({ id: req.id, code: 500, status: { message: err.message } }) as ApiResponse);
    if (answer.code >= 400) {
      this.counts.refused++;
      this.opts.log.warn({ topic, user: this.opts.user, code: answer.code, message: (answer.status as { message?: string } | undefined)?.message }, 'home assistant command refused');
      return;
    }
    this.counts.done++;
    this.opts.log.info({ topic, user: this.opts.user, verb: req.verb, resource: req.resource, name: req.name ?? (req.body as KubeObject | undefined)?.metadata?.name }, 'home assistant command carried out');
  }

  private send(topic: string, payload: object | string, plain = false): void {
    const body = plain && typeof payload === 'string' ? Buffer.from(payload) : payload as object | '';
    this.opts.link.publish(topic, body, { retain: true, qos: 1 })
      .catch((err: Error) => this.opts.log.warn({ topic, err: err.message }, 'home assistant control not published'));
  }
}
