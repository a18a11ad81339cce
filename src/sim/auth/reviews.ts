/**
 * @module sim/auth/reviews
 * The review resources, answered and never stored: TokenReview (pkg/registry/authentication/
 * tokenreview), SelfSubjectReview (.../selfsubjectreview), SubjectAccessReview,
 * LocalSubjectAccessReview, SelfSubjectAccessReview (pkg/registry/authorization/*) and
 * SelfSubjectRulesReview (pkg/registry/authorization/selfsubjectrulesreview), plus TokenRequest
 * (serviceaccounts/token, pkg/registry/core/serviceaccount/storage/token.go).
 */
import { StatusError, badRequest, notFound } from '../status.js';
import type { KObject } from '../types.js';
import { defOf, type ResourceDef } from '../store/resources.js';
import type { Store } from '../store/store.js';
import type { Authenticator } from './authenticate.js';
import type { Attributes, Decision, Rbac } from './rbac.js';
import type { ServiceAccountTokens } from './tokens.js';
import type { UserInfo } from './user.js';

type Obj = Record<string, any>;

export interface ReviewEnv {
  store: Store;
  rbac: Rbac;
  authn: Authenticator;
  tokens: ServiceAccountTokens;
  authorize: (a: Attributes) => Decision;
}

const invalid = (kind: string, name: string, field: string, detail: string) =>
  new StatusError(422, 'Invalid', `${kind} "${name}" is invalid: ${field}: ${detail}`, {
    name,
    group: kind.split('.').slice(1).join('.'),
    kind: kind.split('.')[0],
    causes: [{ reason: 'FieldValueInvalid', message: detail, field }],
  });

/** authorizer attributes of a SubjectAccessReviewSpec (pkg/registry/authorization/util). */
function specAttributes(user: UserInfo, spec: Obj, kind: string): Attributes {
  const ra = spec.resourceAttributes,
    nra = spec.nonResourceAttributes;
  if (ra && nra)
    throw invalid(
      `${kind}.authorization.k8s.io`,
      '',
      'spec.nonResourceAttributes',
      'Invalid value: "null": cannot be specified in combination with resourceAttributes',
    );
  if (!ra && !nra)
    throw invalid(
      `${kind}.authorization.k8s.io`,
      '',
      'spec.resourceAttributes',
      'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
    );
  if (nra) return { user, verb: nra.verb ?? '', resourceRequest: false, path: nra.path ?? '' };
  return {
    user,
    verb: ra.verb ?? '',
    resourceRequest: true,
    namespace: ra.namespace ?? '',
    apiGroup: ra.group ?? '',
    apiVersion: ra.version ?? '',
    resource: ra.resource ?? '',
    subresource: ra.subresource ?? '',
    name: ra.name ?? '',
  };
}

function accessStatus(d: Decision): Obj {
  const s: Obj = { allowed: d.allowed };
  if (d.reason) s.reason = d.reason;
  return s;
}

const userInfoOut = (u: UserInfo): Obj => {
  const o: Obj = { username: u.username };
  if (u.uid) o.uid = u.uid;
  o.groups = u.groups;
  if (u.extra) o.extra = u.extra;
  return o;
};

