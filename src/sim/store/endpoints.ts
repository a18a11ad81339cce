/**
 * @module sim/store/endpoints
 * The endpoints controller (pkg/controller/endpoint/endpoints_controller.go): for every Service
 * with a selector, an Endpoints object of the same name lists the matching pods that have an IP
 * and are not finished or terminating: ready ones in `addresses`, others in `notReadyAddresses`
 * (all in `addresses` with publishNotReadyAddresses), ports resolved per pod (a named targetPort
 * looks up the container port of that name), subsets grouped by port set and sorted.
 * Services without a selector keep whatever Endpoints their owner writes.
 */
import type { KObject } from '../types.js';
import { defOf } from './resources.js';
import { now, type Store } from './store.js';

type Obj = Record<string, any>;
const PODS = defOf({ group: '', resource: 'pods' });
const SVC = defOf({ group: '', resource: 'services' });
const EP = defOf({ group: '', resource: 'endpoints' });

const matches = (sel: Record<string, string>, labels: Record<string, string> | undefined) =>
  Object.entries(sel).every(([k, v]) => labels?.[k] === v);

function resolvePort(pod: Obj, sp: Obj): number | undefined {
  const tp = sp.targetPort ?? sp.port;
  if (typeof tp === 'number') return tp;
  if (typeof tp === 'string' && /^\d+$/.test(tp)) return Number(tp);
  for (const c of pod.spec?.containers ?? [])
    for (const p of c.ports ?? [])
      if (p.name === tp && (p.protocol ?? 'TCP') === (sp.protocol ?? 'TCP')) return p.containerPort;
  return undefined;
}

const ipKey = (ip: string) =>
  ip
    .split('.')
    .map((x) => x.padStart(3, '0'))
    .join('.');

/** The Endpoints subsets of one service, as the controller computes them. */
export function computeSubsets(svc: Obj, pods: KObject[]): Obj[] {
  const groups = new Map<string, { ports: Obj[]; addresses: Obj[]; notReadyAddresses: Obj[] }>();
  for (const p of pods as Obj[]) {
    const ip = p.status?.podIP;
    if (!ip || p.metadata.deletionTimestamp || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed')
      continue;
    const ports: Obj[] = [];
    for (const sp of svc.spec?.ports ?? []) {
      const port = resolvePort(p, sp);
      if (port === undefined) continue;
      const ep: Obj = { port, protocol: sp.protocol ?? 'TCP' };
      if (sp.name) ep.name = sp.name;
      if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
      ports.push(ep);
    }
    if ((svc.spec?.ports ?? []).length && !ports.length) continue;
    ports.sort((a, b) => ((a.name ?? '') < (b.name ?? '') ? -1 : 1));
    const addr: Obj = {
      ip,
      nodeName: p.spec?.nodeName,
      targetRef: { kind: 'Pod', namespace: p.metadata.namespace, name: p.metadata.name, uid: p.metadata.uid },
    };
    if (!addr.nodeName) delete addr.nodeName;
    if (p.spec?.hostname && p.spec?.subdomain === svc.metadata.name) addr.hostname = p.spec.hostname;
    const ready = (p.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True');
    const key = JSON.stringify(ports);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports, addresses: [], notReadyAddresses: [] }));
    (ready || svc.spec?.publishNotReadyAddresses ? g.addresses : g.notReadyAddresses).push(addr);
  }
  const subsets: Obj[] = [];
  for (const g of groups.values()) {
    const s: Obj = {};
    if (g.addresses.length) s.addresses = g.addresses.sort((a, b) => (ipKey(a.ip) < ipKey(b.ip) ? -1 : 1));
    if (g.notReadyAddresses.length)
      s.notReadyAddresses = g.notReadyAddresses.sort((a, b) => (ipKey(a.ip) < ipKey(b.ip) ? -1 : 1));
    if (g.ports.length) s.ports = g.ports;
    subsets.push(s);
  }
  return subsets;
}

/** Bring one service's Endpoints up to date (create, update, or leave alone when unchanged). */
export function syncEndpoints(store: Store, ns: string, name: string): void {
  const svc = store.get(SVC, ns, name) as Obj | undefined;
  const ep = store.get(EP, ns, name) as Obj | undefined;
  if (!svc) return;
  if (!svc.spec?.selector || svc.spec.type === 'ExternalName') return;
  const pods = store.list(PODS, ns).filter((p) => matches(svc.spec.selector, p.metadata.labels));
  const subsets = computeSubsets(svc, pods);
  const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
  if (svc.spec.clusterIP === 'None') labels['service.kubernetes.io/headless'] = '';
  if (!ep) {
    try {
      store.create(EP, ns, {
        metadata: { name, labels, annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': now() } },
        ...(subsets.length ? { subsets } : {}),
      });
    } catch {
      /* the namespace is terminating */
    }
    return;
  }
  if (
    JSON.stringify(ep.subsets ?? []) === JSON.stringify(subsets) &&
    JSON.stringify(ep.metadata.labels ?? {}) === JSON.stringify(labels)
  )
    return;
  store.mutate(EP, ns, name, (o: Obj) => {
    o.metadata.labels = labels;
    o.metadata.annotations = {
      ...(o.metadata.annotations ?? {}),
      'endpoints.kubernetes.io/last-change-trigger-time': now(),
    };
    if (subsets.length) o.subsets = subsets;
    else delete o.subsets;
  });
}

/** Services of a namespace whose selector matches these labels (old or new state of a pod). */
export function servicesFor(store: Store, ns: string, labelSets: Array<Record<string, string> | undefined>): string[] {
  return store
    .list(SVC, ns)
    .filter((s) => (s as Obj).spec?.selector && labelSets.some((l) => matches((s as Obj).spec.selector, l)))
    .map((s) => s.metadata.name!);
}
