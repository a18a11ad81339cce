/**
 * @module engine/images/registry/auth
 * Registry credentials: the `X-Registry-Auth` header (moby api/types/registry AuthConfig, base64url
 * JSON, registry.DecodeAuthConfig), `WWW-Authenticate` challenges (RFC 7235; the Docker token
 * protocol https://distribution.github.io/distribution/spec/auth/token/ and its OAuth2 variant for
 * identity tokens), and the `.dockerconfigjson` a Kubernetes pull Secret carries.
 */
import { invalid } from '../../../errors.js';
import type { RegistryAuth } from '../../backend/images.js';

/**
 * Decode `X-Registry-Auth`. Empty, `{}` and all-empty objects mean anonymous (undefined); the
 * docker CLI sends base64url (RFC 4648 §5) without padding, older clients standard base64.
 */
export function decodeRegistryAuth(header: string | undefined): RegistryAuth | undefined {
  const h = header?.trim();
  if (!h) return undefined;
  let parsed: unknown;
  try {
    const b64 = h.replace(/-/g, '+').replace(/_/g, '/');
    parsed = JSON.parse(Buffer.from(b64, 'base64').toString('utf8'));
  } catch (err) {
    throw invalid(`invalid X-Registry-Auth header: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw invalid('invalid X-Registry-Auth header: not a JSON object');
  const out = authFromObject(parsed as Record<string, unknown>);
  return hasCredentials(out) ? out : undefined;
}

/** An AuthConfig object (the X-Registry-Auth JSON, or the POST /auth body) with empty fields dropped. */
export function authFromObject(a: Record<string, unknown>): RegistryAuth {
  const str = (k: string) => (typeof a[k] === 'string' && a[k] !== '' ? (a[k] as string) : undefined);
  const out: RegistryAuth = {};
  for (const k of [
    'username',
    'password',
    'auth',
    'email',
    'serveraddress',
    'identitytoken',
    'registrytoken',
  ] as const) {
    const v = str(k);
    if (v !== undefined) out[k] = v;
  }
  if (out.auth && !out.username) {
    const plain = Buffer.from(out.auth, 'base64').toString('utf8');
    const colon = plain.indexOf(':');
    if (colon > 0) {
      out.username = plain.slice(0, colon);
      out.password = plain.slice(colon + 1);
    }
  }
  return out;
}

export function hasCredentials(a: RegistryAuth | undefined): a is RegistryAuth {
  return !!a && (!!(a.username && a.password) || !!a.identitytoken || !!a.registrytoken);
}

export interface Challenge {
  scheme: string; // lower-case: 'bearer', 'basic'
  params: Record<string, string>;
}

/**
 * Parse `WWW-Authenticate` (RFC 7235 §4.1: `scheme param="v", param=token`, several challenges
 * separated by commas). Enough for what registries send.
 */
export function parseChallenges(header: string | undefined): Challenge[] {
  if (!header) return [];
  const out: Challenge[] = [];
  const re = /\s*([A-Za-z][\w!#$%&'*+.^`|~-]*)(?:\s+|$)/y;
  const param = /\s*([\w!#$%&'*+.^`|~-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/y;
  let i = 0;
  while (i < header.length) {
    re.lastIndex = i;
    const m = re.exec(header);
    if (!m) break;
    const ch: Challenge = { scheme: m[1]!.toLowerCase(), params: {} };
    i = re.lastIndex;
    for (;;) {
      param.lastIndex = i;
      const p = param.exec(header);
      if (!p) break;
      // A following "Scheme param=" starts a new challenge: a param name followed by a space, not '='.
      ch.params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
      i = param.lastIndex;
    }
    out.push(ch);
    while (i < header.length && (header[i] === ',' || header[i] === ' ')) i++;
  }
  return out;
}

/** `Basic base64(user:pass)` for RFC 7617 authentication. */
export function basicHeader(a: RegistryAuth): string | undefined {
  if (!a.username || a.password === undefined) return undefined;
  return `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}`;
}

/**
 * A `kubernetes.io/dockerconfigjson` payload for one registry (what `kubectl create secret
 * docker-registry` writes), or undefined for credentials the kubelet cannot use (identity and
 * registry tokens are Docker-daemon-only).
 */
export function dockerConfigJson(domainKey: string, a: RegistryAuth): string | undefined {
  if (!a.username || a.password === undefined) return undefined;
  const auth = Buffer.from(`${a.username}:${a.password}`).toString('base64');
  return JSON.stringify({
    auths: {
      [domainKey]: { username: a.username, password: a.password, auth, ...(a.email ? { email: a.email } : {}) },
    },
  });
}