/** The answer of a review `def` posted by `user` with `body` (in namespace `ns` for the local kinds). */
export function answerReview(env: ReviewEnv, def: ResourceDef, user: UserInfo, body: Obj, ns: string | undefined): Obj {
  const spec: Obj = body.spec ?? {};
  const out: Obj = {
    kind: def.kind,
    apiVersion: `${def.group}/${def.version}`,
    metadata: { ...(body.metadata ?? {}), creationTimestamp: null },
    spec,
  };
  switch (def.kind) {
    case 'SelfSubjectAccessReview':
      out.status = accessStatus(env.authorize(specAttributes(user, spec, 'SelfSubjectAccessReview')));
      return out;
    case 'SubjectAccessReview':
    case 'LocalSubjectAccessReview': {
      if (!spec.user && !spec.groups?.length)
        throw invalid(
          `${def.kind}.authorization.k8s.io`,
          '',
          'spec.user',
          'Invalid value: "": at least one of user or group must be specified',
        );
      if (def.kind === 'LocalSubjectAccessReview' && spec.resourceAttributes?.namespace !== ns)
        throw badRequest(`spec.resourceAttributes.namespace must match namespace: ${ns}`);
      const subject: UserInfo = {
        username: spec.user ?? '',
        groups: spec.groups ?? [],
        ...(spec.uid ? { uid: spec.uid } : {}),
        ...(spec.extra ? { extra: spec.extra } : {}),
      };
      out.status = accessStatus(env.authorize(specAttributes(subject, spec, def.kind)));
      return out;
    }
    case 'SelfSubjectRulesReview': {
      if (!spec.namespace)
        throw invalid('SelfSubjectRulesReview.authorization.k8s.io', '', 'spec.namespace', 'Required value');
      const { rules, errors } = env.rbac.rulesFor(user, spec.namespace);
      const resourceRules: Obj[] = [],
        nonResourceRules: Obj[] = [];
      for (const r of rules) {
        if (r.resources?.length)
          resourceRules.push({
            verbs: r.verbs,
            apiGroups: r.apiGroups ?? [],
            resources: r.resources,
            ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
          });
        if (r.nonResourceURLs?.length) nonResourceRules.push({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs });
      }
      out.status = { resourceRules, nonResourceRules, incomplete: false };
      if (errors.length) out.status.evaluationError = errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`;
      return out;
    }
    case 'SelfSubjectReview':
      delete out.spec;
      out.status = { userInfo: userInfoOut(user) };
      return out;
    case 'TokenReview': {
      if (!spec.token) throw badRequest('token is required for TokenReview in authentication');
      const auds: string[] | undefined = spec.audiences?.length ? spec.audiences : undefined;
      const r = env.authn.authenticateToken(spec.token, auds);
      out.status =
        'user' in r
          ? { authenticated: true, user: userInfoOut(r.user), audiences: r.audiences }
          : { user: {}, ...(r.error ? { error: r.error } : {}) };
      return out;
    }
  }
  throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
}

const SA = defOf({ group: '', resource: 'serviceaccounts' });
const PODS = defOf({ group: '', resource: 'pods' });
const SECRETS = defOf({ group: '', resource: 'secrets' });
const NODES = defOf({ group: '', resource: 'nodes' });
const DEFAULT_EXPIRATION_S = 3600;

/** serviceaccounts/token: a signed token for the service account, optionally bound to a Pod, Secret or Node. */
export function answerTokenRequest(env: ReviewEnv, ns: string, name: string, body: Obj): Obj {
  const sa = env.store.get(SA, ns, name);
  if (!sa) throw notFound('serviceaccounts', name);
  const spec: Obj = { ...(body.spec ?? {}) };
  let exp: number = Number.isInteger(spec.expirationSeconds) ? spec.expirationSeconds : DEFAULT_EXPIRATION_S;
  if (exp < 600)
    throw invalid(
      'TokenRequest.authentication.k8s.io',
      name,
      'spec.expirationSeconds',
      `Invalid value: ${exp}: may not specify a duration less than 10 minutes`,
    );
  if (exp > 2 ** 32)
    throw invalid(
      'TokenRequest.authentication.k8s.io',
      name,
      'spec.expirationSeconds',
      `Invalid value: ${exp}: may not specify a duration larger than 2^32 seconds`,
    );
  const max = env.tokens.opts.maxExpirationSeconds;
  if (max > 0 && exp > max) exp = max;
  const audiences: string[] = spec.audiences?.length ? spec.audiences : env.tokens.opts.apiAudiences;
  const ref: Obj | undefined = spec.boundObjectRef ?? undefined;
  let pod: KObject | undefined, secret: KObject | undefined, node: KObject | undefined;
  if (ref) {
    const group = String(ref.apiVersion ?? 'v1').includes('/') ? String(ref.apiVersion).split('/')[0] : '';
    const kind = ref.kind;
    const def =
      group === '' && kind === 'Pod'
        ? PODS
        : group === '' && kind === 'Secret'
          ? SECRETS
          : group === '' && kind === 'Node'
            ? NODES
            : undefined;
    if (!def)
      throw badRequest(
        `cannot bind token for serviceaccount "${name}" to object of kind "${kind}": kind not supported`,
      );
    const obj = env.store.get(def, def === NODES ? undefined : ns, ref.name);
    if (!obj)
      throw badRequest(
        `cannot bind token for serviceaccount "${name}" to ${kind.toLowerCase()} "${ref.name}": ${def.resource} "${ref.name}" not found`,
      );
    if (ref.uid && ref.uid !== obj.metadata.uid)
      throw new StatusError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${kind}.${group} "${ref.name}": the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
        { name: ref.name, kind },
      );
    if (def === PODS) {
      if ((obj as Obj).spec?.serviceAccountName !== name)
        throw badRequest(
          `cannot bind token for serviceaccount "${name}" to pod running with different serviceaccount name.`,
        );
      pod = obj;
      node = env.tokens.nodeOf(obj);
    } else if (def === SECRETS) secret = obj;
    else node = obj;
    spec.boundObjectRef = { kind, apiVersion: ref.apiVersion ?? 'v1', name: ref.name, uid: obj.metadata.uid };
  }
  const minted = env.tokens.mint({ sa, audiences, expirationSeconds: exp, pod, secret, node });
  return {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name, namespace: ns, creationTimestamp: null },
    spec: { audiences, expirationSeconds: exp, boundObjectRef: spec.boundObjectRef ?? null },
    status: { token: minted.token, expirationTimestamp: minted.expirationTimestamp },
  };
}
