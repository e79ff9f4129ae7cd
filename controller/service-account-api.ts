// What the API server itself needs of service-account tokens — checking a bearer token
// and issuing one for `serviceaccounts/<name>/token` — on every controller, whether or
// not it runs the controller manager.
import type { UserInfo } from './apiserver/http/server.js';
import type { TokenIssuer } from './apiserver/http/resource-routes.js';
import type { TokenSigner } from './controllers/index.js';

export function serviceAccountAuthenticator(signer: TokenSigner): (token: string) => UserInfo | undefined {
  return (token) => {
    // Service-account tokens are JWTs; anything else is not ours to judge.
    if (token.split('.').length !== 3) return undefined;
    const user = signer.verify(token);
    return user ? { username: user.username, uid: user.uid, groups: user.groups } : undefined;
  };
}

export function serviceAccountTokenIssuer(signer: TokenSigner): TokenIssuer {
  return (sa, request) => {
    const ttl = request.expirationSeconds ?? 3600;
    const token = signer.sign({
      namespace: sa.metadata.namespace!, serviceAccountName: sa.metadata.name!, uid: sa.metadata.uid!,
      ...(request.boundPod ? { pod: request.boundPod } : {}), ...(request.audiences?.length ? { audiences: request.audiences } : {}),
    }, ttl);
    return { token, expirationTimestamp: new Date(Date.now() + ttl * 1000).toISOString().replace(/\.\d+Z$/, 'Z') };
  };
}
