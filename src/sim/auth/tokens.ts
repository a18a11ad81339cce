/**
 * @module sim/auth/tokens
 * Service-account tokens as kube-apiserver issues and checks them: RS256 JWTs signed with kube-sim's
 * own key (pkg/serviceaccount/jwt.go), the private `kubernetes.io` claims of bound tokens
 * (pkg/serviceaccount/claims.go: namespace, serviceaccount, pod, secret, node, warnafter) and the
 * legacy Secret-based tokens (pkg/serviceaccount/legacy.go). Validation follows the same file:
 * expiry, audiences, then the service account, bound Secret and bound Pod must still exist with the
 * UIDs of the claims (a Pod deleted more than the 60 s JWT leeway ago invalidates its tokens).
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KObject } from '../types.js';
import { defOf } from '../store/resources.js';
import type { Store } from '../store/store.js';
import { WARN_ONLY_EXPIRATION_S } from './sa-volume.js';
import { EXTRA, saGroups, saUsername, type UserInfo } from './user.js';

type Obj = Record<string, any>;

const SA = defOf({ group: '', resource: 'serviceaccounts' });
const PODS = defOf({ group: '', resource: 'pods' });
const SECRETS = defOf({ group: '', resource: 'secrets' });
const NODES = defOf({ group: '', resource: 'nodes' });

/** jwt.DefaultLeeway: things deleted less than this long ago still validate. */
const LEEWAY_S = 60;
/** pkg/serviceaccount/claims.go: the kubelet's default 3607 s token is extended to a year (warnafter = 3607 s). */
const EXTENDED_EXPIRATION_S = 24 * 365 * 60 * 60;
const LEGACY_ISSUER = 'kubernetes/serviceaccount';

export interface TokenOptions {
  /** --service-account-issuer. */
  issuer: string;
  /** --api-audiences (default: the issuer). */
  apiAudiences: string[];
  /** --service-account-extend-token-expiration (default true). */
  extendExpiration: boolean;
  /** --service-account-max-token-expiration in seconds (0 = none). */
  maxExpirationSeconds: number;
}

export interface MintRequest {
  sa: KObject;
  audiences: string[];
  expirationSeconds: number;
  pod?: KObject;
  secret?: KObject;
  node?: KObject;
}

export type Validation = { ok: true; user: UserInfo; audiences: string[] } | { ok: false; error: string };

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const nowS = () => Math.floor(Date.now() / 1000);
const ref = (o: KObject | undefined) => o && { name: o.metadata.name, uid: o.metadata.uid };

/** The signing key: kept in the state dir so a restarted kube-sim with the same dir accepts its old tokens. */
function loadKey(stateDir: string | undefined): KeyObject {
  if (stateDir === undefined) return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const file = join(stateDir, 'sa.key');
  if (existsSync(file)) return createPrivateKey(readFileSync(file));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return privateKey;
}

export class ServiceAccountTokens {
  private readonly key: KeyObject;
  private readonly pub: KeyObject;
  /** keyIDFromPublicKey (pkg/serviceaccount/jwt.go): base64url(sha256(DER public key)). */
  private readonly kid: string;

  constructor(
    private readonly store: Store,
    stateDir: string | undefined,
    readonly opts: TokenOptions,
  ) {
    this.key = loadKey(stateDir);
    this.pub = createPublicKey(this.key);
    this.kid = createHash('sha256')
      .update(this.pub.export({ type: 'spki', format: 'der' }))
      .digest('base64url');
  }

  private signJwt(claims: Obj): string {
    const input = `${b64({ alg: 'RS256', kid: this.kid })}.${b64(claims)}`;
    return `${input}.${sign('sha256', Buffer.from(input), this.key).toString('base64url')}`;
  }

