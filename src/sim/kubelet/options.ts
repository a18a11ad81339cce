/**
 * @module sim/kubelet/options
 * The kubelet's resolved configuration: what `createKubelet(store, faults, opts)` receives
 * (KubeletOptions from src/sim/types.ts) plus kubelet-only knobs read from `opts.extra`, each with
 * the real kubelet's default unless a simulator in a test wants it shorter.
 */
import type { ImageConfig, KObject, KubeletOptions } from '../types.js';

export interface KubeletConfig {
  stateDir: string;
  nodeName: string;
  /** The simulated nodes whose pods this kubelet runs (all share this host). */
  nodeNames: string[];
  /** Bind unscheduled pods to nodeName itself (no scheduler in front of it). */
  selfSchedule: boolean;
  featureGates: Record<string, boolean>;
  imageCatalogue: Record<string, ImageConfig>;
  /** An image absent from the catalogue (and not busybox-like): run on the host root, or fail its pull. */
  unknownImages: 'host-root' | 'fail';
  /** Pod network: own netns per pod on a bridge ('netns'), the host's ('host'), or netns when root ('auto'). */
  network: 'auto' | 'netns' | 'host';
  /** CrashLoopBackOff / ImagePullBackOff: first delay and cap (kubelet: 10 s doubling to 300 s). */
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** A container that ran this long without exiting resets its back-off (kubelet: 10 min). */
  backoffResetMs: number;
  /** Bytes a WebSocket may buffer before the producing process's pipe is paused. */
  streamHighWaterMark: number;
  /** Log writer queue above which the container's output pipes are paused. */
  logHighWaterMark: number;
  /** python3 used for the pseudo-terminal helper. */
  python: string;
  /** Token written into projected serviceAccountToken volumes: fixed, or minted for the pod (src/sim/auth). */
  serviceAccountToken: string | ((pod: KObject, source: { audience?: string; expirationSeconds?: number }) => string);
  /** CA bundle written for the kube-root-ca.crt projection when the ConfigMap does not exist. */
  caCert: string;
  /** Called once a pod's network is attached, before its containers start (the CNI ADD moment): NetworkPolicy. */
  podNetworkAdded?: (pod: KObject, ip: string) => Promise<void>;
}

function num(v: unknown, d: number): number {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : d;
}

export function resolveConfig(opts: KubeletOptions): KubeletConfig {
  const x = (opts.extra ?? {}) as Record<string, unknown>;
  let unknownImages: KubeletConfig['unknownImages'] = opts.unknownImagePolicy === 'pull-error' ? 'fail' : 'host-root';
  if (x.unknownImages === 'fail' || x.unknownImages === 'host-root') unknownImages = x.unknownImages;
  const network = x.network === 'host' || x.network === 'netns' ? x.network : 'auto';
  return {
    stateDir: opts.stateDir,
    nodeName: opts.nodeName || 'kube-sim-node',
    nodeNames: opts.nodeNames?.length ? [...opts.nodeNames] : [opts.nodeName || 'kube-sim-node'],
    selfSchedule: opts.scheduler !== 'external',
    featureGates: { ...(opts.featureGates ?? {}) },
    imageCatalogue: { ...(opts.imageCatalogue ?? {}) },
    unknownImages,
    network,
    backoffInitialMs: num(x.backoffInitialMs, 10_000),
    backoffMaxMs: num(x.backoffMaxMs, 300_000),
    backoffResetMs: num(x.backoffResetMs, 600_000),
    streamHighWaterMark: num(x.streamHighWaterMark, 1 << 20),
    logHighWaterMark: num(x.logHighWaterMark, 4 << 20),
    python: typeof x.python === 'string' ? x.python : '/usr/bin/python3',
    serviceAccountToken:
      typeof x.serviceAccountToken === 'string' || typeof x.serviceAccountToken === 'function'
        ? (x.serviceAccountToken as KubeletConfig['serviceAccountToken'])
        : 'kube-sim-service-account-token',
    caCert: typeof x.caCert === 'string' ? x.caCert : '',
    ...(typeof x.podNetworkAdded === 'function'
      ? { podNetworkAdded: x.podNetworkAdded as KubeletConfig['podNetworkAdded'] }
      : {}),
  };
}
