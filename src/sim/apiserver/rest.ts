/**
 * @module sim/apiserver/rest
 * The resource handlers (apiserver/pkg/endpoints/handlers: get.go, create.go, update.go,
 * patch.go, delete.go): query parsing, list pagination with consistent snapshots, Table and
 * PartialObjectMetadata transforms, status answers, and the pod subresources that are not
 * streams (status, binding, eviction).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimAuth } from '../auth/index.js';
import { StatusError, badRequest, notFound, type Status } from '../status.js';
import type { KObject } from '../types.js';
import { parseFieldSelector, parseLabelSelector, pinnedName } from '../store/selectors.js';
import { apiVersionOf, resourceKey, type ResourceDef } from '../store/resources.js';
import type { DeleteOptions, Lifecycle } from '../store/lifecycle.js';
import { decodeBody, negotiate, send } from './encoding.js';
import { partial, toTable, type IncludeObject } from './table.js';
import { serveWatch, type WatchEnv, type WatchSession } from './watch.js';

type Obj = Record<string, any>;

export interface RestEnv extends WatchEnv {
  /** Identities and RBAC: reviews, TokenRequest and the escalation guard answer through it. */
  auth: SimAuth;
  lifecycle: Lifecycle;
  sessions: Set<WatchSession>;
  snapshots: Map<string, { items: KObject[]; at: number }>;
}

export interface ResourceRequest {
  def: ResourceDef;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** The legacy /watch/ path prefix. */
  legacyWatch: boolean;
  /** The path after `.../proxy/` (the proxy subresource: sim/apiserver/node-proxy.ts). */
  proxyPath?: string;
}

const bool = (v: string | null) => v !== null && v !== 'false' && v !== '0';
const num = (q: URLSearchParams, k: string): number | undefined => {
  const v = q.get(k);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw badRequest(`invalid value for ${k}: ${JSON.stringify(v)}`);
  return n;
};

/** metav1.Status for a successful delete (handlers/delete.go). */
const successStatus = (def: ResourceDef, o: KObject): Status =>
  ({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name: o.metadata.name, group: def.group || undefined, kind: def.resource, uid: o.metadata.uid },
  }) as unknown as Status;

/** Strip kind/apiVersion from list items, as typed Go lists serialise them. */
const bare = (o: KObject) => {
  const { kind: _k, apiVersion: _a, ...rest } = o;
  return rest;
};

function selection(def: ResourceDef, ns: string | undefined, q: URLSearchParams): (o: KObject) => boolean {
  const labels = parseLabelSelector(q.get('labelSelector'));
  const fields = parseFieldSelector(q.get('fieldSelector'), [
    'metadata.name',
    'metadata.namespace',
    ...(def.fields ?? []),
  ]);
  return (o) =>
    (ns === undefined || o.metadata.namespace === ns) &&
    (!labels || labels(o.metadata.labels)) &&
    (!fields || fields.match(o));
}

// ------------------------------------------------------------------ list pagination

const SNAPSHOT_TTL_MS = 5 * 60_000;
const MAX_SNAPSHOTS = 64;
const EXPIRED_CONTINUE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

