/**
 * @module sim/apiserver/table
 * meta.k8s.io/v1 Table output (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), with the
 * columns and cell values of the server-side printers (pkg/printers/internalversion/printers.go).
 * The apiserver always prints the wide cells; kubectl hides priority-1 columns unless `-o wide`.
 */
import type { KObject } from '../types.js';
import type { ResourceDef } from '../store/resources.js';
import { storagePrinters } from './table-storage.js';

type Obj = Record<string, any>;
export interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}
const col = (name: string, description = '', priority = 0, type = 'string', format = ''): Column => ({
  name,
  type,
  format,
  description,
  priority,
});
const NAME = col(
  'Name',
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  0,
  'string',
  'name',
);
const AGE = col(
  'Age',
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
);

/** duration.HumanDuration (apimachinery/pkg/util/duration). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8)
    return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}
const since = (t: string | undefined | null) => (t ? humanDuration(Date.now() - Date.parse(t)) : '<unknown>');
const none = (s: string | undefined | null) => (s ? s : '<none>');
const formatLabels = (m: Record<string, string> | undefined) => {
  const e = Object.entries(m ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  return e.length ? e.map(([k, v]) => `${k}=${v}`).join(',') : '<none>';
};

// ------------------------------------------------------------------ pods

function podCells(pod: Obj): { cells: unknown[]; conditions?: unknown[] } {
  const spec = pod.spec ?? {},
    status = pod.status ?? {};
  let restarts = 0;
  let restartableInitRestarts = 0;
  const total = (spec.containers ?? []).length;
  let ready = 0;
  let lastRestart = 0;
  let lastRestartableInitRestart = 0;
  let reason: string = status.phase ?? '';
  if (status.reason) reason = status.reason;
  for (const c of status.conditions ?? [])
    if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
  const initSpecs = new Map<string, Obj>((spec.initContainers ?? []).map((c: Obj) => [c.name, c]));
  const restartable = (name: string) => initSpecs.get(name)?.restartPolicy === 'Always';
  const termTime = (cs: Obj) =>
    cs.lastState?.terminated?.finishedAt ? Date.parse(cs.lastState.terminated.finishedAt) : 0;
  let initializing = false;
  const inits: Obj[] = status.initContainerStatuses ?? [];
  for (let i = 0; i < inits.length; i++) {
    const c = inits[i]!;
    restarts += c.restartCount ?? 0;
    if (c.lastState?.terminated) lastRestart = Math.max(lastRestart, termTime(c));
    if (restartable(c.name)) {
      restartableInitRestarts += c.restartCount ?? 0;
      if (c.lastState?.terminated) lastRestartableInitRestart = Math.max(lastRestartableInitRestart, termTime(c));
    }
    const st = c.state ?? {};
    if (st.terminated && st.terminated.exitCode === 0) continue;
    if (restartable(c.name) && c.started) continue;
    if (st.terminated) {
      reason = st.terminated.reason
        ? `Init:${st.terminated.reason}`
        : st.terminated.signal
          ? `Init:Signal:${st.terminated.signal}`
          : `Init:ExitCode:${st.terminated.exitCode}`;
    } else if (st.waiting?.reason && st.waiting.reason !== 'PodInitializing') {
      reason = `Init:${st.waiting.reason}`;
    } else {
      reason = `Init:${i}/${(spec.initContainers ?? []).length}`;
    }
    initializing = true;
    break;
  }
  const initializedTrue = (status.conditions ?? []).some((c: Obj) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initializedTrue) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    const cs: Obj[] = status.containerStatuses ?? [];
    for (let i = cs.length - 1; i >= 0; i--) {
      const c = cs[i]!;
      restarts += c.restartCount ?? 0;
      if (c.lastState?.terminated) lastRestart = Math.max(lastRestart, termTime(c));
      const st = c.state ?? {};
      if (st.waiting?.reason) reason = st.waiting.reason;
      else if (st.terminated?.reason) reason = st.terminated.reason;
      else if (st.terminated)
        reason = st.terminated.signal ? `Signal:${st.terminated.signal}` : `ExitCode:${st.terminated.exitCode}`;
      else if (c.ready && st.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = (status.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True')
        ? 'Running'
        : 'NotReady';
    }
  }
  const terminal = status.phase === 'Succeeded' || status.phase === 'Failed';
  if (pod.metadata.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp && !terminal) reason = 'Terminating';
  let restartsStr = String(restarts);
  if (restarts !== 0 && lastRestart) restartsStr = `${restarts} (${humanDuration(Date.now() - lastRestart)} ago)`;
  const ip = status.podIPs?.[0]?.ip ?? status.podIP;
  const gates: Obj[] = spec.readinessGates ?? [];
  let gateStr = '<none>';
  if (gates.length) {
    const trueConds = new Set(
      (status.conditions ?? []).filter((c: Obj) => c.status === 'True').map((c: Obj) => c.type),
    );
    gateStr = `${gates.filter((g) => trueConds.has(g.conditionType)).length}/${gates.length}`;
  }
  const cells = [
    pod.metadata.name,
    `${ready}/${total}`,
    reason,
    restartsStr,
    since(pod.metadata.creationTimestamp),
    none(ip),
    none(spec.nodeName),
    none(status.nominatedNodeName),
    gateStr,
  ];
  // printPod marks finished pods with the Completed row condition.
  return terminal
    ? {
        cells,
        conditions: [
          { type: 'Completed', status: 'True', reason: status.phase, message: 'The pod has completed successfully.' },
        ],
      }
    : { cells };
}

// ------------------------------------------------------------------ the rest

function servicePorts(ports: Obj[] | undefined): string {
  if (!ports?.length) return '<none>';
  return ports
    .map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`))
    .join(',');
}
function externalIP(svc: Obj): string {
  const s = svc.spec ?? {};
  const ext: string[] = s.externalIPs ?? [];
  switch (s.type) {
    case 'ClusterIP':
    case 'NodePort':
      return ext.length ? ext.join(',') : '<none>';
    case 'LoadBalancer': {
      const ing: string[] = (svc.status?.loadBalancer?.ingress ?? []).map((i: Obj) => i.ip ?? i.hostname);
      const all = [...ing, ...ext];
      return all.length ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return s.externalName ?? '<none>';
  }
  return '<unknown>';
}
function endpointsString(ep: Obj): string {
  const out: string[] = [];
  let count = 0;
  for (const ss of ep.subsets ?? []) {
    for (const a of ss.addresses ?? []) {
      for (const p of ss.ports?.length ? ss.ports : [undefined]) {
        count++;
        if (out.length < 3) out.push(p ? `${a.ip}:${p.port}` : a.ip);
      }
    }
  }
  if (!count) return '<none>';
  return count > 3 ? `${out.join(',')} + ${count - 3} more...` : out.join(',');
}
function selectorString(sel: Obj | undefined): string {
  if (!sel) return '<none>';
  const parts: string[] = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    const vals = (e.values ?? []).slice().sort().join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${vals})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${vals})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.length ? parts.join(',') : '<none>';
}

interface Printer {
  columns: Column[];
  row: (o: Obj) => { cells: unknown[]; conditions?: unknown[] };
}
const P: Record<string, Printer> = {
  pods: {
    columns: [
      NAME,
      col('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
      col('Status', 'The aggregate status of the containers in this pod.'),
      col(
        'Restarts',
        'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
      ),
      AGE,
      col(
        'IP',
        'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.',
        1,
      ),
      col('Node', 'NodeName indicates in which node this pod is scheduled.', 1),
      col(
        'Nominated Node',
        'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.',
        1,
      ),
      col('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
    ],
    row: podCells,
  },
  namespaces: {
    columns: [NAME, col('Status', 'The status of the namespace'), AGE],
    row: (o) => ({ cells: [o.metadata.name, o.status?.phase ?? '', since(o.metadata.creationTimestamp)] }),
  },
  services: {
    columns: [
      NAME,
      col('Type', 'The type of the service.'),
      col('Cluster-IP', 'The IP address of the service.'),
      col('External-IP', 'The external IP address of the service.'),
      col('Port(s)', 'The ports of the service.'),
      AGE,
      col('Selector', 'Route service traffic to pods with label keys and values matching this selector.', 1),
    ],
    row: (o) => ({
      cells: [
        o.metadata.name,
        o.spec?.type ?? '',
        none(o.spec?.clusterIP),
        externalIP(o),
        servicePorts(o.spec?.ports),
        since(o.metadata.creationTimestamp),
        formatLabels(o.spec?.selector),
      ],
    }),
  },
  endpoints: {
    columns: [NAME, col('Endpoints', 'Endpoints of the service.'), AGE],
    row: (o) => ({ cells: [o.metadata.name, endpointsString(o), since(o.metadata.creationTimestamp)] }),
  },
  configmaps: {
    columns: [NAME, col('Data', 'The number of entries in the ConfigMap.', 0, 'string'), AGE],
    row: (o) => ({
      cells: [
        o.metadata.name,
        Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length,
        since(o.metadata.creationTimestamp),
      ],
    }),
  },
  secrets: {
    columns: [NAME, col('Type', 'The type of the secret.'), col('Data', 'The number of entries in the secret.'), AGE],
    row: (o) => ({
      cells: [o.metadata.name, o.type ?? '', Object.keys(o.data ?? {}).length, since(o.metadata.creationTimestamp)],
    }),
  },
  serviceaccounts: {
    columns: [
      NAME,
      col(
        'Secrets',
        'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.',
      ),
      AGE,
    ],
    row: (o) => ({ cells: [o.metadata.name, (o.secrets ?? []).length, since(o.metadata.creationTimestamp)] }),
  },
  events: {
    columns: [
      col('Last Seen', 'Time when last Event occurred'),
      col('Type', 'Type of this event (Normal, Warning), new types could be added in the future.'),
      col('Reason', 'Reason why the action was taken.'),
      col('Object', 'The object that this event is about.'),
      col('Subobject', 'The subobject that this event is about.', 1),
      col('Source', 'The component reporting this event.', 1),
      col('Message', 'A human-readable description of the status of this operation.'),
      col('First Seen', 'Time when first Event occurred', 1),
      col('Count', 'The number of times this event has occurred.', 1),
      col('Name', 'The name of the event.', 1, 'string', 'name'),
    ],
    row: (o) => {
      let first = since(o.firstTimestamp);
      if (!o.firstTimestamp) first = since(o.eventTime);
      const last = o.lastTimestamp ? since(o.lastTimestamp) : first;
      const io = o.involvedObject ?? {};
      const target = io.name
        ? `${String(io.kind ?? '').toLowerCase()}/${io.name}`
        : String(io.kind ?? '').toLowerCase();
      const source = o.source?.component
        ? o.source.host
          ? `${o.source.component}, ${o.source.host}`
          : o.source.component
        : `${o.reportingComponent ?? ''}${o.reportingInstance ? `, ${o.reportingInstance}` : ''}`;
      return {
        cells: [
          last,
          o.type ?? '',
          o.reason ?? '',
          target,
          io.fieldPath ?? '',
          source,
          String(o.message ?? '').trim(),
          first,
          o.count || 1,
          o.metadata.name,
        ],
      };
    },
  },
  nodes: {
    columns: [
      NAME,
      col('Status', 'The status of the node'),
      col('Roles', 'The roles of the node'),
      AGE,
      col('Version', 'Kubelet Version reported by the node.'),
      col('Internal-IP', 'List of addresses reachable to the node.', 1),
      col('External-IP', 'List of addresses reachable to the node.', 1),
      col('OS-Image', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', 1),
      col('Kernel-Version', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
      col(
        'Container-Runtime',
        'Container Runtime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
        1,
      ),
    ],
    row: (o) => {
      const ready = (o.status?.conditions ?? []).find((c: Obj) => c.type === 'Ready');
      let st = ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown';
      if (o.spec?.unschedulable) st += ',SchedulingDisabled';
      const roles = Object.keys(o.metadata.labels ?? {})
        .filter((l) => l.startsWith('node-role.kubernetes.io/'))
        .map((l) => l.slice(24));
      const addr = (t: string) => (o.status?.addresses ?? []).find((a: Obj) => a.type === t)?.address;
      const ni = o.status?.nodeInfo ?? {};
      return {
        cells: [
          o.metadata.name,
          st,
          roles.length ? roles.join(',') : '<none>',
          since(o.metadata.creationTimestamp),
          ni.kubeletVersion ?? '',
          none(addr('InternalIP')),
          none(addr('ExternalIP')),
          ni.osImage ?? '<unknown>',
          ni.kernelVersion ?? '<unknown>',
          ni.containerRuntimeVersion ?? '<unknown>',
        ],
      };
    },
  },
  resourcequotas: {
    columns: [
      NAME,
      AGE,
      col('Request', 'Request represents a minimum amount of cpu/memory that a container may consume.'),
      col(
        'Limit',
        'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.',
      ),
    ],
    row: (o) => {
      const hard = o.status?.hard ?? o.spec?.hard ?? {},
        used = o.status?.used ?? {};
      const req: string[] = [],
        lim: string[] = [];
      for (const k of Object.keys(hard).sort())
        (k.startsWith('limits.') ? lim : req).push(`${k}: ${used[k] ?? '0'}/${hard[k]}`);
      return { cells: [o.metadata.name, since(o.metadata.creationTimestamp), req.join(', '), lim.join(', ')] };
    },
  },
  rolebindings: {
    columns: [
      NAME,
      col('Role', 'RoleRef references the Role.'),
      AGE,
      col('Users', 'Users in the roleBinding', 1),
      col('Groups', 'Groups in the roleBinding', 1),
      col('ServiceAccounts', 'ServiceAccounts in the roleBinding', 1),
    ],
    row: (o) => {
      const subj: Obj[] = o.subjects ?? [];
      const users = subj
        .filter((s) => s.kind === 'User')
        .map((s) => s.name)
        .join(', ');
      const groups = subj
        .filter((s) => s.kind === 'Group')
        .map((s) => s.name)
        .join(', ');
      const sas = subj
        .filter((s) => s.kind === 'ServiceAccount')
        .map((s) => `${s.namespace ?? ''}/${s.name}`)
        .join(', ');
      return {
        cells: [
          o.metadata.name,
          `${o.roleRef?.kind ?? ''}/${o.roleRef?.name ?? ''}`,
          since(o.metadata.creationTimestamp),
          users,
          groups,
          sas,
        ],
      };
    },
  },
  clusterrolebindings: {
    columns: [
      NAME,
      col('Role', 'RoleRef references the ClusterRole.'),
      AGE,
      col('Users', 'Users in the clusterRoleBinding', 1),
      col('Groups', 'Groups in the clusterRoleBinding', 1),
      col('ServiceAccounts', 'ServiceAccounts in the clusterRoleBinding', 1),
    ],
    row: (o) => P.rolebindings!.row(o),
  },
  networkpolicies: {
    columns: [NAME, col('Pod-Selector', 'Selects the pods to which this NetworkPolicy object applies.'), AGE],
    row: (o) => ({
      cells: [o.metadata.name, selectorString(o.spec?.podSelector), since(o.metadata.creationTimestamp)],
    }),
  },
};

// Storage kinds: table-storage.ts.
Object.assign(P, storagePrinters(NAME, AGE, since));

/** rest.NewDefaultTableConvertor: Name + Created At. */
const DEFAULT: Printer = {
  columns: [
    NAME,
    col(
      'Created At',
      'CreationTimestamp is a timestamp representing the server time when this object was created.',
      0,
      'date',
    ),
  ],
  row: (o) => ({ cells: [o.metadata.name, o.metadata.creationTimestamp] }),
};

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** metav1.PartialObjectMetadata of an object. */
export function partial(o: KObject, version = 'v1'): Obj {
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: o.metadata };
}

export function toTable(
  def: ResourceDef,
  objects: KObject[],
  opts: { include?: IncludeObject; headers?: boolean; version?: string; listMeta?: Obj },
): Obj {
  const printer = P[def.resource] ?? DEFAULT;
  const include = opts.include ?? 'Metadata';
  const rows = objects.map((o) => {
    const r = printer.row(o as Obj);
    const row: Obj = { cells: r.cells };
    if (r.conditions) row.conditions = r.conditions;
    if (include === 'Metadata') row.object = partial(o, opts.version);
    else if (include === 'Object') row.object = o;
    return row;
  });
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${opts.version ?? 'v1'}`,
    metadata: opts.listMeta ?? {},
    columnDefinitions: opts.headers === false ? null : printer.columns,
    rows,
  };
}
