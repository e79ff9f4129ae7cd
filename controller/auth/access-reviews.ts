// authorization.k8s.io/v1 (SelfSubjectAccessReview, SubjectAccessReview,
// LocalSubjectAccessReview, SelfSubjectRulesReview) and authentication.k8s.io/v1
// SelfSubjectReview: what `kubectl auth can-i` and `kubectl auth whoami` ask. The gate has
// already checked that the caller may create the review itself.
import type { ExtraRoute, UserInfo } from '../apiserver/http/server.js';
import { registerVirtualGroup } from '../apiserver/http/discovery.js';
import { decodeBody, readBody } from '../apiserver/http/body.js';
import { sendJson } from '../apiserver/http/respond.js';
import { badRequest, methodNotAllowed, ApiError } from '../apiserver/errors.js';
import type { RequestAttributes } from './attributes.js';
import type { RbacAuthorizer } from './rbac-authorizer.js';
import { MASTERS_GROUP } from './rbac-authorizer.js';
import type { PolicyRule } from './policy-rule.js';

const AUTHZ = '/apis/authorization.k8s.io/v1';
const AUTHN = '/apis/authentication.k8s.io/v1';

interface ResourceAttrs { namespace?: string; verb?: string; group?: string; version?: string; resource?: string; subresource?: string; name?: string }
interface NonResourceAttrs { path?: string; verb?: string }
interface ReviewSpec { resourceAttributes?: ResourceAttrs; nonResourceAttributes?: NonResourceAttrs; user?: string; groups?: string[]; uid?: string; extra?: Record<string, unknown>; namespace?: string }

export function accessReviewRoutes(authz: RbacAuthorizer): ExtraRoute {
  registerVirtualGroup({
    group: 'authorization.k8s.io', version: 'v1', resources: [
      { name: 'selfsubjectaccessreviews', singularName: 'selfsubjectaccessreview', kind: 'SelfSubjectAccessReview', namespaced: false, verbs: ['create'] },
      { name: 'selfsubjectrulesreviews', singularName: 'selfsubjectrulesreview', kind: 'SelfSubjectRulesReview', namespaced: false, verbs: ['create'] },
      { name: 'subjectaccessreviews', singularName: 'subjectaccessreview', kind: 'SubjectAccessReview', namespaced: false, verbs: ['create'] },
      { name: 'localsubjectaccessreviews', singularName: 'localsubjectaccessreview', kind: 'LocalSubjectAccessReview', namespaced: true, verbs: ['create'] },
    ],
  });
  registerVirtualGroup({
    group: 'authentication.k8s.io', version: 'v1', resources: [
      { name: 'selfsubjectreviews', singularName: 'selfsubjectreview', kind: 'SelfSubjectReview', namespaced: false, verbs: ['create'] },
    ],
  });
  return async (req, res, url, user) => {
    const path = url.pathname.replace(/\/+$/, '');
    let kind: string;
    let namespace = '';
    if (path === `${AUTHZ}/selfsubjectaccessreviews`) kind = 'SelfSubjectAccessReview';
    else if (path === `${AUTHZ}/selfsubjectrulesreviews`) kind = 'SelfSubjectRulesReview';
    else if (path === `${AUTHZ}/subjectaccessreviews`) kind = 'SubjectAccessReview';
    else if (path === `${AUTHN}/selfsubjectreviews`) kind = 'SelfSubjectReview';
    else {
      const m = path.match(/^\/apis\/authorization\.k8s\.io\/v1\/namespaces\/([^/]+)\/localsubjectaccessreviews$/);
      if (!m) return false;
      kind = 'LocalSubjectAccessReview';
      namespace = decodeURIComponent(m[1]!);
    }
    if (req.method !== 'POST') throw methodNotAllowed();
    const body = decodeBody(await readBody(req), req.headers['content-type']) as { metadata?: object; spec?: ReviewSpec } | null;
    const spec: ReviewSpec = body?.spec ?? {};
    const apiVersion = kind === 'SelfSubjectReview' ? 'authentication.k8s.io/v1' : 'authorization.k8s.io/v1';
    const reply = (status: object, echoSpec: object = spec) =>
      sendJson(res, 201, { kind, apiVersion, metadata: { ...(body?.metadata ?? {}), creationTimestamp: null }, ...(kind === 'SelfSubjectReview' ? {} : { spec: echoSpec }), status });
    switch (kind) {
      case 'SelfSubjectReview':
        return reply({ userInfo: { username: user.username, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups, ...(user.extra ? { extra: user.extra } : {}) } }), true;
      case 'SelfSubjectRulesReview': {
        const ns = spec.namespace ?? '';
        return reply(rulesReview(authz, user, ns)), true;
      }
      case 'SelfSubjectAccessReview':
        return reply(review(authz, user, spec)), true;
      default: {
        if (!spec.user && !spec.groups?.length) throw invalidReview(kind, 'spec.user', 'at least one of user or group must be specified');
        if (kind === 'LocalSubjectAccessReview' && spec.resourceAttributes?.namespace !== namespace) {
          throw invalidReview(kind, 'spec.resourceAttributes.namespace', 'must match metadata.namespace');
        }
        const subject: UserInfo = { username: spec.user ?? '', groups: spec.groups ?? [], ...(spec.uid ? { uid: spec.uid } : {}) };
        return reply(review(authz, subject, spec)), true;
      }
    }
  };
}

function invalidReview(kind: string, field: string, message: string): ApiError {
  return new ApiError(422, 'Invalid', `${kind}.authorization.k8s.io "" is invalid: ${field}: Invalid value: ${message}`, { group: 'authorization.k8s.io', kind, causes: [{ reason: 'FieldValueInvalid', field, message }] });
}

function review(authz: RbacAuthorizer, user: UserInfo, spec: ReviewSpec): object {
  const ra = spec.resourceAttributes;
  const nra = spec.nonResourceAttributes;
  if (!ra && !nra) throw badRequest('exactly one of nonResourceAttributes or resourceAttributes must be specified');
  const a: RequestAttributes = ra
    ? { user, verb: ra.verb ?? '', resourceRequest: true, path: '', apiGroup: ra.group ?? '', apiVersion: ra.version ?? '', resource: ra.resource ?? '', subresource: ra.subresource ?? '', namespace: ra.namespace ?? '', name: ra.name ?? '' }
    : { user, verb: nra!.verb ?? '', resourceRequest: false, path: nra!.path ?? '', apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '' };
  const d = authz.authorize(a);
  return d.allowed ? { allowed: true, reason: d.reason || 'allowed' } : { allowed: false };
}

/** What the user may do in a namespace, as rule lists (kubectl auth can-i --list prints them). */
function rulesReview(authz: RbacAuthorizer, user: UserInfo, namespace: string): object {
  const rules: PolicyRule[] = user.groups.includes(MASTERS_GROUP)
    ? [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }]
    : authz.rulesFor(user, namespace);
  return {
    resourceRules: rules.filter((r) => r.resources?.length).map((r) => ({
      verbs: r.verbs ?? [], apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
    })),
    nonResourceRules: rules.filter((r) => r.nonResourceURLs?.length).map((r) => ({ verbs: r.verbs ?? [], nonResourceURLs: r.nonResourceURLs ?? [] })),
    incomplete: false,
  };
}
