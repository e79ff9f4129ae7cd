// The controller's side of joining: a new board connects as `pikube-join` with a join
// token, asks on `<base>/v1/join/<node>/request`, and gets its own MQTT username and
// password on `.../response` (never retained). The token is checked again here, so the
// answer depends on the token, not only on the broker letting the client in.
import type { MessageLink } from '../../protocol/mqtt/link.js';
import type { JoinResponse } from '../../protocol/mqtt/payloads.js';
import { Topics } from '../../protocol/mqtt/topics.js';
import { PayloadError, parseJoinRequest } from '../../protocol/mqtt/validate.js';
import { isJoinableNodeName, isValidJoinToken } from './credentials.js';
import { NodePasswords } from './node-passwords.js';
import { addNodeToMosquitto } from './mosquitto-config.js';
import type { BrokerLogger } from './embedded-broker.js';

export interface JoinServiceOptions {
  /** The controller's connected link (username pikube-controller). */
  link: MessageLink;
  dataDir: string;
  baseTopic?: string;
  /** 'mosquitto' when the controller runs against an external mosquitto set up by mosquitto-config. */
  externalBroker?: 'mosquitto';
  logger?: BrokerLogger;
  /**
   * Called with a new password's node before the answer goes out (several controllers
   * share the hash through the datastore); when it throws, the join is refused.
   */
  share?: (node: string) => Promise<void>;
  /** Called after a node got its credentials. */
  onJoined?: (node: string) => void;
}

const silent: BrokerLogger = { info() {}, warn() {} };

export class JoinService {
  private unsubscribe?: () => Promise<void>;
  private readonly topics: Topics;
  private readonly log: BrokerLogger;
  /** Seen nonces per node, so a QoS 1 duplicate does not run the join twice. */
  private readonly recent = new Map<string, string>();
  private readonly passwords: NodePasswords;

  constructor(private readonly opts: JoinServiceOptions) {
    this.topics = new Topics(opts.baseTopic);
    this.log = opts.logger ?? silent;
    this.passwords = new NodePasswords(opts.dataDir);
  }

  async start(): Promise<void> {
    if (this.unsubscribe) return;
    this.unsubscribe = await this.opts.link.subscribe(this.topics.allJoinRequests(), (topic, payload) => {
      void this.handle(topic, payload).catch((err: Error) => this.log.warn({ topic, err: err.message }, 'join request failed'));
    });
  }

  async stop(): Promise<void> {
    await this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private async handle(topic: string, payload: Buffer): Promise<void> {
    const parsed = this.topics.parse(topic);
    if (!parsed || parsed.kind !== 'join-request') return;
    const node = parsed.node;
    let request;
    try {
      request = parseJoinRequest(payload);
    } catch (err) {
      if (err instanceof PayloadError) {
        this.log.warn({ node, reason: err.message }, 'dropping malformed join request');
        return;
      }
      throw err;
    }
    if (this.recent.get(node) === request.nonce) return;
    this.recent.set(node, request.nonce);
    if (this.recent.size > 1000) this.recent.clear();

    const reply = (body: Omit<JoinResponse, 'nonce'>) =>
      this.opts.link.publish(this.topics.joinResponse(node), { nonce: request.nonce, ...body } satisfies JoinResponse, { retain: false, qos: 1 });

    if (!isJoinableNodeName(node)) {
      this.log.warn({ node }, 'join refused: invalid node name');
      await reply({ ok: false, error: `invalid node name ${JSON.stringify(node)}: must be a DNS-1123 subdomain and not a reserved name` });
      return;
    }
    if (!(await isValidJoinToken(this.opts.dataDir, request.token))) {
      this.log.warn({ node }, 'join refused: invalid or expired token');
      await reply({ ok: false, error: 'invalid or expired join token' });
      return;
    }
    // k3s's node-password rule: the first joiner owns the name until the node is deleted.
    const password = this.passwords.issue(node);
    if (!password) {
      this.log.warn({ node }, 'join refused: a node of this name already joined');
      await reply({ ok: false, error: `node name ${JSON.stringify(node)} is already joined; delete it first (kubectl delete node ${node}, or pikube node reset ${node})` });
      return;
    }
    if (this.opts.share) {
      try {
        await this.opts.share(node);
      } catch (err) {
        this.passwords.remove(node);
        this.log.warn({ node, err: (err as Error).message }, 'join refused: the password could not be shared with the other controllers');
        await reply({ ok: false, error: `node ${node} cannot join now: ${(err as Error).message}` });
        return;
      }
    }
    if (this.opts.externalBroker === 'mosquitto') await addNodeToMosquitto(this.opts.dataDir, node, password);
    await reply({ ok: true, username: node, password });
    this.log.info({ node }, 'node joined');
    this.opts.onJoined?.(node);
  }
}
