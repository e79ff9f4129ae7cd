// An Ingress backend (Service + port by number or name) → a ready endpoint, through the
// Service routing the node already follows for its Service proxy. Endpoints are taken
// in turn (round robin) per Service port; a backend that cannot be served says why.
import type { IngressBackendRef } from '../../protocol/mqtt/ingress.js';
import type { ServiceRoute, ServiceRoutingPayload } from '../../protocol/mqtt/payloads.js';

export type Resolved = { ok: true; ip: string; port: number } | { ok: false; reason: string };

export class BackendResolver {
  private services = new Map<string, ServiceRoute>();
  private readonly turns = new Map<string, number>();

  setServices(payload: ServiceRoutingPayload): void {
    this.services = new Map(payload.services.map((s) => [`${s.namespace}/${s.name}`, s]));
  }

  resolve(ref: IngressBackendRef): Resolved {
    const key = `${ref.namespace}/${ref.service}`;
    const svc = this.services.get(key);
    const portText = 'number' in ref.port ? String(ref.port.number) : ref.port.name;
    if (!svc) return { ok: false, reason: `service ${key} does not exist (or has no routable type)` };
    const port = svc.ports.find((p) => p.protocol === 'TCP' && ('number' in ref.port ? p.port === ref.port.number : p.name === ref.port.name));
    if (!port) return { ok: false, reason: `service ${key} has no TCP port ${portText}` };
    const ready = port.endpoints.filter((e) => e.ready);
    if (ready.length === 0) return { ok: false, reason: `service ${key} port ${portText} has no ready endpoints` };
    const turnKey = `${key}:${port.port}`;
    const turn = (this.turns.get(turnKey) ?? 0) % ready.length;
    this.turns.set(turnKey, turn + 1);
    const ep = ready[turn]!;
    return { ok: true, ip: ep.ip, port: ep.port };
  }
}
