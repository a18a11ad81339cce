/**
 * @module api/unsupported
 * Docker features kuber-api does not offer, each with the reason, answered 501 with a message
 * naming the feature (podman keeps the same kind of table in handlers/compat/unsupported.go).
 * Every message contains "not supported": the docker CLI's `docker inspect` skips an object type
 * whose lookup fails with that text (docker/cli cli/command/system/inspect.go isErrSkippable),
 * so `docker inspect x` still reaches "No such object".
 * Routes that will exist but have no handler yet get {@link notYetImplemented}.
 */
import { notImplemented } from '../errors.js';
import type { RouteDef } from '../router/router.js';
import type { ApiHandler } from './context.js';

export interface Unsupported {
  feature: string;
  reason: string;
}

const SWARM: Unsupported = {
  feature: 'Swarm mode',
  reason: 'Kubernetes is the orchestrator here; there are no swarm services, nodes, tasks, secrets or configs',
};
const PLUGINS: Unsupported = {
  feature: 'Docker plugins',
  reason: 'volumes and networks come from Kubernetes, not from engine plugins',
};
const BUILD: Unsupported = {
  feature: 'Image builds',
  reason: 'kuber-api has no image store to build into; build with BuildKit, kaniko or buildah and push to a registry',
};

const table: Record<string, Unsupported> = {
  postBuild: BUILD,
  postCancel: BUILD,
  startSession: { feature: 'BuildKit sessions', reason: BUILD.reason },
  serveGRPC: { feature: 'The BuildKit gRPC endpoint', reason: BUILD.reason },
  getDistributionInfo: {
    feature: 'Registry distribution inspection',
    reason: 'images are resolved and pulled by the kubelet, not by kuber-api',
  },
  postCommit: {
    feature: 'docker commit',
    reason: "a Pod's filesystem cannot be snapshotted into an image through the Kubernetes API",
  },
  postContainersPause: { feature: 'Pausing containers', reason: "Kubernetes cannot freeze a Pod's processes" },
  postContainersUnpause: { feature: 'Unpausing containers', reason: "Kubernetes cannot freeze a Pod's processes" },
  getContainersExport: {
    feature: 'Container export',
    reason: "the Kubernetes API gives no access to a container's root filesystem as a whole",
  },
  getContainersChanges: {
    feature: 'Container filesystem changes (docker diff)',
    reason: 'the Kubernetes API does not expose image layer diffs',
  },
  getImagesGet: { feature: 'Image save', reason: 'kuber-api has no local image store; images live in registries' },
  postImagesLoad: {
    feature: 'Image load',
    reason: 'kuber-api has no local image store; push images to a registry the cluster can pull from',
  },
  postImagesPush: { feature: 'Image push', reason: 'kuber-api has no local image store to push from' },
  getContainerCheckpoints: {
    feature: 'Checkpoints',
    reason: 'checkpoint/restore is not available through the Kubernetes API',
  },
  postContainerCheckpoint: {
    feature: 'Checkpoints',
    reason: 'checkpoint/restore is not available through the Kubernetes API',
  },
  deleteContainerCheckpoint: {
    feature: 'Checkpoints',
    reason: 'checkpoint/restore is not available through the Kubernetes API',
  },
};
for (const name of [
  'listPlugins',
  'inspectPlugin',
  'getPrivileges',
  'removePlugin',
  'enablePlugin',
  'disablePlugin',
  'pullPlugin',
  'pushPlugin',
  'upgradePlugin',
  'setPlugin',
  'createPlugin',
])
  table[name] = PLUGINS;
for (const name of [
  'initCluster',
  'joinCluster',
  'leaveCluster',
  'inspectCluster',
  'getUnlockKey',
  'updateCluster',
  'unlockCluster',
  'getServices',
  'getService',
  'createService',
  'updateService',
  'removeService',
  'getServiceLogs',
  'getNodes',
  'getNode',
  'removeNode',
  'updateNode',
  'getTasks',
  'getTask',
  'getTaskLogs',
  'getSecrets',
  'createSecret',
  'removeSecret',
  'getSecret',
  'updateSecret',
  'getConfigs',
  'createConfig',
  'removeConfig',
  'getConfig',
  'updateConfig',
])
  table[name] = SWARM;

/** Handler name -> why kuber-api does not offer it. */
export const UNSUPPORTED: Readonly<Record<string, Unsupported>> = Object.freeze(table);

export function unsupportedMessage(u: Unsupported): string {
  return `${u.feature} is not supported by kuber-api: ${u.reason}`;
}

/** A handler answering 501 for a feature in {@link UNSUPPORTED}. */
export function unsupportedHandler(u: Unsupported): ApiHandler {
  const message = unsupportedMessage(u);
  return () => {
    throw notImplemented(message);
  };
}

/**
 * A 501 for a route whose handler is not written yet, named after the route so the gap is
 * obvious in logs and client errors (and so `docker inspect` skips it: "not supported").
 */
export function notYetImplemented(route: RouteDef): ApiHandler {
  const message = `${route.method} ${route.path} (${route.handler}) is not supported yet by kuber-api: not implemented yet`;
  const fn: ApiHandler = () => {
    throw notImplemented(message);
  };
  Object.defineProperty(fn, 'name', { value: route.handler });
  return fn;
}
