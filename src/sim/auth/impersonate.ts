/**
 * @module sim/auth/impersonate
 * Impersonation headers (apiserver/pkg/endpoints/filters/impersonation.go): Impersonate-User,
 * -Group, -Uid and -Extra-<key>; each asks the `impersonate` verb on users / serviceaccounts (for
 * system:serviceaccount:<ns>:<name>), groups, uids or userextras/<key>. A service account
 * impersonated without groups gets its fixed groups; a non-anonymous user gets system:authenticated.
 */
import type { IncomingMessage } from 'node:http';
import { StatusError } from '../status.js';
import { forbidden } from './attributes.js';
import type { Attributes, Decision } from './rbac.js';
import { ANONYMOUS, AUTHENTICATED, UNAUTHENTICATED, saGroups, splitSaUsername, type UserInfo } from './user.js';

const EXTRA_PREFIX = 'impersonate-extra-';

const values = (req: IncomingMessage, name: string): string[] => {
  const out: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) out.push(raw[i + 1]!);
  return out;
};

/** The impersonated user, or undefined when the request impersonates no one. Throws 403/400. */
export function impersonate(
  req: IncomingMessage,
  requestor: UserInfo,
  authorize: (a: Attributes) => Decision,
): UserInfo | undefined {
  const users = values(req, 'impersonate-user');
  const groups = values(req, 'impersonate-group');
  const uids = values(req, 'impersonate-uid');
  const extraKeys = Object.keys(req.headers).filter((h) => h.startsWith(EXTRA_PREFIX));
  if (!users.length && !groups.length && !uids.length && !extraKeys.length) return undefined;
  if (!users.length) throw new StatusError(400, 'BadRequest', 'requested impersonation without impersonating a user');
  const check = (a: Omit<Attributes, 'user' | 'verb' | 'resourceRequest'>) => {
    const full: Attributes = { user: requestor, verb: 'impersonate', resourceRequest: true, ...a };
    const d = authorize(full);
    if (!d.allowed) throw forbidden(full, d.reason);
  };
  const username = users[0]!;
  const sa = splitSaUsername(username);
  if (sa) check({ apiGroup: '', resource: 'serviceaccounts', namespace: sa.namespace, name: sa.name });
  else check({ apiGroup: '', resource: 'users', name: username });
  for (const g of groups) check({ apiGroup: '', resource: 'groups', name: g });
  for (const u of uids) check({ apiGroup: 'authentication.k8s.io', resource: 'uids', name: u });
  const extra: Record<string, string[]> = {};
  for (const h of extraKeys) {
    const key = decodeURIComponent(h.slice(EXTRA_PREFIX.length));
    for (const v of values(req, h)) {
      check({ apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: key, name: v });
      (extra[key] ??= []).push(v);
    }
  }
  let outGroups = [...groups];
  if (sa && !groups.length) outGroups = saGroups(sa.namespace).filter((g) => g !== AUTHENTICATED);
  if (username !== ANONYMOUS.username) {
    if (!outGroups.includes(AUTHENTICATED) && !outGroups.includes(UNAUTHENTICATED)) outGroups.push(AUTHENTICATED);
  } else if (!outGroups.includes(UNAUTHENTICATED) && !outGroups.includes(AUTHENTICATED))
    outGroups.push(UNAUTHENTICATED);
  for (const h of ['impersonate-user', 'impersonate-group', 'impersonate-uid', ...extraKeys]) delete req.headers[h];
  const user: UserInfo = { username, groups: outGroups };
  if (uids[0]) user.uid = uids[0];
  if (Object.keys(extra).length) user.extra = extra;
  return user;
}
