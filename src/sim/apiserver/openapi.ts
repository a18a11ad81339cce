/**
 * @module sim/apiserver/openapi
 * A small OpenAPI v3 (/openapi/v3 and /openapi/v3/<gv>): the paths and operations of every
 * resource, each PATCH declaring the `fieldValidation` query parameter and the
 * `x-kubernetes-group-version-kind` extension. That is what kubectl's QueryParamVerifierV3 looks
 * for to use server-side field validation (kubectl/pkg/cmd/util/openapi), so `kubectl apply` and
 * `kubectl create` work without --validate=false. Schemas are not served: kubectl then computes
 * strategic merge patches from its compiled-in types, as it does for built-in kinds.
 * /openapi/v2 is absent (404), which kubectl treats as "no v2 schema".
 */
import { createHash } from 'node:crypto';
import { apiVersionOf, GROUPS, RESOURCES, type ResourceDef } from '../store/resources.js';
import { VERSION } from './discovery.js';

type Obj = Record<string, any>;

const gvPath = (group: string, version: string) => (group ? `apis/${group}/${version}` : `api/${version}`);

const q = (name: string, type = 'string') => ({ name, in: 'query', schema: { type, uniqueItems: true } });
const pathParam = (name: string) => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'string', uniqueItems: true },
});

function ops(d: ResourceDef, item: boolean): Obj {
  const gvk = { group: d.group, version: d.version, kind: d.kind };
  const kind = d.kind;
  const op = (verb: string, action: string, params: Obj[]) => ({
    operationId: `${verb}${kind}`,
    tags: [d.group ? d.group.split('.')[0] : 'core_v1'],
    parameters: params,
    responses: { '200': { description: 'OK' }, '401': { description: 'Unauthorized' } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
  });
  const common = [q('pretty')];
  if (item) {
    return {
      get: op('read', 'get', common),
      put: op('replace', 'put', [...common, q('dryRun'), q('fieldManager'), q('fieldValidation')]),
      patch: op('patch', 'patch', [
        ...common,
        q('dryRun'),
        q('fieldManager'),
        q('fieldValidation'),
        q('force', 'boolean'),
      ]),
      delete: op('delete', 'delete', [
        ...common,
        q('dryRun'),
        q('gracePeriodSeconds', 'integer'),
        q('propagationPolicy'),
      ]),
      parameters: [...(d.namespaced ? [pathParam('namespace')] : []), pathParam('name')],
    };
  }
  return {
    get: op('list', 'list', [
      ...common,
      q('labelSelector'),
      q('fieldSelector'),
      q('limit', 'integer'),
      q('continue'),
      q('watch', 'boolean'),
      q('resourceVersion'),
    ]),
    post: op('create', 'post', [...common, q('dryRun'), q('fieldManager'), q('fieldValidation')]),
    ...(d.verbs?.includes('deletecollection') ? { delete: op('deletecollection', 'deletecollection', common) } : {}),
    parameters: d.namespaced ? [pathParam('namespace')] : [],
  };
}

export function openapiGroupVersion(group: string, version: string): Obj | undefined {
  const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (!defs.length) return undefined;
  const paths: Obj = {};
  const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
  for (const d of defs) {
    const coll = d.namespaced ? `${base}/namespaces/{namespace}/${d.resource}` : `${base}/${d.resource}`;
    paths[coll] = ops(d, false);
    paths[`${coll}/{name}`] = ops(d, true);
    if (d.namespaced) paths[`${base}/${d.resource}`] = { get: ops(d, false).get };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: VERSION.gitVersion },
    paths,
    components: { schemas: {} },
  };
}

const docHash = (group: string, version: string) =>
  createHash('sha512')
    .update(JSON.stringify(openapiGroupVersion(group, version)))
    .digest('hex')
    .slice(0, 128)
    .toUpperCase();

export function openapiRoot(): Obj {
  const paths: Obj = {};
  for (const g of [{ group: '', version: 'v1' }, ...GROUPS]) {
    const p = gvPath(g.group, g.version);
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${docHash(g.group, g.version)}` };
  }
  return { paths };
}

/** '/openapi/v3/api/v1' -> {group:'', version:'v1'} */
export function parseOpenapiPath(path: string): { group: string; version: string } | undefined {
  const rest = path.slice('/openapi/v3/'.length);
  let m = /^api\/([^/]+)$/.exec(rest);
  if (m) return { group: '', version: m[1]! };
  m = /^apis\/([^/]+)\/([^/]+)$/.exec(rest);
  if (m) return { group: m[1]!, version: m[2]! };
  return undefined;
}
export { apiVersionOf };
