/**
 * @module sim
 * kube-sim's public entry: `start(opts)` runs an apiserver, the object store and controllers, and
 * the simulated kubelet in this process, writes a kubeconfig for clients, and returns a handle.
 * Clients reach it only through that kubeconfig, exactly as they reach a real cluster.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { arch, cpus, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { SimAuth, type StaticUser } from './auth/index.js';
import { FaultRegistry, type Faults } from './faults.js';
import { createKubelet } from './kubelet/index.js';
import { ApiServer } from './apiserver/server.js';
import { ensureCerts } from './apiserver/tls.js';
import { kubeconfigObject, kubeconfigYaml } from './kubeconfig.js';
import { Lifecycle } from './store/lifecycle.js';
import { installAdmission } from './admission/index.js';
import { defOf } from './store/resources.js';
import { lockStateDir, readStoreFile, StorePersistence } from './store/persist.js';
import { Store } from './store/store.js';
import { Scheduler } from './scheduler/index.js';
import { defaultStorageClass } from './storage/provisioner.js';
import { StorageController } from './storage/pv-controller.js';
import { NetworkPolicyController } from './network-policy/index.js';
import type { ImageConfig, KObject, Kubelet } from './types.js';

export interface SimOptions {
  /** HTTPS with a generated CA (default true). */
  tls?: boolean;
  /** Listen address (default 127.0.0.1) and port (default 0: any free port). */
  host?: string;
  port?: number;
  /** Bearer token: a string, true (generate one) or false (no authentication). Default: generated with TLS, none without. */
  token?: string | boolean;
  /** State directory (certs, kubeconfig, kubelet state). Default: a new temp dir, removed at stop(). */
  stateDir?: string;
  /** Where to write the kubeconfig (default <stateDir>/kubeconfig). */
  kubeconfigPath?: string;
  /** Feature gates, e.g. { PodLogsQuerySplitStreams: true }. */
  featureGates?: Record<string, boolean>;
  /** Watch bookmark interval (default 60000 ms, about what a real apiserver does). */
  bookmarkIntervalMs?: number;
  /** Watches without timeoutSeconds end after a random time in [min, 2*min) (default 1800 s). */
  minRequestTimeoutSeconds?: number;
  /** Events kept per resource for watch resumption; older RVs get 410 Expired (default 5000). */
  watchHistorySize?: number;
  /** A watcher whose unsent output exceeds this is closed (default 64 MiB). */
  maxWatchBufferBytes?: number;
  /** Existing pods Pod Security checks when a namespace's enforce level tightens (default 3000, as upstream). */
  podSecurityMaxPodsToCheck?: number;
  /** The first node's name (default 'kube-sim'). */
  nodeName?: string;
  /** Simulated nodes (default 1): `<nodeName>`, `<nodeName>-worker`, `<nodeName>-worker2`... (kind's names). */
  nodes?: number;
  /** Create the default StorageClass `standard` (local-path provisioner, WaitForFirstConsumer). Default true. */
  defaultStorageClass?: boolean;
  /**
   * Keep the objects across restarts in `<stateDir>/store.json` (kube-sim's etcd), and start from
   * what a previous run left there. Default false (tests start clean).
   */
  persist?: boolean;
  /** With `persist`: write at most this long after a change (default 200 ms). */
  persistDebounceMs?: number;
  /** With `persist`: how long to wait for a previous kube-sim to leave the state directory (default 10000 ms). */
  persistLockWaitMs?: number;
  /** Passed through to the kubelet. */
  imageCatalogue?: Record<string, ImageConfig>;
  unknownImagePolicy?: 'run' | 'pull-error';
  kubelet?: Record<string, unknown>;
  /** More bearer tokens and their users (kube-apiserver --token-auth-file), e.g. for tests; RBAC applies to them. */
  users?: StaticUser[];
  /** Request log (one line per request), off by default. */
  log?: (line: string) => void;
  /** Enforce NetworkPolicy between pods with nftables (default true; needs root, nft, br_netfilter). */
  networkPolicy?: boolean;
}

export interface SimHandle {
  /** The apiserver URL, e.g. https://127.0.0.1:40123 */
  url: string;
  host: string;
  port: number;
  kubeconfigPath: string;
  /** The kubeconfig as YAML text, and as an object. */
  kubeconfig: string;
  kubeconfigObject: Record<string, unknown>;
  token?: string;
  caPath?: string;
  caPem?: string;
  stateDir: string;
  /** Merge faults into the registry (same as POST /_sim/faults). */
  setFaults(f: Faults): void;
  clearFaults(): void;
  faults(): Faults;
  stop(): Promise<void>;
}

const NS = defOf({ group: '', resource: 'namespaces' });
const NODES = defOf({ group: '', resource: 'nodes' });
const SERVICES = defOf({ group: '', resource: 'services' });
const ENDPOINTS = defOf({ group: '', resource: 'endpoints' });
const SC = defOf({ group: 'storage.k8s.io', resource: 'storageclasses' });