  /** A bound token (TokenRequest; the kubelet's projected volume). Returns the token and its expiry as shown to the client. */
  mint(r: MintRequest): { token: string; expirationTimestamp: string } {
    const now = nowS();
    let exp = r.expirationSeconds;
    let warnafter: number | undefined;
    // token.go (serviceaccount TokenREST): only the kubelet's default, pod-bound, kube-audience token is extended.
    if (
      this.opts.extendExpiration &&
      r.pod &&
      exp === WARN_ONLY_EXPIRATION_S &&
      r.audiences.every((a) => this.opts.apiAudiences.includes(a))
    ) {
      warnafter = now + exp;
      exp = EXTENDED_EXPIRATION_S;
    }
    const k8s: Obj = { namespace: r.sa.metadata.namespace, serviceaccount: ref(r.sa) };
    if (r.pod) k8s.pod = ref(r.pod);
    else if (r.secret) k8s.secret = ref(r.secret);
    if (r.node) k8s.node = ref(r.node);
    if (warnafter) k8s.warnafter = warnafter;
    const claims = {
      aud: r.audiences,
      exp: now + exp,
      iat: now,
      iss: this.opts.issuer,
      jti: randomUUID(),
      'kubernetes.io': k8s,
      nbf: now,
      sub: saUsername(r.sa.metadata.namespace!, r.sa.metadata.name!),
    };
    return {
      token: this.signJwt(claims),
      expirationTimestamp: new Date((now + r.expirationSeconds) * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
    };
  }

  /** A legacy token for a `kubernetes.io/service-account-token` Secret (LegacyClaims). */
  mintLegacy(sa: KObject, secret: KObject): string {
    return this.signJwt({
      iss: LEGACY_ISSUER,
      'kubernetes.io/serviceaccount/namespace': sa.metadata.namespace,
      'kubernetes.io/serviceaccount/secret.name': secret.metadata.name,
      'kubernetes.io/serviceaccount/service-account.name': sa.metadata.name,
      'kubernetes.io/serviceaccount/service-account.uid': sa.metadata.uid,
      sub: saUsername(sa.metadata.namespace!, sa.metadata.name!),
    });
  }

  /** Decode and verify the signature; undefined when the token is not one of ours. */
  private decode(token: string): Obj | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    try {
      const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'));
      if (header.alg !== 'RS256') return undefined;
      if (!verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), this.pub, Buffer.from(parts[2]!, 'base64url')))
        return undefined;
      return JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
  }

  /**
   * Validate a token for `audiences` (the API audiences unless a TokenReview names others).
   * undefined: not a kube-sim service-account token at all (another authenticator may know it).
   */
  validate(token: string, audiences = this.opts.apiAudiences): Validation | undefined {
    const c = this.decode(token);
    if (!c) return undefined;
    if (c.iss === LEGACY_ISSUER) return this.validateLegacy(token, c);
    if (c.iss !== this.opts.issuer) return undefined;
    const now = nowS();
    if (typeof c.exp === 'number' && now > c.exp + LEEWAY_S)
      return { ok: false, error: 'service account token has expired' };
    if (typeof c.nbf === 'number' && now < c.nbf - LEEWAY_S)
      return { ok: false, error: 'service account token is not valid yet' };
    const tokAud: string[] = Array.isArray(c.aud) ? c.aud : [c.aud];
    const matched = audiences.filter((a) => tokAud.includes(a));
    if (!matched.length)
      return {
        ok: false,
        error: `token audiences ${goQuoteList(tokAud)} is invalid for the target audiences ${goQuoteList(audiences)}`,
      };
    const k: Obj = c['kubernetes.io'] ?? {};
    const ns: string = k.namespace;
    const saRef: Obj = k.serviceaccount ?? {};
    const bad = this.checkLive(ns, saRef, k.secret, k.pod);
    if (bad) return { ok: false, error: bad };
    const extra: Record<string, string[]> = {};
    if (k.pod?.name && k.pod?.uid) {
      extra[EXTRA.podName] = [k.pod.name];
      extra[EXTRA.podUid] = [k.pod.uid];
    }
    if (c.jti) extra[EXTRA.credentialId] = [`JTI=${c.jti}`];
    if (k.node?.name) {
      extra[EXTRA.nodeName] = [k.node.name];
      if (k.node.uid) extra[EXTRA.nodeUid] = [k.node.uid];
    }
    const user: UserInfo = { username: saUsername(ns, saRef.name), uid: saRef.uid, groups: saGroups(ns) };
    if (Object.keys(extra).length) user.extra = extra;
    return { ok: true, user, audiences: matched };
  }

  /** The service account, bound Secret and bound Pod must still exist with the claimed UIDs (claims.go Validate). */
  private checkLive(ns: string, saRef: Obj, secRef: Obj | undefined, podRef: Obj | undefined): string | undefined {
    const deletedBefore = (o: KObject) =>
      !!o.metadata.deletionTimestamp && Date.parse(o.metadata.deletionTimestamp) < Date.now() - LEEWAY_S * 1000;
    const sa = this.store.get(SA, ns, saRef.name);
    if (!sa) return `serviceaccounts "${saRef.name}" not found`;
    if (deletedBefore(sa)) return `service account ${ns}/${saRef.name} has been deleted`;
    if (sa.metadata.uid !== saRef.uid)
      return `service account UID (${sa.metadata.uid}) does not match claim (${saRef.uid})`;
    if (secRef) {
      const s = this.store.get(SECRETS, ns, secRef.name);
      if (!s || deletedBefore(s)) return 'service account token has been invalidated';
      if (s.metadata.uid !== secRef.uid)
        return `secret UID (${s.metadata.uid}) does not match service account secret ref claim (${secRef.uid})`;
    }
    if (podRef) {
      const p = this.store.get(PODS, ns, podRef.name);
      if (!p || deletedBefore(p)) return 'service account token has been invalidated';
      if (p.metadata.uid !== podRef.uid)
        return `pod UID (${p.metadata.uid}) does not match service account pod ref claim (${podRef.uid})`;
    }
    return undefined;
  }

  /** legacy.go: the Secret must exist and still hold this token; the service account must match. */
  private validateLegacy(token: string, c: Obj): Validation {
    const ns: string = c['kubernetes.io/serviceaccount/namespace'];
    const secretName: string = c['kubernetes.io/serviceaccount/secret.name'];
    const saName: string = c['kubernetes.io/serviceaccount/service-account.name'];
    const saUid: string = c['kubernetes.io/serviceaccount/service-account.uid'];
    const secret = this.store.get(SECRETS, ns, secretName) as Obj | undefined;
    if (!secret || secret.metadata.deletionTimestamp)
      return { ok: false, error: 'service account token has been invalidated' };
    const held = secret.data?.token ? Buffer.from(secret.data.token, 'base64').toString('utf8') : '';
    if (held !== token) return { ok: false, error: 'service account token has been invalidated' };
    const sa = this.store.get(SA, ns, saName);
    if (!sa || sa.metadata.deletionTimestamp)
      return { ok: false, error: `service account ${ns}/${saName} has been deleted` };
    if (sa.metadata.uid !== saUid)
      return { ok: false, error: `service account UID (${sa.metadata.uid}) does not match claim (${saUid})` };
    return {
      ok: true,
      user: { username: saUsername(ns, saName), uid: saUid, groups: saGroups(ns) },
      audiences: this.opts.apiAudiences,
    };
  }

  /** The service-account issuer discovery documents (pkg/serviceaccount/openidmetadata.go). */
  oidc(doc: 'openid-configuration' | 'jwks'): Obj {
    if (doc === 'jwks')
      return { keys: [{ use: 'sig', kty: 'RSA', kid: this.kid, alg: 'RS256', ...this.pub.export({ format: 'jwk' }) }] };
    return {
      issuer: this.opts.issuer,
      jwks_uri: `${this.opts.issuer}/openid/v1/jwks`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    };
  }

  /** The node a pod runs on, for the node claims (ServiceAccountTokenPodNodeInfo). */
  nodeOf(pod: KObject): KObject | undefined {
    const n = (pod as Obj).spec?.nodeName;
    return n ? this.store.get(NODES, undefined, n) : undefined;
  }
}

/** Go's %q of a []string: ["a" "b"]. */
export const goQuoteList = (l: string[]) => `[${l.map((s) => JSON.stringify(s)).join(' ')}]`;
