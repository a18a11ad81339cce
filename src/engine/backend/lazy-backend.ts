/**
 * @module engine/backend/lazy-backend
 * The Backend while the Kubernetes side is still booting (embedded kube-sim, first list of the
 * caches): kuber-api listens at once, so the socket exists and `/_ping` answers; an asynchronous
 * call waits for the engine, and anything else answers 503 until it is ready (fail-safe for
 * synchronous seams added later). Once ready, calls go straight to the engine.
 */
import { unavailable } from '../../errors.js';
import type { Backend } from './backend.js';

/** Backend methods that return a Promise, so they can wait for the engine instead of failing. */
const ASYNC = new Set([
  'systemInfo',
  'listContainers',
  'inspectContainer',
  'createContainer',
  'startContainer',
  'stopContainer',
  'killContainer',
  'restartContainer',
  'waitContainer',
  'removeContainer',
  'renameContainer',
  'topContainer',
  'pruneContainers',
  'inspectImage',
  'listImages',
  'pullImage',
  'tagImage',
  'removeImage',
  'pruneImages',
  'login',
  'startExec',
  'statContainerPath',
  'getContainerArchive',
  'putContainerArchive',
  'diskUsage',
  'imageHistory',
  'containerStats',
  'createNetwork',
  'listNetworks',
  'inspectNetwork',
  'removeNetwork',
  'connectNetwork',
  'disconnectNetwork',
  'pruneNetworks',
  'createVolume',
  'listVolumes',
  'inspectVolume',
  'removeVolume',
  'pruneVolumes',
  'volumesDiskUsage',
]);

export function lazyBackend(ready: Promise<Backend>): Backend {
  let engine: Backend | undefined;
  let failed: unknown;
  ready.then(
    (e) => (engine = e),
    (err) => (failed = err),
  );
  const call = (e: Backend, prop: string, args: unknown[]) =>
    (e as unknown as Record<string, (...a: unknown[]) => unknown>)[prop]!(...args);
  return new Proxy({} as Backend, {
    get(_target, prop) {
      if (typeof prop !== 'string' || prop === 'then') return undefined;
      return (...args: unknown[]) => {
        if (engine) return call(engine, prop, args);
        if (failed) throw unavailable(`kuber-api could not connect to Kubernetes: ${(failed as Error).message}`);
        if (ASYNC.has(prop)) return ready.then((e) => call(e, prop, args));
        throw unavailable('kuber-api is still connecting to Kubernetes; try again in a moment');
      };
    },
  });
}
