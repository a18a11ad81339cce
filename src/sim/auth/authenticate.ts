/**
 * @module sim/auth/authenticate
 * Request authentication as kube-apiserver's chain does it (apiserver/pkg/authentication/request/
 * bearertoken, union, anonymous): a bearer token (Authorization header, or the WebSocket bearer
 * subprotocol) is the static admin's, a static test user's, or a service-account JWT; a token nobody
 * knows is 401; no token is system:anonymous. Authenticated users get system:authenticated.
 */
import type { IncomingMessage } from 'node:http';
import type { ServiceAccountTokens } from './tokens.js';
import { ANONYMOUS, AUTHENTICATED, type UserInfo } from './user.js';

/** A static bearer token (kube-apiserver --token-auth-file): token -> user. */
export interface StaticUser {
  token: string;
  username: string;
  uid?: string;
  groups?: string[];
}

export type AuthnResult = { user: UserInfo } | { error: string };

export class Authenticator {
  private readonly statics = new Map<string, UserInfo>();

  constructor(
    private readonly tokens: ServiceAccountTokens,
    statics: StaticUser[],
  ) {
    for (const s of statics) this.addStatic(s);
  }

  addStatic(s: StaticUser): void {
    const groups = [...(s.groups ?? [])];
    if (!groups.includes(AUTHENTICATED)) groups.push(AUTHENTICATED);
    this.statics.set(s.token, { username: s.username, ...(s.uid ? { uid: s.uid } : {}), groups });
  }

  /**
   * A token alone (the request path and TokenReview share it). The error is the failing
   * authenticator's own (a TokenReview shows it); '' when no authenticator knows the token.
   */
  authenticateToken(token: string, audiences?: string[]): AuthnResult & { audiences?: string[] } {
    const st = this.statics.get(token);
    if (st) return { user: st, audiences: audiences ?? this.tokens.opts.apiAudiences };
    const v = this.tokens.validate(token, audiences);
    if (!v) return { error: '' };
    if (!v.ok) return { error: v.error };
    return { user: v.user, audiences: v.audiences };
  }

  /** undefined = 401. */
  authenticate(req: IncomingMessage, wsToken?: string): UserInfo | undefined {
    const h = req.headers.authorization;
    const token = h && /^bearer\s+/i.test(h) ? h.replace(/^bearer\s+/i, '').trim() : wsToken;
    if (token === undefined) return h ? undefined : ANONYMOUS;
    if (token === '') return undefined;
    const r = this.authenticateToken(token);
    return 'user' in r ? r.user : undefined;
  }
}
