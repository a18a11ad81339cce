/**
 * @module engine/boot
 * Build the Kubernetes backend from the options: find the cluster (kubeconfig, in-cluster, or
 * the embedded kube-sim when there is neither), choose the instance ID (stable across restarts,
 * so that containers survive them), find kuber-api's own Pod to own every record when it runs in
 * the cluster, and sync the caches before the API starts answering.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import {
  Kube,
  clusterConfigured,
  inClusterAvailable,
  SERVICE_ACCOUNT_DIR,
  type KubeTargetOptions,
} from '../kube/index.js';
import { preflight } from '../kube/preflight.js';
import type { KubeClientOptions } from '../kube/client.js';
import type { CacheOptions } from '../kube/cache.js';
import { loadKubeTarget } from '../kube/config.js';
import { brokeredTarget, fetchBrokered, keepFresh, podSecurityLabels } from '../kube/brokered.js';
import { startEmbeddedSim, type EmbeddedSim } from '../kube/embedded-sim.js';
import { KubeEngine } from './kube-engine.js';
import type { EngineOptions } from './engine-options.js';
import { sanitiseLabelValue } from './model/ids.js';

export interface BootOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  /** Instance label value; default: the pod name in a cluster, else an ID kept in the state dir. */
  instanceId?: string;
  /** kuber-api's state (instance ID, embedded kube-sim); default $XDG_STATE_HOME/kuber-api. */
  stateDir?: string;
  engine?: Partial<Omit<EngineOptions, 'instance'>>;
  env?: NodeJS.ProcessEnv;
  /** Service-account directory (tests root it elsewhere); default the in-cluster mount. */
  serviceAccountDir?: string;
  /** The embedded kube-sim may apt-get its packages (`--install-prereqs`). */
  installPrereqs?: boolean;
  /** The Kubernetes client's limits (src/kube/client.ts). */
  kubeClient?: Partial<KubeClientOptions>;
  /** The watch caches' bounds (src/kube/cache.ts: tombstones). */
  kubeCache?: Partial<CacheOptions>;
  /** Aborted at the startup deadline: the preflight stops retrying an unreachable apiserver. */
  signal?: AbortSignal;
  /** Brokered mode (--operator-url): the namespace and token come from the kuber-api operator. */
  operator?: { url: string; waitMs: number; tokenFile?: string; caFile?: string };
}

export interface Booted {
  engine: KubeEngine;
  kube: Kube;
  sim?: EmbeddedSim;
  close(): Promise<void>;
}

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state'), 'kuber-api');
}

function persistedInstanceId(stateDir: string): string {
  const file = join(stateDir, 'instance-id');
  try {
    const v = readFileSync(file, 'utf8').trim();
    if (v) return v;
  } catch {
    /* first run */
  }
  const id = `kapi-${randomBytes(6).toString('hex')}`;
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(file, id + '\n');
  return id;
}

/**
 * Brokered mode: present our token (the Pod's service-account token, or --operator-token-file) to
 * the operator, wait (bounded) for the job's namespace, and talk to Kubernetes as the child
 * namespace's service account from then on (src/kube/brokered.ts). No owner Pod is needed: the
 * operator deletes the whole namespace with the job.
 */
async function brokeredKube(
  o: NonNullable<BootOptions['operator']>,
  target: KubeTargetOptions,
  stateDir: string,
  signal: AbortSignal | undefined,
  log: Logger,
  limits: Pick<BootOptions, 'kubeClient' | 'kubeCache'> = {},
) {
  const base = loadKubeTarget(target);
  const tokenPath = o.tokenFile ?? join(target.serviceAccountDir ?? SERVICE_ACCOUNT_DIR, 'token');
  const presented = () => readFileSync(tokenPath, 'utf8').trim();
  const ask = () =>
    fetchBrokered(o.url, presented, {
      waitMs: o.waitMs,
      ...(o.caFile ? { caFile: o.caFile } : {}),
      ...(signal ? { signal } : {}),
      onWait: (why) => log.info({ operator: o.url, why }, 'waiting for the operator to prepare the job namespace'),
    });
  const creds = await ask();
  mkdirSync(stateDir, { recursive: true });
  const tokenFile = join(stateDir, 'brokered-token');
  const kube = new Kube(brokeredTarget(base, creds, tokenFile), limits.kubeClient, limits.kubeCache);
  let current = creds;
  const stop = keepFresh(
    creds,
    tokenFile,
    ask,
    (err) => log.warn({ err: err.message }, 'could not refresh the brokered token; retrying'),
    (next) => (current = next),
  );
  log.info(
    { namespace: creds.namespace, expires: creds.expirationTimestamp },
    'the operator gave this job its namespace',
  );
  return { kube, stop, namespaceLabels: () => podSecurityLabels(current) };
}

/**
 * kuber-api's own Pod, the owner of everything it creates, and its IP (where containers reach us:
 * host-gateway, the embedded DNS, when POD_IP is not set).
 */