export async function start(opts: SimOptions = {}): Promise<SimHandle> {
  const tls = opts.tls ?? true;
  const host = opts.host ?? '127.0.0.1';
  const ownDir = !opts.stateDir;
  const stateDir = resolve(opts.stateDir ?? mkdtempSync(join(tmpdir(), 'kube-sim-')));
  mkdirSync(stateDir, { recursive: true });
  const token =
    opts.token === true || (opts.token === undefined && tls)
      ? randomBytes(24).toString('hex')
      : typeof opts.token === 'string'
        ? opts.token
        : undefined;
  // One simulator per persisted state directory; a previous one still saving is waited for.
  const unlock = opts.persist ? await lockStateDir(stateDir, opts.persistLockWaitMs ?? 10_000) : () => {};
  const certs = tls ? ensureCerts(stateDir, host === '0.0.0.0' ? [] : [host]) : undefined;
  const nodeName = opts.nodeName ?? 'kube-sim';

  const store = new Store({ historySize: opts.watchHistorySize ?? 5000, nodeName });
  const lifecycle = new Lifecycle(store, { caPem: certs?.caPem });
  installAdmission(store, { namespaceMaxPodsToCheck: opts.podSecurityMaxPodsToCheck ?? 3000 });
  const faults = new FaultRegistry();
  const auth = new SimAuth(store, {
    stateDir,
    adminToken: token,
    users: opts.users,
    caPem: certs?.caPem,
    featureGates: opts.featureGates,
  });
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease'])
    store.create(NS, undefined, { metadata: { name } });
  const nodeNames = simNodeNames(nodeName, opts.nodes ?? 1);
  for (const [i, n] of nodeNames.entries()) store.create(NODES, undefined, nodeObject(n, i === 0));
  if (opts.defaultStorageClass ?? true) store.create(SC, undefined, defaultStorageClass());
  // A restart on the same state directory: every object of the previous run, as an apiserver
  // finds them in etcd (the kubelet then finds the pods it ran: kubelet/restore.ts).
  const saved = opts.persist ? readStoreFile(stateDir) : undefined;
  if (saved) store.load(saved);
  const persistence = opts.persist
    ? new StorePersistence(store, stateDir, {
        debounceMs: opts.persistDebounceMs,
        onError: (err) => process.emitWarning(`kube-sim: cannot save the store: ${err.message}`),
      })
    : undefined;
  const scheduler = new Scheduler(store);
  const storage = new StorageController(store, lifecycle, stateDir);
  const netpol = opts.networkPolicy === false ? undefined : new NetworkPolicyController(store);
  const kubelet: Kubelet = createKubelet(store, faults, {
    stateDir,
    nodeName,
    nodeNames,
    scheduler: 'external',
    featureGates: { ...(opts.featureGates ?? {}) },
    imageCatalogue: opts.imageCatalogue,
    unknownImagePolicy: opts.unknownImagePolicy,
    extra: {
      serviceAccountToken: (pod: KObject, src: { audience?: string; expirationSeconds?: number }) =>
        auth.podToken(pod, src),
      ...(netpol ? { podNetworkAdded: (pod: KObject, ip: string) => netpol.podNetworkAdded(pod, ip) } : {}),
      ...opts.kubelet,
    },
  });
  const api = new ApiServer(store, lifecycle, kubelet, faults, {
    host,
    port: opts.port ?? 0,
    tls: certs && { cert: certs.cert, key: certs.key },
    token,
    auth,
    bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000,
    minRequestTimeoutSeconds: opts.minRequestTimeoutSeconds ?? 1800,
    maxWatchBufferBytes: opts.maxWatchBufferBytes ?? 64 * 1024 * 1024,
    log: opts.log,
  });
  let port: number;
  try {
    port = await api.listen();
  } catch (err) {
    await kubelet.stop().catch(() => {});
    scheduler.stop();
    storage.stop();
    persistence?.close();
    unlock();
    if (ownDir) rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `${tls ? 'https' : 'http'}://${urlHost}:${port}`;
  // The `kubernetes` Service and its Endpoints, as every cluster has them (this run's port: a
  // restored pair is replaced).
  for (const def of [SERVICES, ENDPOINTS]) {
    const old = store.get(def, 'default', 'kubernetes');
    if (old) store.erase(def, old);
  }
  store.create(SERVICES, 'default', {
    metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      clusterIP: '10.96.0.1',
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }],
      type: 'ClusterIP',
    },
  });
  store.create(ENDPOINTS, 'default', {
    metadata: { name: 'kubernetes', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [
      {
        addresses: [{ ip: urlHost === 'localhost' ? '127.0.0.1' : urlHost.replace(/^\[|\]$/g, '') }],
        ports: [{ name: 'https', port, protocol: 'TCP' }],
      },
    ],
  });
  await new Promise((r) => setImmediate(r)); // let the controllers populate the namespaces
  // NetworkPolicy first: gone simulators' tables are swept before the kubelet can reuse their pod
  // IPs (it reaps their claims), and the first pods already get their rules when attached.
  await netpol?.start();
  await kubelet.start();
  scheduler.start();
  storage.start();
  // kube-system/kube-dns, as clusters have it, when the kubelet serves a cluster DNS (kubelet/cluster-dns.ts).
  // After a restart on a persisted store the Service is there already, perhaps with the address
  // of the previous run's claim: replaced, never created twice.
  const dnsIp = kubelet.clusterDnsAddress?.();
  const oldDns = store.get(SERVICES, 'kube-system', 'kube-dns');
  if (oldDns && (oldDns.spec as { clusterIP?: string } | undefined)?.clusterIP !== dnsIp)
    store.remove(SERVICES, 'kube-system', 'kube-dns');
  if (dnsIp && !store.get(SERVICES, 'kube-system', 'kube-dns'))
    store.create(SERVICES, 'kube-system', {
      metadata: { name: 'kube-dns', labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS' } },
      spec: {
        clusterIP: dnsIp,
        ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }],
        type: 'ClusterIP',
      },
    });

  const kc = { server: url, caPem: certs?.caPem, token };
  const kubeconfig = kubeconfigYaml(kc);
  const kubeconfigPath = resolve(opts.kubeconfigPath ?? join(stateDir, 'kubeconfig'));
  writeFileSync(kubeconfigPath, kubeconfig, { mode: 0o600 });

  let stopped: Promise<void> | undefined;
  return {
    url,
    host: urlHost,
    port,
    kubeconfigPath,
    kubeconfig,
    kubeconfigObject: kubeconfigObject(kc),
    token,
    caPath: certs?.caPath,
    caPem: certs?.caPem,
    stateDir,
    setFaults: (f) => faults.set(f),
    clearFaults: () => faults.clear(),
    faults: () => faults.current,
    stop: () =>
      (stopped ??= (async () => {
        await api.close();
        scheduler.stop();
        storage.stop();
        await netpol?.stop();
        await kubelet.stop();
        persistence?.close();
        unlock();
        if (ownDir) rmSync(stateDir, { recursive: true, force: true });
      })()),
  };
}