/** The continue token is etcd3's: base64 of {"v":"meta.k8s.io/v1","rv":N,"start":"<key>\u0000"}. */
function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: `${start}\u0000` })).toString('base64');
}
function decodeContinue(tok: string): { rv: number; start: string } {
  try {
    const j = JSON.parse(Buffer.from(tok, 'base64').toString('utf8'));
    if (j.v !== 'meta.k8s.io/v1' || typeof j.rv !== 'number' || typeof j.start !== 'string') throw new Error('bad');
    return { rv: j.rv, start: j.start.replace(/\u0000$/, '') };
  } catch {
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
}

function listPage(
  env: RestEnv,
  def: ResourceDef,
  ns: string | undefined,
  q: URLSearchParams,
): { items: KObject[]; meta: Obj } {
  const match = selection(def, ns, q);
  const limit = num(q, 'limit') ?? 0;
  const cont = q.get('continue');
  const selKey = `${resourceKey(def)}|${ns ?? ''}|${q.get('labelSelector') ?? ''}|${q.get('fieldSelector') ?? ''}`;
  let all: KObject[];
  let rv: number;
  let start = '';
  const now = Date.now();
  for (const [k, s] of env.snapshots) if (now - s.at > SNAPSHOT_TTL_MS) env.snapshots.delete(k);
  if (cont) {
    const c = decodeContinue(cont);
    const expire = Number(env.faults.current.expireWatchesBefore ?? 0);
    const snap = env.snapshots.get(`${c.rv}|${selKey}`);
    if (!snap || c.rv < expire) throw new StatusError(410, 'Expired', EXPIRED_CONTINUE);
    all = snap.items;
    rv = c.rv;
    start = c.start;
  } else {
    const pinned = pinnedName(q.get('fieldSelector'));
    let pool: KObject[];
    if (pinned !== undefined && (ns !== undefined || !def.namespaced)) {
      const o = env.store.get(def, ns, pinned);
      pool = o ? [o] : [];
    } else pool = env.store.list(def, ns);
    all = pool.filter(match);
    rv = env.store.rv;
  }
  const key = (o: KObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  let from = 0;
  if (start) {
    from = all.findIndex((o) => key(o) > start);
    if (from < 0) from = all.length;
  }
  const items = limit > 0 ? all.slice(from, from + limit) : all.slice(from);
  const meta: Obj = { resourceVersion: String(rv) };
  if (limit > 0 && from + items.length < all.length) {
    meta.continue = encodeContinue(rv, key(items.at(-1)!));
    if (!q.get('labelSelector') && !q.get('fieldSelector')) meta.remainingItemCount = all.length - from - items.length;
    env.snapshots.set(`${rv}|${selKey}`, { items: all, at: now });
    while (env.snapshots.size > MAX_SNAPSHOTS) env.snapshots.delete(env.snapshots.keys().next().value!);
  }
  return { items, meta };
}

// ------------------------------------------------------------------ reviews

/** SelfSubjectAccessReview, TokenReview...: answered by src/sim/auth, not stored. */
async function review(
  env: RestEnv,
  req: IncomingMessage,
  res: ServerResponse,
  r: ResourceRequest,
  pretty: boolean,
): Promise<void> {
  if (req.method !== 'POST' || r.name !== undefined)
    throw new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  const { body } = await decodeBody(req, false);
  return send(res, 201, env.auth.review(req, r.def, r.namespace, body), { kind: 'json' }, pretty);
}

/** serviceaccounts/token (TokenRequest): a signed service-account token from src/sim/auth. */
async function tokenRequest(
  env: RestEnv,
  req: IncomingMessage,
  res: ServerResponse,
  ns: string,
  name: string,
  pretty: boolean,
): Promise<void> {
  if (req.method !== 'POST')
    throw new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  const { body } = await decodeBody(req, false);
  return send(res, 201, env.auth.tokenRequest(ns, name, body), { kind: 'json' }, pretty);
}

// ------------------------------------------------------------------ handlers

function deleteOptions(q: URLSearchParams, body: unknown): DeleteOptions {
  const o: DeleteOptions = {};
  const b = (body && typeof body === 'object' ? body : {}) as Obj;
  if (b.kind !== undefined && b.kind !== 'DeleteOptions') throw badRequest(`expected DeleteOptions, got ${b.kind}`);
  o.gracePeriodSeconds = num(q, 'gracePeriodSeconds') ?? b.gracePeriodSeconds;
  o.propagationPolicy = q.get('propagationPolicy') ?? b.propagationPolicy;
  const orphan = q.get('orphanDependents');
  o.orphanDependents = orphan !== null ? bool(orphan) : b.orphanDependents;
  o.preconditions = b.preconditions;
  o.dryRun = q.getAll('dryRun').includes('All') || (Array.isArray(b.dryRun) && b.dryRun.includes('All'));
  return o;
}

/** fieldValidation query parameter (Ignore | Warn | Strict; default Warn). */
function fieldValidation(q: URLSearchParams): 'Strict' | 'Warn' | 'Ignore' {
  const v = q.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw badRequest(`fieldValidation: Unsupported value: "${v}": supported values: "Ignore", "Strict", "Warn"`);
}

/** Warning headers (RFC 7234 style, code 299) for what the write dropped. */
function warn(res: ServerResponse, warnings: string[]): void {
  if (warnings.length)
    res.setHeader(
      'Warning',
      warnings.map((w) => `299 - ${JSON.stringify(w)}`),
    );
}

function checkDryRun(q: URLSearchParams): boolean {
  const d = q.getAll('dryRun');
  for (const v of d) if (v !== 'All') throw badRequest(`dryRun: Unsupported value: "${v}": supported values: "All"`);
  return d.length > 0;
}

async function optionalBody(req: IncomingMessage): Promise<unknown> {
  const len = req.headers['content-length'];
  if (len === '0' || (len === undefined && !req.headers['transfer-encoding'])) return undefined;
  const { body } = await decodeBody(req, false).catch((err) => {
    if (err instanceof StatusError && err.message.includes('empty')) return { body: undefined };
    throw err;
  });
  return body;
}

export async function handleResource(
  env: RestEnv,
  req: IncomingMessage,
  res: ServerResponse,
  r: ResourceRequest,
  q: URLSearchParams,
): Promise<void> {
  const { def, namespace: ns, name, subresource: sub } = r;
  const { store, lifecycle } = env;
  const method = req.method ?? 'GET';
  const pretty = bool(q.get('pretty'));
  const watch = r.legacyWatch || bool(q.get('watch'));
  if (def.review) return review(env, req, res, r, pretty);

  if (name === undefined) {
    if (method === 'GET' && watch) {
      const match = selection(def, ns, q);
      const out = negotiate(req.headers.accept, true);
      serveWatch(
        env,
        env.sessions,
        res,
        def,
        {
          resourceVersion: q.get('resourceVersion') ?? undefined,
          resourceVersionMatch: q.get('resourceVersionMatch') ?? undefined,
          allowWatchBookmarks: bool(q.get('allowWatchBookmarks')),
          sendInitialEvents: q.has('sendInitialEvents') ? bool(q.get('sendInitialEvents')) : undefined,
          timeoutSeconds: num(q, 'timeoutSeconds'),
          match,
          include: (q.get('includeObject') as IncludeObject) ?? undefined,
        },
        out,
      );
      return;
    }
    if (method === 'GET') {
      const out = negotiate(req.headers.accept, true);
      const { items, meta } = listPage(env, def, ns, q);
      if (out.kind === 'table')
        return send(
          res,
          200,
          toTable(def, items, {
            include: (q.get('includeObject') as IncludeObject) ?? 'Metadata',
            version: out.version,
            listMeta: meta,
          }),
          out,
          pretty,
        );
      if (out.kind === 'partial')
        return send(
          res,
          200,
          {
            kind: 'PartialObjectMetadataList',
            apiVersion: `meta.k8s.io/${out.version}`,
            metadata: meta,
            items: items.map((o) => bare(partial(o, out.version) as KObject)),
          },
          { ...out, list: true },
          pretty,
        );
      return send(
        res,
        200,
        { kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata: meta, items: items.map(bare) },
        out,
        pretty,
      );
    }
    if (method === 'POST') {
      if (def.namespaced && ns === undefined)
        throw new StatusError(
          405,
          'MethodNotAllowed',
          `the server does not allow this method on the requested resource`,
        );
      const out = negotiate(req.headers.accept, false);
      const dryRun = checkDryRun(q);
      const { body } = await decodeBody(req, false);
      const warnings: string[] = [];
      if (def.group === 'rbac.authorization.k8s.io')
        env.auth.guardWrite(req, def, store.create(def, ns, structuredClone(body), { dryRun: true }), undefined);
      const created = store.create(def, ns, body, {
        dryRun,
        fieldManager: q.get('fieldManager') ?? undefined,
        fieldValidation: fieldValidation(q),
        warnings,
      });
      warn(res, warnings);
      return send(res, 201, created, out, pretty);
    }
    if (method === 'DELETE') {
      if (!def.verbs?.includes('deletecollection'))
        throw new StatusError(
          405,
          'MethodNotAllowed',
          'the server does not allow this method on the requested resource',
        );
      const out = negotiate(req.headers.accept, false);
      const opts = deleteOptions(q, await optionalBody(req));
      const match = selection(def, ns, q);
      const deleted = lifecycle.deleteCollection(def, store.list(def, ns).filter(match), opts);
      return send(
        res,
        200,
        {
          kind: `${def.kind}List`,
          apiVersion: apiVersionOf(def),
          metadata: { resourceVersion: String(store.rv) },
          items: deleted.map(bare),
        },
        out,
        pretty,
      );
    }
    throw new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  }

  // --- a named object
  if (def.namespaced && ns === undefined) throw notFound(def.resource, name, def.group);
  if (method === 'GET' && watch) {
    // /watch/namespaces/ns/pods/name: a watch on one object.
    const match = selection(def, ns, q);
    serveWatch(
      env,
      env.sessions,
      res,
      def,
      {
        resourceVersion: q.get('resourceVersion') ?? undefined,
        allowWatchBookmarks: bool(q.get('allowWatchBookmarks')),
        timeoutSeconds: num(q, 'timeoutSeconds'),
        match: (o) => o.metadata.name === name && match(o),
      },
      negotiate(req.headers.accept, true),
    );
    return;
  }
  if (sub === 'token' && def.resource === 'serviceaccounts') return tokenRequest(env, req, res, ns!, name, pretty);
  if (sub && !['status', 'finalize', 'binding', 'eviction'].includes(sub)) {
    throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  }
  if (sub === 'finalize' && (def.resource !== 'namespaces' || method !== 'PUT'))
    throw new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  if (sub === 'status' && !def.hasStatus)
    throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');

  if (sub === 'binding' || sub === 'eviction') {
    if (method !== 'POST' || def.resource !== 'pods')
      throw new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    const { body } = await decodeBody(req, false);
    const pod = store.get(def, ns, name);
    if (!pod) throw notFound('pods', name);
    if (sub === 'binding') {
      const target = (body as Obj)?.target?.name;
      if (!target)
        throw new StatusError(422, 'Invalid', `Binding.meta.k8s.io "${name}" is invalid: target.name: Required value`);
      if ((pod as Obj).spec?.nodeName)
        throw new StatusError(
          409,
          'Conflict',
          `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is already assigned to node "${(pod as Obj).spec.nodeName}"`,
          { name, kind: 'pods/binding' },
        );
      store.mutate(def, ns, name, (p: Obj) => {
        p.spec.nodeName = target;
      });
    } else {
      lifecycle.delete(def, ns, name, deleteOptions(new URLSearchParams(), (body as Obj)?.deleteOptions));
    }
    return send(
      res,
      201,
      { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 },
      { kind: 'json' },
      pretty,
    );
  }

  if (method === 'GET') {
    const out = negotiate(req.headers.accept, true);
    const o = store.get(def, ns, name);
    if (!o) throw notFound(def.resource, name, def.group);
    if (out.kind === 'table')
      return send(
        res,
        200,
        toTable(def, [o], {
          include: (q.get('includeObject') as IncludeObject) ?? 'Metadata',
          version: out.version,
          listMeta: { resourceVersion: o.metadata.resourceVersion },
        }),
        out,
        pretty,
      );
    if (out.kind === 'partial') return send(res, 200, partial(o, out.version), out, pretty);
    return send(res, 200, o, out, pretty);
  }
  if (method === 'PUT') {
    const out = negotiate(req.headers.accept, false);
    const dryRun = checkDryRun(q);
    const { body } = await decodeBody(req, false);
    const warnings: string[] = [];
    if (def.group === 'rbac.authorization.k8s.io')
      env.auth.guardWrite(
        req,
        def,
        store.update(def, ns, name, structuredClone(body), { dryRun: true, subresource: sub }),
        store.get(def, ns, name),
      );
    const updated = store.update(def, ns, name, body, {
      dryRun,
      subresource: sub,
      fieldValidation: fieldValidation(q),
      warnings,
    });
    warn(res, warnings);
    return send(res, 200, updated, out, pretty);
  }
  if (method === 'PATCH') {
    const out = negotiate(req.headers.accept, false);
    const dryRun = checkDryRun(q);
    const { body, patchType } = await decodeBody(req, true);
    const fieldManager = q.get('fieldManager') ?? undefined;
    if (patchType === 'apply' && !fieldManager)
      throw new StatusError(
        422,
        'Invalid',
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
      );
    const existed = !!store.get(def, ns, name);
    const warnings: string[] = [];
    if (def.group === 'rbac.authorization.k8s.io')
      env.auth.guardWrite(
        req,
        def,
        store.patch(def, ns, name, patchType!, structuredClone(body), {
          dryRun: true,
          subresource: sub,
          fieldManager,
          force: bool(q.get('force')),
        }),
        store.get(def, ns, name),
      );
    const patched = store.patch(def, ns, name, patchType!, body, {
      dryRun,
      subresource: sub,
      fieldManager,
      force: bool(q.get('force')),
      fieldValidation: fieldValidation(q),
      warnings,
    });
    warn(res, warnings);
    return send(res, existed ? 200 : 201, patched, out, pretty);
  }
  if (method === 'DELETE') {
    if (sub)
      throw new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    const out = negotiate(req.headers.accept, false);
    const opts = deleteOptions(q, await optionalBody(req));
    const r2 = lifecycle.delete(def, ns, name, opts);
    if (!r2.gone || def.returnDeleted || def.resource === 'namespaces') return send(res, 200, r2.object, out, pretty);
    return send(res, 200, successStatus(def, r2.object), out, pretty);
  }
  throw new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
}
