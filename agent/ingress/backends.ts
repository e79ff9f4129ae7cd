// An Ingress backend (Service + port by number or name) → a ready endpoint, through the
// Service routing the node already follows for its Service proxy. Endpoints are taken
// in turn (round robin) per Service port; a backend that cannot be served says why.
// The ready endpoints of each port are listed once per routing update, not per request.
import type { IngressBackendRef } from '../../protocol/mqtt/ingress-payload.js';
import type { ServiceRoute, ServiceRoutingPayload } from '../../protocol/mqtt/payloads.js';

export type Resolved = { ok: true; ip: string; port: number } | { ok: false; reason: string };

interface PortSlot { ready: { ip: string; port: number }[]; turn: number }

export class BackendResolver {
  private services = new Map<string, ServiceRoute>();
  /** `<namespace>/<service>#<port number>` and `<namespace>/<service>@<port name>` → its ready endpoints. */
  private slots = new Map<string, PortSlot>();

  setServices(payload: ServiceRoutingPayload): void {
    const previous = this.slots;
    this.services = new Map(payload.services.map((s) => [`${s.namespace}/${s.name}`, s]));
    this.slots = new Map();
    for (const [key, svc] of this.services) {
      for (const p of svc.ports) {
        if (p.protocol !== 'TCP') continue;
        const ready = p.endpoints.filter((e) => e.ready).map((e) => ({ ip: e.ip, port: e.port }));
        if (ready.length === 0) continue;
        // The round robin goes on where it was, so an update does not send everyone to the first pod.
        const slot: PortSlot = { ready, turn: previous.get(`${key}#${p.port}`)?.turn ?? 0 };
        this.slots.set(`${key}#${p.port}`, slot);
        if (p.name && !this.slots.has(`${key}@${p.name}`)) this.slots.set(`${key}@${p.name}`, slot);
      }
    }
  }

  /** Every ready endpoint any Service port has. */
  *endpoints(): Iterable<{ ip: string; port: number }> {
    for (const slot of new Set(this.slots.values())) yield* slot.ready;
  }

  resolve(ref: IngressBackendRef): Resolved {
    const slot = this.slots.get('number' in ref.port ? `${ref.namespace}/${ref.service}#${ref.port.number}` : `${ref.namespace}/${ref.service}@${ref.port.name}`);
    if (!slot) return { ok: false, reason: this.why(ref) };
    const ep = slot.ready[slot.turn % slot.ready.length]!;
    slot.turn = (slot.turn + 1) % slot.ready.length;
    return { ok: true, ip: ep.ip, port: ep.port };
  }

  /** Why a backend has no ready endpoint (the slow path, for the 503 page). */
  private why(ref: IngressBackendRef): string {
    const key = `${ref.namespace}/${ref.service}`;
    const svc = this.services.get(key);
    const portText = 'number' in ref.port ? String(ref.port.number) : ref.port.name;
    if (!svc) return `service ${key} does not exist (or has no routable type)`;
    const port = svc.ports.find((p) => p.protocol === 'TCP' && ('number' in ref.port ? p.port === ref.port.number : p.name === ref.port.name));
    if (!port) return `service ${key} has no TCP port ${portText}`;
    return `service ${key} port ${portText} has no ready endpoints`;
  }
}
