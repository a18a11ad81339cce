/**
 * @module sim/kubelet/env
 * A container's environment as the kubelet builds it (pkg/kubelet/kubelet_pods.go makeEnvironmentVariables):
 * the image's Env, then service links (KUBERNETES_* always, the namespace's Services when
 * enableServiceLinks), envFrom, env (value with $(VAR) expansion, valueFrom fieldRef /
 * resourceFieldRef / configMapKeyRef / secretKeyRef), and HOSTNAME from the runtime. A missing
 * ConfigMap/Secret/key that is not optional is a CreateContainerConfigError with the kubelet's message.
 */
import { cpus, totalmem } from 'node:os';
import { CONFIGMAPS, SECRETS, SERVICES, type KObject, type KubeletStore } from '../types.js';
import { serviceAddress } from './hosts.js';
import { quantityNumber } from '../../kube/quantity.js';

type Obj = Record<string, any>;

export class ConfigError extends Error {}

/** $(VAR) expansion (third_party/forked/golang/expansion): $$ escapes, unknown references stay. */
export function expand(input: string, env: Map<string, string>): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (c === '$' && i + 1 < input.length) {
      const n = input[i + 1];
      if (n === '$') {
        out += '$';
        i++;
        continue;
      }
      if (n === '(') {
        const close = input.indexOf(')', i + 2);
        if (close > 0) {
          const name = input.slice(i + 2, close);
          const v = env.get(name);
          out += v !== undefined ? v : `$(${name})`;
          i = close;
          continue;
        }
      }
    }
    out += c;
  }
  return out;
}

function fieldRef(pod: KObject, path: string, ips: { podIP: string; hostIP: string }): string {
  const meta = pod.metadata;
  const spec = (pod as Obj).spec ?? {};
  const m = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  if (m) return String((meta[m[1]!] as Record<string, string> | undefined)?.[m[2]!] ?? '');
  switch (path) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'metadata.labels':
      return Object.entries(meta.labels ?? {})
        .map(([k, v]) => `${k}="${v}"`)
        .join('\n');
    case 'metadata.annotations':
      return Object.entries(meta.annotations ?? {})
        .map(([k, v]) => `${k}="${v}"`)
        .join('\n');
    case 'spec.nodeName':
      return spec.nodeName ?? '';
    case 'spec.serviceAccountName':
      return spec.serviceAccountName ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return ips.hostIP;
    case 'status.podIP':
    case 'status.podIPs':
      return ips.podIP;
    default:
      throw new ConfigError(`unsupported fieldPath: ${path}`);
  }
}

function resourceRef(pod: KObject, container: Obj, ref: Obj): string {
  const target = ref.containerName
    ? [...((pod as Obj).spec.containers ?? []), ...((pod as Obj).spec.initContainers ?? [])].find(
        (c: Obj) => c.name === ref.containerName,
      )
    : container;
  const [kind, res] = String(ref.resource).split('.') as [string, string];
  let v = quantityNumber(target?.resources?.[kind === 'requests' ? 'requests' : 'limits']?.[res]);
  if (!Number.isFinite(v)) {
    if (kind === 'requests' && (res === 'cpu' || res === 'memory')) v = 0;
    else v = res === 'cpu' ? cpus().length : res === 'memory' ? totalmem() : 0;
  }
  const divisor = quantityNumber(ref.divisor ?? 1) || 1;
  return String(Math.ceil(v / divisor));
}

