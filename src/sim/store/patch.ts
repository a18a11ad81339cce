/**
 * @module sim/store/patch
 * The four PATCH content types of a kube-apiserver (staging/src/k8s.io/apiserver/pkg/endpoints/
 * handlers/patch.go): JSON merge patch (RFC 7386), JSON patch (RFC 6902), strategic merge patch
 * (apimachinery/pkg/util/strategicpatch, with the patch strategies of the built-in types below) and
 * server-side apply, which kube-sim reduces to a strategic merge without deletions.
 */
import { StatusError, badRequest } from '../status.js';

type J = unknown;
type Obj = Record<string, J>;
const isObj = (v: J): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: J, patch: J): J {
  if (!isObj(patch)) return clone(patch);
  const out: Obj = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

const invalidPatch = (msg: string) => new StatusError(422, 'Invalid', msg);

/** RFC 6901 pointer -> tokens. */
function pointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw invalidPatch(`invalid JSON pointer: "${p}"`);
  return p
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function deepEqual(a: J, b: J): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a),
      kb = Object.keys(b);
    return (
      ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]))
    );
  }
  return false;
}
export { deepEqual };

/** RFC 6902 JSON patch: add, remove, replace, move, copy, test. */
export function jsonPatch(doc: J, ops: J): J {
  if (!Array.isArray(ops)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let root = clone(doc);
  const parentOf = (path: string, op: string): { parent: Obj | J[]; key: string } => {
    const toks = pointer(path);
    if (!toks.length)
      throw invalidPatch(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
    let cur: J = root;
    for (const t of toks.slice(0, -1)) {
      cur = Array.isArray(cur) ? cur[Number(t)] : isObj(cur) ? cur[t] : undefined;
      if (cur === undefined || cur === null || typeof cur !== 'object')
        throw invalidPatch(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
    }
    return { parent: cur as Obj | J[], key: toks.at(-1)! };
  };
  const get = (path: string, op: string): J => {
    let cur: J = root;
    for (const t of pointer(path)) {
      cur = Array.isArray(cur) ? cur[Number(t)] : isObj(cur) ? cur[t] : undefined;
      if (cur === undefined)
        throw invalidPatch(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
    }
    return cur;
  };
  const remove = (path: string, op: string): J => {
    const { parent, key } = parentOf(path, op);
    if (Array.isArray(parent)) {
      const i = Number(key);
      if (!Number.isInteger(i) || i < 0 || i >= parent.length)
        throw invalidPatch(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
      return parent.splice(i, 1)[0];
    }
    if (!(key in parent))
      throw invalidPatch(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
    const v = parent[key];
    delete parent[key];
    return v;
  };
  const add = (path: string, value: J, op: string, replace = false) => {
    if (pointer(path).length === 0) {
      root = value;
      return;
    }
    const { parent, key } = parentOf(path, op);
    if (Array.isArray(parent)) {
      const i = key === '-' ? parent.length : Number(key);
      if (!Number.isInteger(i) || i < 0 || i > parent.length || (replace && i >= parent.length))
        throw invalidPatch(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
      if (replace) parent[i] = value;
      else parent.splice(i, 0, value);
    } else {
      if (replace && !(key in parent))
        throw invalidPatch(`replace operation does not apply: doc is missing key: ${path}: missing value`);
      parent[key] = value;
    }
  };
  for (const o of ops as Obj[]) {
    if (!isObj(o) || typeof o.op !== 'string' || typeof o.path !== 'string')
      throw badRequest('json: invalid JSON patch operation');
    const { op, path } = o as { op: string; path: string };
    switch (op) {
      case 'add':
        add(path, clone(o.value), op);
        break;
      case 'remove':
        remove(path, op);
        break;
      case 'replace':
        add(path, clone(o.value), op, true);
        break;
      case 'move': {
        const v = remove(String(o.from), op);
        add(path, v, op);
        break;
      }
      case 'copy':
        add(path, clone(get(String(o.from), op)), op);
        break;
      case 'test':
        if (!deepEqual(get(path, op), o.value)) throw invalidPatch(`testing value ${path} failed: test failed`);
        break;
      default:
        throw invalidPatch(`Unexpected kind: ${op}`);
    }
  }
  return root;
}

// ---------------------------------------------------------------------------------------------
// Strategic merge patch

/** Patch strategy of a field: `key` = patchMergeKey (list merged by key), `merge` = set-union of
 * a primitive list, `retainKeys` = the map keeps only the keys the patch lists. */
export interface PatchSchema {
  key?: string;
  merge?: boolean;
  retainKeys?: boolean;
  f?: Record<string, PatchSchema>;
}

const container: Record<string, PatchSchema> = {
  env: { key: 'name' },
  ports: { key: 'containerPort' },
  volumeMounts: { key: 'mountPath' },
  volumeDevices: { key: 'devicePath' },
  resizePolicy: { key: 'resourceName' },
};
const metadata: PatchSchema = { f: { ownerReferences: { key: 'uid' }, finalizers: { merge: true } } };
const podSpec: PatchSchema = {
  f: {
    containers: { key: 'name', f: container },
    initContainers: { key: 'name', f: container },
    ephemeralContainers: { key: 'name', f: container },
    volumes: { key: 'name', retainKeys: true },
    imagePullSecrets: { key: 'name' },
    hostAliases: { key: 'ip' },
    topologySpreadConstraints: { key: 'topologyKey' },
    resourceClaims: { key: 'name', retainKeys: true },
    schedulingGates: { key: 'name' },
  },
};
const conditions = { key: 'type' };

/** Patch strategies of the built-in kinds kube-sim serves (from the `patchStrategy` struct tags). */
export const PATCH_SCHEMAS: Record<string, PatchSchema> = {
  Pod: {
    f: {
      metadata,
      spec: podSpec,
      status: {
        f: {
          conditions,
          podIPs: { key: 'ip' },
          hostIPs: { key: 'ip' },
          resourceClaimStatuses: { key: 'name', retainKeys: true },
        },
      },
    },
  },
  Service: { f: { metadata, spec: { f: { ports: { key: 'port' } } }, status: { f: { conditions } } } },
  Node: { f: { metadata, status: { f: { conditions, addresses: { key: 'type' } } } } },
  Namespace: { f: { metadata, status: { f: { conditions } } } },
  PersistentVolumeClaim: { f: { metadata, status: { f: { conditions } } } },
  PersistentVolume: { f: { metadata } },
};
export const schemaForKind = (kind: string): PatchSchema => PATCH_SCHEMAS[kind] ?? { f: { metadata } };

const DIRECTIVE = '$patch';
const ORDER = '$setElementOrder/';
const DELETE_PRIM = '$deleteFromPrimitiveList/';
const RETAIN = '$retainKeys';

/** Remove SMP directives from a value that is added as a whole (no original to merge into). */
function strip(v: J, s?: PatchSchema): J {
  if (Array.isArray(v)) {
    return v
      .filter(
        (x) =>
          !(isObj(x) && (x[DIRECTIVE] === 'delete' || (x[DIRECTIVE] === 'replace' && Object.keys(x).length === 1))),
      )
      .map((x) => strip(x, s));
  }
  if (!isObj(v)) return v;
  if (v[DIRECTIVE] === 'delete') return undefined;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === DIRECTIVE || k === RETAIN || k.startsWith(ORDER) || k.startsWith(DELETE_PRIM)) continue;
    if (x === null) continue;
    const sx = strip(x, s?.f?.[k]);
    if (sx !== undefined) out[k] = sx;
  }
  return out;
}

/** Apply a strategic merge patch to `original` (not modified). `noDelete` = apply semantics. */
export function strategicMerge(original: J, patch: J, schema: PatchSchema, noDelete = false): J {
  if (!isObj(patch)) throw badRequest('the body of the request was not a JSON object');
  return mergeMap(isObj(original) ? original : {}, patch, schema, noDelete);
}

function mergeMap(orig: Obj, patch: Obj, s: PatchSchema | undefined, noDelete: boolean): J {
  const directive = patch[DIRECTIVE];
  if (directive === 'replace') return strip(patch, s);
  if (directive === 'delete') return undefined;
  if (directive !== undefined && directive !== 'merge') throw badRequest(`Unknown patch type: ${String(directive)}`);
  const out: Obj = { ...orig };
  const retain = patch[RETAIN];
  if (Array.isArray(retain)) for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  const orders: Record<string, J[]> = {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === DIRECTIVE || k === RETAIN) continue;
    if (k.startsWith(ORDER)) {
      if (Array.isArray(v)) orders[k.slice(ORDER.length)] = v;
      continue;
    }
    if (k.startsWith(DELETE_PRIM)) {
      const field = k.slice(DELETE_PRIM.length);
      if (Array.isArray(out[field]) && Array.isArray(v))
        out[field] = (out[field] as J[]).filter((x) => !v.some((d) => deepEqual(d, x)));
      continue;
    }
    const fs = s?.f?.[k];
    if (v === null) {
      if (!noDelete) delete out[k];
      continue;
    }
    const cur = out[k];
    if (isObj(v) && isObj(cur)) {
      const m = mergeMap(cur, v, fs, noDelete);
      if (m === undefined) delete out[k];
      else out[k] = m;
    } else if (Array.isArray(v) && Array.isArray(cur)) {
      out[k] = mergeList(cur, v, fs, noDelete);
    } else if (isObj(v) && v[DIRECTIVE] === 'delete') {
      delete out[k];
    } else {
      const sv = strip(v, fs);
      if (sv === undefined) delete out[k];
      else out[k] = sv;
    }
  }
  for (const [field, order] of Object.entries(orders)) {
    const list = out[field];
    if (Array.isArray(list)) out[field] = applyOrder(list, order, s?.f?.[field]?.key);
  }
  return out;
}

function mergeList(orig: J[], patch: J[], s: PatchSchema | undefined, noDelete: boolean): J[] {
  const key = s?.key;
  if (patch.some((x) => isObj(x) && x[DIRECTIVE] === 'replace' && Object.keys(x).length === 1))
    return strip(patch, s) as J[];
  if (key) {
    const out = orig.map((x) => x);
    for (const p of patch) {
      if (!isObj(p)) continue;
      const idx = out.findIndex((o) => isObj(o) && deepEqual(o[key], p[key]));
      if (p[DIRECTIVE] === 'delete') {
        if (idx >= 0 && !noDelete) out.splice(idx, 1);
        continue;
      }
      if (idx >= 0) {
        const m = mergeMap(out[idx] as Obj, p, s, noDelete);
        if (m === undefined) out.splice(idx, 1);
        else out[idx] = m;
      } else out.push(strip(p, s));
    }
    return out;
  }
  if (s?.merge) {
    const out = [...orig];
    for (const p of patch) if (!out.some((o) => deepEqual(o, p))) out.push(p);
    return out;
  }
  return strip(patch, s) as J[];
}

/** `$setElementOrder`: listed items first in the given order, then the rest in their order. */
function applyOrder(list: J[], order: J[], key: string | undefined): J[] {
  const idOf = (x: J) => (key && isObj(x) ? x[key] : x);
  const pos = (x: J) => order.findIndex((o) => deepEqual(key && isObj(o) ? o[key] : o, idOf(x)));
  const listed = list.filter((x) => pos(x) >= 0).sort((a, b) => pos(a) - pos(b));
  return [...listed, ...list.filter((x) => pos(x) < 0)];
}