/** kind's node names: the first, then `-worker`, `-worker2`... */
export function simNodeNames(first: string, n: number): string[] {
  const out = [first];
  for (let i = 1; i < Math.max(1, n); i++) out.push(`${first}-worker${i === 1 ? '' : i}`);
  return out;
}

function nodeObject(name: string, controlPlane: boolean): Record<string, unknown> {
  const t = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const mem = `${Math.floor(totalmem() / 1024)}Ki`;
  const a = arch() === 'x64' ? 'amd64' : arch();
  return {
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': a,
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': a,
        ...(controlPlane ? { 'node-role.kubernetes.io/control-plane': '' } : {}),
      },
    },
    spec: {},
    status: {
      capacity: { cpu: String(cpus().length), memory: mem, pods: '110', 'ephemeral-storage': '10Gi' },
      allocatable: { cpu: String(cpus().length), memory: mem, pods: '110', 'ephemeral-storage': '10Gi' },
      conditions: [
        {
          type: 'MemoryPressure',
          status: 'False',
          lastHeartbeatTime: t,
          lastTransitionTime: t,
          reason: 'KubeletHasSufficientMemory',
          message: 'kubelet has sufficient memory available',
        },
        {
          type: 'DiskPressure',
          status: 'False',
          lastHeartbeatTime: t,
          lastTransitionTime: t,
          reason: 'KubeletHasNoDiskPressure',
          message: 'kubelet has no disk pressure',
        },
        {
          type: 'PIDPressure',
          status: 'False',
          lastHeartbeatTime: t,
          lastTransitionTime: t,
          reason: 'KubeletHasSufficientPID',
          message: 'kubelet has sufficient PID available',
        },
        {
          type: 'Ready',
          status: 'True',
          lastHeartbeatTime: t,
          lastTransitionTime: t,
          reason: 'KubeletReady',
          message: 'kubelet is posting ready status',
        },
      ],
      addresses: [
        { type: 'InternalIP', address: '127.0.0.1' },
        { type: 'Hostname', address: name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: '',
        systemUUID: '',
        bootID: '',
        kernelVersion: release(),
        osImage: 'kube-sim (Debian GNU/Linux 12)',
        containerRuntimeVersion: 'kube-sim://1.0.0',
        kubeletVersion: 'v1.33.0',
        kubeProxyVersion: 'v1.33.0',
        operatingSystem: 'linux',
        architecture: a,
      },
    },
  };
}

export type { Faults } from './faults.js';
