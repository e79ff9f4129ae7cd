// Authentication beyond tokens, and authorization, assembled for the controller: the
// bootstrap policy, the RBAC authorizer behind the request gate, access reviews,
// client-certificate users and the optional audit log.
import type { ApiCore } from '../apiserver/api-core.js';
import type { ExtraRoute } from '../apiserver/http/server.js';
import type { ControlLoop } from '../client/control-loop.js';
import { accessReviewRoutes } from './access-reviews.js';
import { ClusterRoleAggregator } from './aggregation.js';
import { AuditLog } from './audit-log.js';
import { ensureBootstrapRbac } from './bootstrap-rbac.js';
import { RbacAuthorizer } from './rbac-authorizer.js';
import { escalationCheck } from './escalation-check.js';
import { requestGate, type RequestGate } from './request-gate.js';
import { certificateAuthenticator } from './user-certificates.js';

export interface AuthDeps {
  core: ApiCore;
  dataDir: string;
  auditLogPath?: string;
  log: { info: (o: object, m: string) => void; warn: (o: object, m: string) => void };
  onDenied?: (user: { username: string }) => void;
}

export interface ClusterAuth {
  authorizer: RbacAuthorizer;
  gate: RequestGate;
  routes: ExtraRoute[];
  authenticateCertificate: ReturnType<typeof certificateAuthenticator>;
  loops: ControlLoop[];
}

export async function startClusterAuth(deps: AuthDeps): Promise<ClusterAuth> {
  await ensureBootstrapRbac(deps.core);
  const aggregator = new ClusterRoleAggregator(deps.core, deps.log);
  await aggregator.start();
  const authorizer = new RbacAuthorizer(deps.core);
  deps.core.admission.addWriteCheck(escalationCheck(deps.core, authorizer));
  const audit = deps.auditLogPath ? new AuditLog(deps.auditLogPath) : undefined;
  return {
    authorizer,
    gate: requestGate({ authorizer, audit, log: deps.log, onDenied: deps.onDenied }),
    routes: [accessReviewRoutes(authorizer)],
    authenticateCertificate: certificateAuthenticator(deps.dataDir),
    loops: [aggregator, { name: 'rbac-authorizer', start() {}, async stop() { authorizer.stop(); await audit?.close(); } }],
  };
}
