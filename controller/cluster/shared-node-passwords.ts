// Node MQTT passwords shared by the controllers of a cluster, as k3s keeps its
// node-password secrets in kube-system: the controller that admits a join stores the
// password's salted hash as a Secret `<node>.node-password.pikube` before answering, and
// every controller mirrors those Secrets into its own <data-dir>/node-passwords.json,
// which its broker checks. So after a failover the new leader's broker knows every node
// that joined through the old one. Deleting the node deletes the Secret (and, through the
// watch, every controller's copy).
import type { ClusterClient } from '../apiserver/client.js';
import { R } from '../apiserver/client.js';
import { ApiError } from '../apiserver/errors.js';
import type { ControlLoop } from '../client/control-loop.js';
import type { KubeObject } from '../../protocol/kube/types.js';
import { NodePasswords, type NodePasswordEntry } from '../broker/node-passwords.js';

export const NODE_PASSWORD_SECRET_TYPE = 'pikube.io/node-password';
const NAMESPACE = 'kube-system';
const SUFFIX = '.node-password.pikube';

interface Secret extends KubeObject { type?: string; data?: Record<string, string> }

const secretName = (node: string) => `${node}${SUFFIX}`;
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined) => (s ? Buffer.from(s, 'base64').toString('utf8') : '');

function entryOf(s: Secret): { node: string; entry: NodePasswordEntry } | undefined {
  const name = s.metadata.name ?? '';
  if (s.type !== NODE_PASSWORD_SECRET_TYPE || !name.endsWith(SUFFIX)) return undefined;
  const hash = unb64(s.data?.hash);
  if (!hash.includes(':')) return undefined;
  return { node: name.slice(0, -SUFFIX.length), entry: { hash, joined: unb64(s.data?.joined) || new Date(0).toISOString() } };
}

type Log = { info: (o: object, m: string) => void; warn: (o: object, m: string) => void };

export class SharedNodePasswords implements ControlLoop {
  readonly name = 'node-password-share';
  private readonly passwords: NodePasswords;
  private handles: { stop(): void }[] = [];

  constructor(private readonly client: ClusterClient, dataDir: string, private readonly log: Log) {
    this.passwords = new NodePasswords(dataDir);
  }

  /** Mirrors the Secrets into the data dir; local hashes of live nodes with no Secret (from before sharing) are offered. */
  async start(): Promise<void> {
    const shared = new Set<string>();
    for (const s of this.client.list<Secret>(R.secrets, { namespace: NAMESPACE }).items) {
      const e = entryOf(s);
      if (e) shared.add(e.node);
    }
    for (const node of this.passwords.names()) {
      if (shared.has(node)) continue;
      // A node deleted while this controller was away has no Secret and no Node: forget it.
      if (!this.client.get(R.nodes, undefined, node)) { this.passwords.remove(node); continue; }
      await this.publish(node).catch((err: Error) => this.log.warn({ node, err: err.message }, 'could not share a node password'));
    }
    this.handles.push(this.client.watch<Secret>(R.secrets, { namespace: NAMESPACE }, (ev) => {
      const e = entryOf(ev.object);
      if (!e) return;
      if (ev.type === 'DELETED') {
        if (this.passwords.remove(e.node)) this.log.info({ node: e.node }, 'node password released by another controller');
      } else if (this.passwords.put(e.node, e.entry)) this.log.info({ node: e.node }, 'took a node password from the datastore');
    }));
    // The node is gone: its name may join again, through any controller.
    this.handles.push(this.client.watch(R.nodes, {}, (ev) => {
      if (ev.type !== 'DELETED') return;
      const node = ev.object.metadata.name!;
      void this.client.delete(R.secrets, NAMESPACE, secretName(node)).catch((err: unknown) => {
        if (!(err instanceof ApiError && err.code === 404)) this.log.warn({ node, err: (err as Error).message }, 'could not delete a node password secret');
      });
    }));
  }

  stop(): void {
    for (const h of this.handles) h.stop();
    this.handles = [];
  }

  /** Stores a freshly issued hash; throws when another controller gave the name a different one. */
  async publish(node: string): Promise<void> {
    const entry = this.passwords.entry(node);
    if (!entry) throw new Error(`node ${node} holds no password here`);
    const secret: Secret = {
      apiVersion: 'v1', kind: 'Secret', type: NODE_PASSWORD_SECRET_TYPE,
      metadata: { name: secretName(node), namespace: NAMESPACE },
      data: { hash: b64(entry.hash), joined: b64(entry.joined) },
    };
    try {
      await this.client.create(R.secrets, secret);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
      const existing = this.client.get<Secret>(R.secrets, NAMESPACE, secretName(node));
      if (existing && entryOf(existing)?.entry.hash !== entry.hash) throw new Error(`node name ${JSON.stringify(node)} is already joined through another controller`);
    }
  }
}
