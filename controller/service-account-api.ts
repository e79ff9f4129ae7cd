// What the API server itself needs of service-account tokens — checking a bearer token
// and issuing one for `serviceaccounts/<name>/token` — on every controller, whether or
// not it runs the controller manager.
import type { UserInfo } from './apiserver/http/server.js';
import type { TokenIssuer } from './apiserver/http/resource-routes.js';
import type { ClusterClient } from './apiserver/client.js';
import type { TokenSigner } from './controller-manager/index.js';
import { rfc3339Seconds } from '../protocol/kube/time.js';

/** Longest lifetime `kubectl create token --duration` may ask for, unless the flag says otherwise. */
export const DEFAULT_MAX_TOKEN_SECONDS = 48 * 3600;

export function serviceAccountAuthenticator(signer: TokenSigner, client: ClusterClient): (token: string) => UserInfo | undefined {
  return (token) => {
    // Service-account tokens are JWTs; anything else is not ours to judge.
    if (token.split('.').length !== 3) return undefined;
    const user = signer.verify(token);
    if (!user) return undefined;
    // A token bound to a pod ends with that pod (upstream's legacy validator does the same).
    if (user.pod) {
      const pod = client.get({ group: '', resource: 'pods' }, user.namespace, user.pod.name);
      if (!pod || pod.metadata.uid !== user.pod.uid) return undefined;
    }
    const extra: Record<string, string[]> = {};
    if (user.pod) { extra['authentication.kubernetes.io/pod-name'] = [user.pod.name]; extra['authentication.kubernetes.io/pod-uid'] = [user.pod.uid]; }
    if (user.node) extra['authentication.kubernetes.io/node-name'] = [user.node.name];
    return { username: user.username, uid: user.uid, groups: user.groups, ...(Object.keys(extra).length ? { extra } : {}) };
  };
}

export function serviceAccountTokenIssuer(signer: TokenSigner, maxTokenSeconds = DEFAULT_MAX_TOKEN_SECONDS): TokenIssuer {
  return (sa, request) => {
    const ttl = Math.min(request.expirationSeconds ?? 3600, maxTokenSeconds);
    const token = signer.sign({
      namespace: sa.metadata.namespace!, serviceAccountName: sa.metadata.name!, uid: sa.metadata.uid!,
      ...(request.boundPod ? { pod: request.boundPod } : {}), ...(request.audiences?.length ? { audiences: request.audiences } : {}),
    }, ttl);
    return { token, expirationTimestamp: rfc3339Seconds(Date.now() + ttl * 1000) };
  };
}
