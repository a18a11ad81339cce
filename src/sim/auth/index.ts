/**
 * @module sim/auth
 * kube-sim's authentication and authorization, in front of the request path: who is asking
 * (bearer tokens: the kubeconfig's admin, static test users, service-account JWTs; impersonation),
 * may they (RBAC, with system:masters above it), and the resources that answer those questions
 * (reviews, TokenRequest) or change them (the escalation guard on roles and bindings). The apiserver
 * calls `admit()` once per request and reaches the rest through this facade.
 * With no admin token (authentication off), every request is the admin and nothing is refused.
 */
import type { IncomingMessage } from 'node:http';
import { StatusError } from '../status.js';
import type { KObject } from '../types.js';
import { defOf, type ResourceDef } from '../store/resources.js';
import type { Store } from '../store/store.js';
import { attributesOf, forbidden, websocketCreateCheck, type ResourceTarget } from './attributes.js';
import { Authenticator, type StaticUser } from './authenticate.js';
import { installBootstrapPolicy } from './bootstrap.js';
import { guardRbacWrite, isRbacWrite } from './escalation.js';
import { impersonate } from './impersonate.js';
import { installLegacyTokenController } from './legacy-tokens.js';
import { Rbac, type Attributes, type Decision } from './rbac.js';
import { answerReview, answerTokenRequest, type ReviewEnv } from './reviews.js';
import { ServiceAccountTokens } from './tokens.js';
import { UsageRecorder, type AuthzUsage } from './usage.js';
import { ADMIN, MASTERS, type UserInfo } from './user.js';

export type { StaticUser } from './authenticate.js';
export type { UserInfo } from './user.js';
export { mountServiceAccountToken } from './sa-volume.js';

type Obj = Record<string, any>;

export interface SimAuthOptions {
  /** Where the service-account signing key is kept (sa.key); undefined = a key in memory. */
  stateDir?: string;
  /** The kubeconfig's bearer token (a system:masters user); undefined = authentication off. */
  adminToken?: string;
  /** More static bearer tokens (kube-apiserver --token-auth-file), e.g. for tests. */
  users?: StaticUser[];
  /** --service-account-issuer (default https://kubernetes.default.svc.cluster.local). */
  issuer?: string;
  /** --api-audiences (default: the issuer). */
  apiAudiences?: string[];
  /** --service-account-extend-token-expiration (default true). */
  extendTokenExpiration?: boolean;
  /** --service-account-max-token-expiration, seconds (default 0: none). */
  maxTokenExpirationSeconds?: number;
  /** ca.crt of legacy token Secrets. */
  caPem?: string;
  /** Denials kept for GET /_sim/authz (default 1000). */
  maxRecordedDenials?: number;
  /** Feature gates; AuthorizePodWebsocketUpgradeCreatePermission (default false, as in 1.33). */
  featureGates?: Record<string, boolean>;
}

const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
const SERVICE_ACCOUNTS = defOf({ group: '', resource: 'serviceaccounts' });

export class SimAuth {
  readonly enabled: boolean;
  private readonly wsCreate: boolean;
  readonly tokens: ServiceAccountTokens;
  readonly authn: Authenticator;
  readonly rbac: Rbac;
  private readonly users = new WeakMap<IncomingMessage, UserInfo>();
  private readonly podTokens = new Map<string, { token: string; renewAt: number }>();
  private readonly reviewEnv: ReviewEnv;
  private readonly recorder: UsageRecorder;

  constructor(
    readonly store: Store,
    opts: SimAuthOptions,
  ) {
    this.enabled = opts.adminToken !== undefined;
    this.wsCreate = opts.featureGates?.AuthorizePodWebsocketUpgradeCreatePermission === true;
    const issuer = opts.issuer ?? DEFAULT_ISSUER;
    this.tokens = new ServiceAccountTokens(store, opts.stateDir, {
      issuer,
      apiAudiences: opts.apiAudiences ?? [issuer],
      extendExpiration: opts.extendTokenExpiration ?? true,
      maxExpirationSeconds: opts.maxTokenExpirationSeconds ?? 0,
    });
    const statics: StaticUser[] = [...(opts.users ?? [])];
    if (opts.adminToken !== undefined)
      statics.unshift({ token: opts.adminToken, username: ADMIN.username, groups: ADMIN.groups });
    this.authn = new Authenticator(this.tokens, statics);
    this.rbac = new Rbac(store);
    this.recorder = new UsageRecorder(opts.maxRecordedDenials ?? 1000);
    installBootstrapPolicy(store);
    installLegacyTokenController(store, this.tokens, opts.caPem ?? '');
    this.reviewEnv = {
      store,
      rbac: this.rbac,
      authn: this.authn,
      tokens: this.tokens,
      authorize: (a) => this.authorize(a),
    };
  }

