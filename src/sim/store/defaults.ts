/**
 * @module sim/store/defaults
 * What the real apiserver fills in on create: the defaulting funcs of pkg/apis/core/v1/defaults.go
 * plus the admission plugins every cluster runs (ServiceAccount, DefaultTolerationSeconds,
 * Priority, NamespaceLifecycle labels) and the service IP/port allocators.
 */
import type { KObject } from '../types.js';

type Obj = Record<string, any>;

/** imagePullPolicy: Always for :latest or no tag, else IfNotPresent (SetDefaults_Container). */
export function defaultPullPolicy(image: string | undefined): string {
  if (!image) return 'IfNotPresent';
  if (image.includes('@')) return 'IfNotPresent';
  const last = image.slice(image.lastIndexOf('/') + 1);
  const tag = last.includes(':') ? last.slice(last.indexOf(':') + 1) : '';
  return !tag || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(c: Obj): void {
  c.imagePullPolicy ??= defaultPullPolicy(c.image);
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  c.resources ??= {};
  // SetDefaults_Pod (pkg/apis/core/v1/defaults.go): a limit without a request is the request too.
  const lim = c.resources.limits;
  if (lim && typeof lim === 'object') {
    const req = (c.resources.requests ??= {});
    for (const k of Object.keys(lim)) req[k] ??= lim[k];
  }
  for (const p of c.ports ?? []) p.protocol ??= 'TCP';
  for (const e of c.env ?? []) {
    if (e.valueFrom?.fieldRef) e.valueFrom.fieldRef.apiVersion ??= 'v1';
  }
}

/** QoS class (pkg/apis/core/helper/qos): Guaranteed / Burstable / BestEffort. */
export function qosClass(spec: Obj): string {
  const cs: Obj[] = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of cs) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const r of ['cpu', 'memory']) {
      if (lim[r] === undefined) guaranteed = false;
      else if (req[r] !== undefined && req[r] !== lim[r]) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

export function defaultPod(pod: KObject): void {
  const spec = ((pod as Obj).spec ??= {});
  defaultPodSpec(spec);
  (pod as Obj).status = { phase: 'Pending', qosClass: qosClass(spec) };
}

export function defaultPodSpec(spec: Obj): void {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  spec.serviceAccountName ??= spec.serviceAccount ?? 'default';
  spec.serviceAccount = spec.serviceAccountName;
  spec.enableServiceLinks ??= true;
  spec.priority ??= 0;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  for (const c of spec.containers ?? []) defaultContainer(c);
  for (const c of spec.initContainers ?? []) defaultContainer(c);
  for (const v of spec.volumes ?? []) {
    // SetDefaults_Volume: a volume with no source is an emptyDir.
    if (v && typeof v === 'object' && Object.keys(v).every((k) => k === 'name')) v.emptyDir = {};
    if (v.configMap) v.configMap.defaultMode ??= 420;
    if (v.secret) v.secret.defaultMode ??= 420;
    if (v.downwardAPI) v.downwardAPI.defaultMode ??= 420;
    if (v.projected) v.projected.defaultMode ??= 420;
  }
  // DefaultTolerationSeconds admission plugin.
  const tol: Obj[] = (spec.tolerations ??= []);
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!tol.some((t) => t.key === key && (t.effect === 'NoExecute' || !t.effect)))
      tol.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
  }
}

export function defaultNamespace(ns: KObject): void {
  const o = ns as Obj;
  o.metadata.labels = { ...(o.metadata.labels ?? {}), 'kubernetes.io/metadata.name': o.metadata.name };
  o.spec = { finalizers: ['kubernetes'], ...(o.spec ?? {}) };
  o.status = { phase: 'Active' };
}

export function defaultSecret(s: KObject): void {
  const o = s as Obj;
  o.type ??= 'Opaque';
  if (o.stringData && typeof o.stringData === 'object') {
    o.data = { ...(o.data ?? {}) };
    for (const [k, v] of Object.entries(o.stringData as Record<string, string>))
      o.data[k] = Buffer.from(String(v)).toString('base64');
    delete o.stringData;
  }
}

/** ClusterIP and NodePort allocation (pkg/registry/core/service/ipallocator, portallocator). */
export class ServiceAllocator {
  private ips = new Set<string>(['10.96.0.1']);
  private ports = new Set<number>();
  private next = 2;
  allocIP(): string {
    for (;;) {
      const n = this.next++;
      const ip = `10.96.${(n >> 8) & 255}.${n & 255}`;
      if ((n & 255) !== 0 && !this.ips.has(ip)) {
        this.ips.add(ip);
        return ip;
      }
    }
  }
  reserve(ip: string | undefined): void {
    if (ip && ip !== 'None') this.ips.add(ip);
  }
  /** A Service restored from disk keeps its cluster IP and node ports. */
  reserveAll(svc: Obj): void {
    this.reserve(svc.spec?.clusterIP);
    for (const p of svc.spec?.ports ?? []) if (p.nodePort) this.ports.add(p.nodePort);
  }
  release(svc: Obj): void {
    this.ips.delete(svc.spec?.clusterIP);
    for (const p of svc.spec?.ports ?? []) if (p.nodePort) this.ports.delete(p.nodePort);
  }
  allocPort(): number {
    for (let p = 30000 + Math.floor(Math.random() * 2768), i = 0; i < 2768; i++, p = p >= 32767 ? 30000 : p + 1) {
      if (!this.ports.has(p)) {
        this.ports.add(p);
        return p;
      }
    }
    throw new Error('range is full');
  }
  defaultService(s: KObject): void {
    const o = s as Obj;
    const spec = (o.spec ??= {});
    spec.type ??= 'ClusterIP';
    spec.sessionAffinity ??= 'None';
    for (const p of spec.ports ?? []) {
      p.protocol ??= 'TCP';
      p.targetPort ??= p.port;
    }
    if (spec.type !== 'ExternalName') {
      if (spec.clusterIP === undefined || spec.clusterIP === '') spec.clusterIP = this.allocIP();
      else this.reserve(spec.clusterIP);
      spec.clusterIPs ??= [spec.clusterIP];
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
      spec.internalTrafficPolicy ??= 'Cluster';
    }
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
      spec.externalTrafficPolicy ??= 'Cluster';
      for (const p of spec.ports ?? []) {
        if (p.nodePort) this.ports.add(p.nodePort);
        else p.nodePort = this.allocPort();
      }
    }
    o.status = { loadBalancer: {} };
  }
}
