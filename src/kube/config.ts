/**
 * @module kube/config
 * Where the cluster is and who we are: a kubeconfig file (`--kubeconfig`, then `KUBECONFIG`, then
 * `~/.kube/config`) or the in-cluster service account, loaded with @kubernetes/client-node 1.x's
 * `KubeConfig` (which also owns auth: client certs, bearer tokens, token files, exec plugins).
 * The namespace is `--namespace`, else the context's namespace, else the service account's
 * namespace file (in-cluster), else `default` — the order kubectl and client-go use
 * (client-go tools/clientcmd `Namespace()`; rest `InClusterConfig`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, delimiter } from 'node:path';
import { KubeConfig } from './kubeconfig.js';
import { invalid } from '../errors.js';

export interface KubeTargetOptions {
  /** `--kubeconfig`: a path (or a `:`-separated list, merged as kubectl does). */
  kubeconfig?: string;
  /** `--context`: a context name of the kubeconfig (default: its current-context). */
  context?: string;
  /** `--namespace`: overrides the context's namespace. */
  namespace?: string;
  /** Environment to read (tests pass their own); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Service-account directory (tests point it elsewhere). */
  serviceAccountDir?: string;
}

/** A resolved cluster: the one object the rest of src/kube is built from. */
export interface KubeTarget {
  kc: KubeConfig;
  /** The apiserver base URL without a trailing slash, e.g. `https://127.0.0.1:6443`. */
  server: string;
  namespace: string;
  source: 'kubeconfig' | 'in-cluster';
  /** The kubeconfig file(s) used, when source is 'kubeconfig'. */
  configPath?: string;
  contextName: string;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The kubeconfig path(s) that would be used, or undefined when none exists (then in-cluster, or kube-sim). */
export function findKubeconfig(opts: KubeTargetOptions = {}): string | undefined {
  const env = opts.env ?? process.env;
  if (opts.kubeconfig) return opts.kubeconfig;
  const fromEnv = (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f && existsSync(f));
  if (fromEnv.length) return fromEnv.join(delimiter);
  const home = env.HOME || homedir();
  const def = join(home, '.kube', 'config');
  return existsSync(def) ? def : undefined;
}

/** True when running in a pod with a mounted service account (rest.InClusterConfig's test). */
export function inClusterAvailable(opts: KubeTargetOptions = {}): boolean {
  const env = opts.env ?? process.env;
  const dir = opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  return !!env.KUBERNETES_SERVICE_HOST && !!env.KUBERNETES_SERVICE_PORT && existsSync(join(dir, 'token'));
}

/** Whether any cluster configuration exists; when none does, kuber-api starts the embedded kube-sim. */
export function clusterConfigured(opts: KubeTargetOptions = {}): boolean {
  return findKubeconfig(opts) !== undefined || inClusterAvailable(opts);
}

/** Load the target cluster. Throws an `invalid` EngineError with a readable message when impossible. */
export function loadKubeTarget(opts: KubeTargetOptions = {}): KubeTarget {
  const kc = new KubeConfig();
  const path = findKubeconfig(opts);
  let source: KubeTarget['source'];
  if (path) {
    const files = path.split(delimiter).filter(Boolean);
    for (const f of files) if (!existsSync(f)) throw invalid(`kubeconfig ${f} does not exist`);
    try {
      kc.loadFromFile(files[0]!);
      for (const f of files.slice(1)) {
        const more = new KubeConfig();
        more.loadFromFile(f);
        kc.mergeConfig(more, true);
      }
    } catch (err) {
      throw invalid(`cannot load kubeconfig ${path}: ${(err as Error).message}`, err);
    }
    source = 'kubeconfig';
  } else if (inClusterAvailable(opts)) {
    const dir = opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
    // client-node reads <prefix>/var/run/secrets/...: a test may root the service account elsewhere.
    kc.loadFromCluster(dir.endsWith(SERVICE_ACCOUNT_DIR) ? dir.slice(0, dir.length - SERVICE_ACCOUNT_DIR.length) : '');
    source = 'in-cluster';
  } else {
    throw invalid(
      'no Kubernetes configuration: pass --kubeconfig, set KUBECONFIG, or run in a pod with a service account',
    );
  }
  if (opts.context) {
    if (!kc.getContextObject(opts.context))
      throw invalid(`context "${opts.context}" is not in ${path ?? 'the kubeconfig'}`);
    kc.setCurrentContext(opts.context);
  }
  const contextName = kc.getCurrentContext();
  const ctx = kc.getContextObject(contextName);
  const cluster = kc.getCurrentCluster();
  if (!ctx || !cluster)
    throw invalid(`kubeconfig ${path ?? ''} has no usable current context (current-context: "${contextName ?? ''}")`);
  let namespace = opts.namespace || ctx.namespace?.trim() || '';
  if (!namespace && source === 'in-cluster') {
    try {
      namespace = readFileSync(join(opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR, 'namespace'), 'utf8').trim();
    } catch {
      /* no namespace file: fall through to default */
    }
  }
  if (!namespace) namespace = 'default';
  return { kc, server: cluster.server.replace(/\/+$/, ''), namespace, source, configPath: path, contextName };
}