async function ownPod(
  kube: Kube,
  podName: string,
  env: NodeJS.ProcessEnv,
  log: Logger,
): Promise<{ ownerPod: EngineOptions['ownerPod']; ownPodIp: string | undefined }> {
  // Records are owned by our Pod so that Kubernetes' GC removes everything even after a SIGKILL.
  // An owner must live in the same namespace: otherwise the reference is treated as absent.
  // Without that owner nothing would ever be cleaned up after the job: fatal in a cluster.
  const lost = (why: string) =>
    new Error(
      `kuber-api runs in the cluster as Pod "${podName}" but ${why}: without its own Pod as owner nothing it creates would be garbage-collected; set POD_NAME and POD_UID from the downward API, run it in the namespace it targets ("${kube.namespace}"), and grant "get" on pods (deploy/base/clusterrole-sidecar.yaml)`,
    );
  // (A kubeconfig to another cluster while running in one is not sidecar mode: a warning then.)
  const sidecar = kube.target.source === 'in-cluster';
  let why: string | undefined;
  const pod = await kube.client
    .get<{ metadata: { uid: string }; status?: { podIP?: string } }>(kube.path('pods', podName))
    .catch((err: Error) => void (why = `cannot read that Pod in namespace "${kube.namespace}" (${err.message})`));
  if (pod && env.POD_UID && env.POD_UID !== pod.metadata.uid)
    why = `that Pod's uid is ${pod.metadata.uid}, not POD_UID ${env.POD_UID}`;
  if (pod && !why) return { ownerPod: { name: podName, uid: pod.metadata.uid }, ownPodIp: pod.status?.podIP };
  if (sidecar) throw lost(why!);
  log.warn(
    { pod: podName, namespace: kube.namespace, why },
    'kuber-api runs in a cluster but its own Pod is not in the target cluster or namespace: containers will not be garbage-collected with it',
  );
  return { ownerPod: undefined, ownPodIp: undefined };
}

export async function bootKubeBackend(opts: BootOptions, log: Logger): Promise<Booted> {
  const env = opts.env ?? process.env;
  const stateDir = opts.stateDir ?? defaultStateDir(env);
  const target: KubeTargetOptions = {
    kubeconfig: opts.kubeconfig,
    context: opts.context,
    namespace: opts.namespace,
    env,
    serviceAccountDir: opts.serviceAccountDir,
  };
  let sim: EmbeddedSim | undefined;
  if (!clusterConfigured(target)) {
    // Inside a cluster a missing token is a deployment mistake, never a reason to run a simulator.
    if (env.KUBERNETES_SERVICE_HOST)
      throw new Error(
        `kuber-api runs inside a Kubernetes cluster (KUBERNETES_SERVICE_HOST is set) but has no service account token (${SERVICE_ACCOUNT_DIR}/token) and no kubeconfig: mount the token (automountServiceAccountToken: true) or pass --kubeconfig; inside a cluster kuber-api does not start its simulator`,
      );
    sim = await startEmbeddedSim(join(stateDir, 'kube-sim'), log, { installPrereqs: opts.installPrereqs });
    target.kubeconfig = sim.kubeconfigPath;
    log.info(
      { url: sim.url, kubeconfig: sim.kubeconfigPath },
      `no kubeconfig found: started the embedded kube-sim at ${sim.url} (kubeconfig ${sim.kubeconfigPath})`,
    );
  }
  try {
    let brokered: Awaited<ReturnType<typeof brokeredKube>> | undefined;
    if (opts.operator) brokered = await brokeredKube(opts.operator, target, stateDir, opts.signal, log, opts);
    const kube = brokered?.kube ?? Kube.load(target, opts.kubeClient, opts.kubeCache);
    await preflight(kube.client, kube.namespace, {
      signal: opts.signal,
      onRetry: (err, delay) =>
        log[delay === 100 || delay >= 5000 ? 'warn' : 'debug'](
          { server: kube.target.server, err: err.message, delay },
          'the Kubernetes API is not reachable yet; retrying',
        ),
    });
    const inCluster =
      kube.target.source === 'in-cluster' || inClusterAvailable({ env, serviceAccountDir: opts.serviceAccountDir });
    const podName = env.POD_NAME || (inCluster ? env.HOSTNAME || hostname() : undefined);
    const instance = sanitiseLabelValue(
      opts.instanceId || env.KUBER_API_INSTANCE_ID || (inCluster && podName ? podName : persistedInstanceId(stateDir)),
    );
    const { ownerPod, ownPodIp } =
      inCluster && podName && !brokered
        ? await ownPod(kube, podName, env, log)
        : { ownerPod: undefined, ownPodIp: undefined };
    // Brokered: the child namespace's labels come from the operator (our token cannot read Namespaces).
    const security = brokered
      ? { security: { ...opts.engine?.security, namespaceLabels: brokered.namespaceLabels } }
      : {};
    const engine = new KubeEngine(
      kube,
      {
        ...opts.engine,
        ...security,
        instance,
        ownerPod,
        simulated: !!sim,
        hostGatewayIp: opts.engine?.hostGatewayIp ?? (env.POD_IP || ownPodIp),
      },
      log.child({ component: 'engine' }),
    );
    const slow = setInterval(
      () => log.warn({ server: kube.target.server }, 'still waiting for the Kubernetes API to list containers'),
      10_000,
    );
    try {
      await engine.start();
    } finally {
      clearInterval(slow);
    }
    log.info(
      {
        server: kube.target.server,
        namespace: kube.namespace,
        instance,
        containers: engine.index.size,
        owner: ownerPod?.name,
      },
      'Kubernetes backend ready',
    );
    return {
      engine,
      kube,
      sim,
      close: async () => {
        brokered?.stop();
        engine.close();
        kube.close();
        await sim?.stop();
      },
    };
  } catch (err) {
    await sim?.stop();
    throw err;
  }
}