function serviceLinks(store: KubeletStore, namespace: string, all: boolean, env: Map<string, string>): void {
  const pods = store.list({ group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true }, namespace);
  const add = (svc: KObject, podsForSvc: KObject[]) => {
    const ip = serviceAddress(svc, podsForSvc);
    const ports: Obj[] = (svc as Obj).spec?.ports ?? [];
    if (!ip || !ports.length) return;
    const name = String(svc.metadata.name).toUpperCase().replace(/-/g, '_');
    env.set(`${name}_SERVICE_HOST`, ip);
    env.set(`${name}_SERVICE_PORT`, String(ports[0]!.port));
    for (const p of ports)
      if (p.name) env.set(`${name}_SERVICE_PORT_${String(p.name).toUpperCase().replace(/-/g, '_')}`, String(p.port));
    const proto0 = String(ports[0]!.protocol ?? 'TCP').toLowerCase();
    env.set(`${name}_PORT`, `${proto0}://${ip}:${ports[0]!.port}`);
    for (const p of ports) {
      const proto = String(p.protocol ?? 'TCP');
      const key = `${name}_PORT_${p.port}_${proto.toUpperCase()}`;
      env.set(key, `${proto.toLowerCase()}://${ip}:${p.port}`);
      env.set(`${key}_PROTO`, proto.toLowerCase());
      env.set(`${key}_PORT`, String(p.port));
      env.set(`${key}_ADDR`, ip);
    }
  };
  const master = store.get(SERVICES, 'default', 'kubernetes');
  if (all)
    for (const svc of store.list(SERVICES, namespace))
      if (!(namespace === 'default' && svc.metadata.name === 'kubernetes')) add(svc, pods);
  if (master) add(master, []);
}

function mapValue(kind: 'ConfigMap' | 'Secret', obj: KObject, key: string): string | undefined {
  const o = obj as Obj;
  if (kind === 'Secret') {
    const b64 = o.data?.[key];
    return b64 === undefined ? undefined : Buffer.from(String(b64), 'base64').toString('utf8');
  }
  if (o.data?.[key] !== undefined) return String(o.data[key]);
  if (o.binaryData?.[key] !== undefined) return Buffer.from(String(o.binaryData[key]), 'base64').toString('utf8');
  return undefined;
}

/** Build the environment; throws ConfigError (CreateContainerConfigError) with the kubelet's message. */
export function buildEnv(
  store: KubeletStore,
  pod: KObject,
  container: Obj,
  imageEnv: string[],
  ips: { podIP: string; hostIP: string },
  hostname: string,
): Map<string, string> {
  const ns = pod.metadata.namespace ?? 'default';
  const spec = (pod as Obj).spec ?? {};
  const env = new Map<string, string>();
  for (const kv of imageEnv) {
    const i = kv.indexOf('=');
    if (i > 0) env.set(kv.slice(0, i), kv.slice(i + 1));
  }
  env.set('HOSTNAME', hostname);
  serviceLinks(store, ns, spec.enableServiceLinks !== false, env);
  const lookup = (kind: 'ConfigMap' | 'Secret', name: string) =>
    store.get(kind === 'ConfigMap' ? CONFIGMAPS : SECRETS, ns, name);
  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    const kind = from.configMapRef ? 'ConfigMap' : 'Secret';
    if (!ref) continue;
    const obj = lookup(kind, ref.name);
    if (!obj) {
      if (ref.optional) continue;
      throw new ConfigError(`${kind.toLowerCase()} "${ref.name}" not found`);
    }
    const keys = Object.keys({
      ...((obj as Obj).data ?? {}),
      ...(kind === 'ConfigMap' ? ((obj as Obj).binaryData ?? {}) : {}),
    });
    for (const k of keys) env.set(`${from.prefix ?? ''}${k}`, mapValue(kind, obj, k) ?? '');
  }
  for (const e of container.env ?? []) {
    if (e.valueFrom) {
      const vf = e.valueFrom;
      if (vf.fieldRef) env.set(e.name, fieldRef(pod, vf.fieldRef.fieldPath, ips));
      else if (vf.resourceFieldRef) env.set(e.name, resourceRef(pod, container, vf.resourceFieldRef));
      else if (vf.configMapKeyRef || vf.secretKeyRef) {
        const kind = vf.configMapKeyRef ? 'ConfigMap' : 'Secret';
        const ref = vf.configMapKeyRef ?? vf.secretKeyRef;
        const obj = lookup(kind, ref.name);
        if (!obj) {
          if (ref.optional) continue;
          throw new ConfigError(`${kind.toLowerCase()} "${ref.name}" not found`);
        }
        const v = mapValue(kind, obj, ref.key);
        if (v === undefined) {
          if (ref.optional) continue;
          throw new ConfigError(`couldn't find key ${ref.key} in ${kind} ${ns}/${ref.name}`);
        }
        env.set(e.name, v);
      }
    } else env.set(e.name, expand(String(e.value ?? ''), env));
  }
  return env;
}