  authorize(a: Attributes): Decision {
    return this.rbac.authorize(a);
  }

  /**
   * Authenticate, apply impersonation, authorize: the user, or a thrown 401/403 Status.
   * `target` is the resource the URL names (undefined for discovery, health and other paths);
   * `wsToken` is the WebSocket bearer subprotocol's token; `upgrade` marks a WebSocket request.
   */
  admit(
    req: IncomingMessage,
    target: ResourceTarget | undefined,
    method: string,
    url: URL,
    wsToken?: string,
    upgrade = false,
  ): UserInfo {
    if (!this.enabled) {
      this.users.set(req, ADMIN);
      return ADMIN;
    }
    const authenticated = this.authn.authenticate(req, wsToken);
    if (!authenticated) throw new StatusError(401, 'Unauthorized', 'Unauthorized');
    const user = impersonate(req, authenticated, (a) => this.authorize(a)) ?? authenticated;
    const check = (a: Attributes) => {
      const d = this.authorize(a);
      if (!a.user.groups.includes(MASTERS)) this.recorder.record(a, d);
      if (!d.allowed) throw forbidden(a, d.reason);
    };
    const a = attributesOf(user, target, method, url);
    check(a);
    const c = upgrade && this.wsCreate ? websocketCreateCheck(a) : undefined;
    if (c) check(c);
    this.users.set(req, user);
    return user;
  }

  /** The user `admit()` let in (the admin when the request never went through it). */
  userOf(req: IncomingMessage): UserInfo {
    return this.users.get(req) ?? ADMIN;
  }

  /** GET /_sim/authz: which role rules allowed what, and the recent denials (DELETE clears). */
  usage(): AuthzUsage {
    return this.recorder.snapshot();
  }

  clearUsage(): void {
    this.recorder.clear();
  }

  /** /.well-known/openid-configuration and /openid/v1/jwks. */
  oidc(doc: 'openid-configuration' | 'jwks'): Obj {
    return this.tokens.oidc(doc);
  }

  /** A review resource POSTed by the request's user. */
  review(req: IncomingMessage, def: ResourceDef, ns: string | undefined, body: unknown): Obj {
    return answerReview(this.reviewEnv, def, this.userOf(req), (body ?? {}) as Obj, ns);
  }

  tokenRequest(ns: string, name: string, body: unknown): Obj {
    return answerTokenRequest(this.reviewEnv, ns, name, (body ?? {}) as Obj);
  }

  /** The escalation check before a write of a role or binding (`next` as it would be stored). */
  guardWrite(req: IncomingMessage, def: ResourceDef, next: KObject, prev: KObject | undefined): void {
    if (!this.enabled || !isRbacWrite(def)) return;
    guardRbacWrite(this.rbac, (a) => this.authorize(a), this.userOf(req), def, next, prev);
  }

  /**
   * The kubelet's token for a pod's projected serviceAccountToken source, bound to the pod; renewed
   * once 80% of its lifetime has passed, as the kubelet's token manager does (pkg/kubelet/token).
   */
  podToken(pod: KObject, source: { audience?: string; expirationSeconds?: number }): string {
    const spec = (pod as Obj).spec ?? {};
    const exp = source.expirationSeconds ?? 3600;
    const key = `${pod.metadata.uid}|${source.audience ?? ''}|${exp}`;
    const cached = this.podTokens.get(key);
    if (cached && Date.now() < cached.renewAt) return cached.token;
    const sa = this.store.get(SERVICE_ACCOUNTS, pod.metadata.namespace, spec.serviceAccountName ?? 'default');
    if (!sa) return '';
    const audiences = source.audience ? [source.audience] : this.tokens.opts.apiAudiences;
    const { token } = this.tokens.mint({ sa, audiences, expirationSeconds: exp, pod, node: this.tokens.nodeOf(pod) });
    this.podTokens.set(key, { token, renewAt: Date.now() + exp * 800 });
    for (const [k] of this.podTokens) if (!this.store.byUid.has(k.split('|')[0]!)) this.podTokens.delete(k);
    return token;
  }
}
