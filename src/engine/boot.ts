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
import { Kube, clusterConfigured, inClusterAvailable, type KubeTargetOptions } from '../kube/index.js';
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

export async function bootKubeBackend(opts: BootOptions, log: Logger): Promise<Booted> {
  const env = opts.env ?? process.env;
  const stateDir = opts.stateDir ?? defaultStateDir(env);
  const target: KubeTargetOptions = { kubeconfig: opts.kubeconfig, context: opts.context, namespace: opts.namespace, env };
  let sim: EmbeddedSim | undefined;
  if (!clusterConfigured(target)) {
    sim = await startEmbeddedSim(join(stateDir, 'kube-sim'), log);
    target.kubeconfig = sim.kubeconfigPath;
    log.info({ url: sim.url, kubeconfig: sim.kubeconfigPath }, `no kubeconfig found: started the embedded kube-sim at ${sim.url} (kubeconfig ${sim.kubeconfigPath})`);
  }
  try {
    const kube = Kube.load(target);
    const inCluster = kube.target.source === 'in-cluster' || inClusterAvailable({ env });
    const podName = env.POD_NAME || (inCluster ? env.HOSTNAME || hostname() : undefined);
    const instance = sanitiseLabelValue(opts.instanceId || env.KUBER_API_INSTANCE_ID || (inCluster && podName ? podName : persistedInstanceId(stateDir)));
    let ownerPod: EngineOptions['ownerPod'];
    let ownPodIp: string | undefined; // where containers reach us (host-gateway, the embedded DNS) without POD_IP
    if (inCluster && podName) {
      // Records are owned by our Pod so that Kubernetes' GC removes everything even after a SIGKILL.
      // An owner must live in the same namespace: otherwise the reference is treated as absent.
      const pod = await kube.client.get<{ metadata: { uid: string }; status?: { podIP?: string } }>(kube.path('pods', podName)).catch(() => undefined);
      if (pod && (!env.POD_UID || env.POD_UID === pod.metadata.uid)) {
        ownerPod = { name: podName, uid: pod.metadata.uid };
        ownPodIp = pod.status?.podIP;
      }
      else log.warn({ pod: podName, namespace: kube.namespace }, 'kuber-api runs in a cluster but its own Pod is not in the target namespace: containers will not be garbage-collected with it');
    }
    const engine = new KubeEngine(kube, { ...opts.engine, instance, ownerPod, simulated: !!sim, hostGatewayIp: opts.engine?.hostGatewayIp ?? (env.POD_IP || ownPodIp) }, log.child({ component: 'engine' }));
    const slow = setInterval(() => log.warn({ server: kube.target.server }, 'still waiting for the Kubernetes API to list containers'), 10_000);
    try {
      await engine.start();
    } finally {
      clearInterval(slow);
    }
    log.info({ server: kube.target.server, namespace: kube.namespace, instance, containers: engine.index.size, owner: ownerPod?.name }, 'Kubernetes backend ready');
    return {
      engine,
      kube,
      sim,
      close: async () => {
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
