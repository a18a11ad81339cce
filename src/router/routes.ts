/**
 * @module router/routes
 * The whole Docker Engine API route table, as data, in moby's order and with moby's handler
 * names (daemon/server/router/<family>/<family>.go initRoutes). Every route is also served under
 * `/v1.NN/`. A name resolves to the handler exported under that name by src/api; names nobody
 * implements answer 501 (see src/api/index.ts), so the table is complete from day one.
 */
import type { RouteDef } from './router.js';

const r = (method: string, path: string, handler: string): RouteDef => Object.freeze({ method, path, handler });

export const ROUTES: readonly RouteDef[] = Object.freeze([
  // system (router/system/system.go)
  r('OPTIONS', '/{anyroute:.*}', 'optionsHandler'),
  r('GET', '/_ping', 'pingHandler'),
  r('HEAD', '/_ping', 'pingHandler'),
  r('GET', '/events', 'getEvents'),
  r('GET', '/info', 'getInfo'),
  r('GET', '/version', 'getVersion'),
  r('GET', '/system/df', 'getDiskUsage'),
  r('POST', '/auth', 'postAuth'),

  // checkpoints (router/checkpoint; moby registers it before the container router, or its DELETE is masked)
  r('GET', '/containers/{name:.*}/checkpoints', 'getContainerCheckpoints'),
  r('POST', '/containers/{name:.*}/checkpoints', 'postContainerCheckpoint'),
  r('DELETE', '/containers/{name}/checkpoints/{checkpoint}', 'deleteContainerCheckpoint'),

  // containers (router/container/container.go)
  r('HEAD', '/containers/{name:.*}/archive', 'headContainersArchive'),
  r('GET', '/containers/json', 'getContainersJSON'),
  r('GET', '/containers/{name:.*}/export', 'getContainersExport'),
  r('GET', '/containers/{name:.*}/changes', 'getContainersChanges'),
  r('GET', '/containers/{name:.*}/json', 'getContainersByName'),
  r('GET', '/containers/{name:.*}/top', 'getContainersTop'),
  r('GET', '/containers/{name:.*}/logs', 'getContainersLogs'),
  r('GET', '/containers/{name:.*}/stats', 'getContainersStats'),
  r('GET', '/containers/{name:.*}/attach/ws', 'wsContainersAttach'),
  r('GET', '/exec/{id:.*}/json', 'getExecByID'),
  r('GET', '/containers/{name:.*}/archive', 'getContainersArchive'),
  r('POST', '/containers/create', 'postContainersCreate'),
  r('POST', '/containers/{name:.*}/kill', 'postContainersKill'),
  r('POST', '/containers/{name:.*}/pause', 'postContainersPause'),
  r('POST', '/containers/{name:.*}/unpause', 'postContainersUnpause'),
  r('POST', '/containers/{name:.*}/restart', 'postContainersRestart'),
  r('POST', '/containers/{name:.*}/start', 'postContainersStart'),
  r('POST', '/containers/{name:.*}/stop', 'postContainersStop'),
  r('POST', '/containers/{name:.*}/wait', 'postContainersWait'),
  r('POST', '/containers/{name:.*}/resize', 'postContainersResize'),
  r('POST', '/containers/{name:.*}/attach', 'postContainersAttach'),
  r('POST', '/containers/{name:.*}/exec', 'postContainerExecCreate'),
  r('POST', '/exec/{name:.*}/start', 'postContainerExecStart'),
  r('POST', '/exec/{name:.*}/resize', 'postContainerExecResize'),
  r('POST', '/containers/{name:.*}/rename', 'postContainerRename'),
  r('POST', '/containers/{name:.*}/update', 'postContainerUpdate'),
  r('POST', '/containers/prune', 'postContainersPrune'),
  r('POST', '/commit', 'postCommit'),
  r('PUT', '/containers/{name:.*}/archive', 'putContainersArchive'),
  r('DELETE', '/containers/{name:.*}', 'deleteContainers'),

  // images (router/image/image.go)
  r('GET', '/images/json', 'getImagesJSON'),
  r('GET', '/images/search', 'getImagesSearch'),
  r('GET', '/images/get', 'getImagesGet'),
  r('GET', '/images/{name:.*}/get', 'getImagesGet'),
  r('GET', '/images/{name:.*}/history', 'getImagesHistory'),
  r('GET', '/images/{name:.*}/json', 'getImagesByName'),
  r('POST', '/images/load', 'postImagesLoad'),
  r('POST', '/images/create', 'postImagesCreate'),
  r('POST', '/images/{name:.*}/push', 'postImagesPush'),
  r('POST', '/images/{name:.*}/tag', 'postImagesTag'),
  r('POST', '/images/prune', 'postImagesPrune'),
  r('DELETE', '/images/{name:.*}', 'deleteImages'),

  // networks (router/network/network.go)
  r('GET', '/networks', 'getNetworksList'),
  r('GET', '/networks/', 'getNetworksList'),
  r('GET', '/networks/{id:.+}', 'getNetwork'),
  r('POST', '/networks/create', 'postNetworkCreate'),
  r('POST', '/networks/{id:.*}/connect', 'postNetworkConnect'),
  r('POST', '/networks/{id:.*}/disconnect', 'postNetworkDisconnect'),
  r('POST', '/networks/prune', 'postNetworksPrune'),
  r('DELETE', '/networks/{id:.*}', 'deleteNetwork'),

  // volumes (router/volume/volume.go)
  r('GET', '/volumes', 'getVolumesList'),
  r('GET', '/volumes/{name:.*}', 'getVolumeByName'),
  r('POST', '/volumes/create', 'postVolumesCreate'),
  r('POST', '/volumes/prune', 'postVolumesPrune'),
  r('PUT', '/volumes/{name:.*}', 'putVolumesUpdate'),
  r('DELETE', '/volumes/{name:.*}', 'deleteVolumes'),

  // build, BuildKit session and gRPC (router/build, router/session, router/grpc)
  r('POST', '/build', 'postBuild'),
  r('POST', '/build/prune', 'postPrune'),
  r('POST', '/build/cancel', 'postCancel'),
  r('POST', '/session', 'startSession'),
  r('POST', '/grpc', 'serveGRPC'),

  // distribution (router/distribution)
  r('GET', '/distribution/{name:.*}/json', 'getDistributionInfo'),

  // plugins (router/plugin/plugin.go)
  r('GET', '/plugins', 'listPlugins'),
  r('GET', '/plugins/{name:.*}/json', 'inspectPlugin'),
  r('GET', '/plugins/privileges', 'getPrivileges'),
  r('DELETE', '/plugins/{name:.*}', 'removePlugin'),
  r('POST', '/plugins/{name:.*}/enable', 'enablePlugin'),
  r('POST', '/plugins/{name:.*}/disable', 'disablePlugin'),
  r('POST', '/plugins/pull', 'pullPlugin'),
  r('POST', '/plugins/{name:.*}/push', 'pushPlugin'),
  r('POST', '/plugins/{name:.*}/upgrade', 'upgradePlugin'),
  r('POST', '/plugins/{name:.*}/set', 'setPlugin'),
  r('POST', '/plugins/create', 'createPlugin'),

  // swarm (router/swarm/cluster.go)
  r('POST', '/swarm/init', 'initCluster'),
  r('POST', '/swarm/join', 'joinCluster'),
  r('POST', '/swarm/leave', 'leaveCluster'),
  r('GET', '/swarm', 'inspectCluster'),
  r('GET', '/swarm/unlockkey', 'getUnlockKey'),
  r('POST', '/swarm/update', 'updateCluster'),
  r('POST', '/swarm/unlock', 'unlockCluster'),
  r('GET', '/services', 'getServices'),
  r('GET', '/services/{id}', 'getService'),
  r('POST', '/services/create', 'createService'),
  r('POST', '/services/{id}/update', 'updateService'),
  r('DELETE', '/services/{id}', 'removeService'),
  r('GET', '/services/{id}/logs', 'getServiceLogs'),
  r('GET', '/nodes', 'getNodes'),
  r('GET', '/nodes/{id}', 'getNode'),
  r('DELETE', '/nodes/{id}', 'removeNode'),
  r('POST', '/nodes/{id}/update', 'updateNode'),
  r('GET', '/tasks', 'getTasks'),
  r('GET', '/tasks/{id}', 'getTask'),
  r('GET', '/tasks/{id}/logs', 'getTaskLogs'),
  r('GET', '/secrets', 'getSecrets'),
  r('POST', '/secrets/create', 'createSecret'),
  r('DELETE', '/secrets/{id}', 'removeSecret'),
  r('GET', '/secrets/{id}', 'getSecret'),
  r('POST', '/secrets/{id}/update', 'updateSecret'),
  r('GET', '/configs', 'getConfigs'),
  r('POST', '/configs/create', 'createConfig'),
  r('DELETE', '/configs/{id}', 'removeConfig'),
  r('GET', '/configs/{id}', 'getConfig'),
  r('POST', '/configs/{id}/update', 'updateConfig'),
]);
