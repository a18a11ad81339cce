/**
 * @module api/system
 * The system family (moby daemon/server/router/system/system_routes.go): `_ping`, `/version`,
 * `/info`, `/events`, and `OPTIONS *`. Field sets follow moby's api/types/system/info.go and
 * api/types/types.go (Version), headers api/server/middleware/version.go: every field
 * the docker CLI, compose, docker-py and testcontainers read is present, with honest values
 * (kuber-api is not a Linux daemon with a storage driver: where dockerd would describe its host,
 * /info describes the Kubernetes side).
 */
import os from 'node:os';
import { readdirSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { filtersOf, timestampValue } from '../router/query.js';
import { versionLess } from '../router/version.js';
import { invalid } from '../errors.js';
import type { DiskUsageType, SystemInfo } from '../engine/backend/backend.js';
import { DISK_USAGE_TYPES } from '../engine/backend/inventory.js';
import { goArch } from '../engine/backend/platform.js';
import type { ApiContext, DockerEvent } from './context.js';
import type { Request, Response } from '../http/index.js';

/** `uname -m` for Node's process.arch (`/info` Architecture). */
const UNAME_M: Record<string, string> = {
  x64: 'x86_64',
  arm64: 'aarch64',
  arm: 'armv7l',
  ia32: 'i686',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
};

const BUILD_TIME = new Date().toISOString();

/** Open GET /events streams (`/info` NEventsListener). */
let eventListeners = 0;

/** GET|HEAD /_ping: 200 "OK" (GET) or an empty body with Content-Length 0 (HEAD), as dockerd. */
export function pingHandler(_ctx: ApiContext, req: Request, res: Response): void {
  // Api-Version, Ostype and Docker-Experimental come from the version middleware headers.
  res.setHeader('Builder-Version', '1');
  res.setHeader('Cache-Control', 'no-cache, no-store, must-revalidate');
  res.setHeader('Pragma', 'no-cache');
  res.setHeader('Swarm', 'inactive');
  res.text(200, req.method === 'HEAD' ? '' : 'OK', 'text/plain; charset=utf-8');
}

/** OPTIONS on any path: moby's optionsHandler answers 200 with no body. */
export function optionsHandler(_ctx: ApiContext, _req: Request, res: Response): void {
  res.empty(200);
}

async function systemInfoOrNone(ctx: ApiContext, req: Request): Promise<SystemInfo | undefined> {
  try {
    return await ctx.backend.systemInfo();
  } catch (err) {
    req.log.warn({ err }, 'systemInfo failed');
    return undefined;
  }
}

/** GET /version (moby types.Version; `ApiVersion` equals the `_ping` Api-Version header). */
export async function getVersion(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const o = ctx.options;
  const arch = goArch();
  const goVersion = `node${process.versions.node}`;
  const gitCommit = process.env.KUBER_API_GIT_COMMIT ?? ctx.version;
  const components: unknown[] = [
    {
      Name: 'Engine',
      Version: ctx.engineVersion,
      Details: {
        ApiVersion: o.apiVersion,
        Arch: arch,
        BuildTime: BUILD_TIME,
        Experimental: 'false',
        GitCommit: gitCommit,
        GoVersion: goVersion,
        KernelVersion: os.release(),
        MinAPIVersion: o.minApiVersion,
        Os: 'linux',
      },
    },
    { Name: 'kuber-api', Version: ctx.version, Details: { Node: process.version } },
  ];
  const kube = (await systemInfoOrNone(ctx, req))?.kubernetes;
  if (kube)
    components.push({
      Name: 'Kubernetes',
      Version: kube.version,
      Details: { Server: kube.server, Namespace: kube.namespace, Simulated: String(kube.simulated) },
    });
  res.json(200, {
    Platform: { Name: 'kuber-api (Docker Engine API on Kubernetes)' },
    Components: components,
    Version: ctx.engineVersion,
    ApiVersion: o.apiVersion,
    MinAPIVersion: o.minApiVersion,
    GitCommit: gitCommit,
    GoVersion: goVersion,
    Os: 'linux',
    Arch: arch,
    KernelVersion: os.release(),
    BuildTime: BUILD_TIME,
  });
}

function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}

/**
 * GET /info (moby system.Info): testcontainers' liveness probe, and `docker info`. Fields that
 * moby only sends to older clients follow its version gates (system_routes.go getInfo).
 */
export async function getInfo(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const v = req.apiVersion;
  const info = (await systemInfoOrNone(ctx, req)) ?? {
    containers: 0,
    containersRunning: 0,
    containersPaused: 0,
    containersStopped: 0,
    images: 0,
  };
  const kube = info.kubernetes;
  const warnings: string[] = [];
  if (!kube)
    warnings.push(
      'WARNING: no Kubernetes cluster is configured: containers cannot be created (start kuber-api with --kubeconfig)',
    );
  res.json(200, {
    ID: ctx.instanceId,
    Containers: info.containers,
    ContainersRunning: info.containersRunning,
    ContainersPaused: info.containersPaused,
    ContainersStopped: info.containersStopped,
    Images: info.images,
    Driver: kube ? 'kubernetes' : 'none',
    DriverStatus: kube
      ? [
          ['Kubernetes Server', kube.server],
          ['Kubernetes Version', kube.version],
          ['Namespace', kube.namespace],
          ['Simulated', String(kube.simulated)],
        ]
      : [['Kubernetes', 'not configured']],
    Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Authorization: null, Log: ['json-file'] },
    MemoryLimit: true,
    SwapLimit: false,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    IPv4Forwarding: true,
    Debug: ctx.options.logLevel === 'debug' || ctx.options.logLevel === 'trace',
    NFd: openFds(),
    OomKillDisable: false,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: 'json-file',
    CgroupDriver: 'none',
    CgroupVersion: '2',
    NEventsListener: eventListeners,
    KernelVersion: os.release(),
    OperatingSystem: kube ? `Kubernetes ${kube.version} via kuber-api` : 'kuber-api (no Kubernetes cluster configured)',
    OSVersion: '',
    OSType: 'linux',
    Architecture: UNAME_M[process.arch] ?? process.arch,
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: {
      ...(versionLess(v, '1.47')
        ? { AllowNondistributableArtifactsCIDRs: null, AllowNondistributableArtifactsHostnames: null }
        : {}),
      InsecureRegistryCIDRs: ['::1/128', '127.0.0.0/8'],
      IndexConfigs: { 'docker.io': { Name: 'docker.io', Mirrors: [], Secure: true, Official: true } },
      Mirrors: null,
    },
    NCPU: os.availableParallelism?.() ?? os.cpus().length,
    MemTotal: os.totalmem(),
    GenericResources: null,
    DockerRootDir: '',
    HttpProxy: process.env.HTTP_PROXY ?? process.env.http_proxy ?? '',
    HttpsProxy: process.env.HTTPS_PROXY ?? process.env.https_proxy ?? '',
    NoProxy: process.env.NO_PROXY ?? process.env.no_proxy ?? '',
    Name: os.hostname(),
    Labels: kube
      ? [
          `io.kuber-api.kubernetes.server=${kube.server}`,
          `io.kuber-api.kubernetes.version=${kube.version}`,
          `io.kuber-api.kubernetes.namespace=${kube.namespace}`,
          `io.kuber-api.kubernetes.simulated=${kube.simulated}`,
        ]
      : [],
    ExperimentalBuild: false,
    ServerVersion: ctx.engineVersion,
    Runtimes: { runc: { path: 'runc' } },
    DefaultRuntime: 'runc',
    Swarm: {
      NodeID: '',
      NodeAddr: '',
      LocalNodeState: 'inactive',
      ControlAvailable: false,
      Error: '',
      RemoteManagers: null,
    },
    LiveRestoreEnabled: false,
    Isolation: '',
    InitBinary: '',
    ...(versionLess(v, '1.49')
      ? {
          ContainerdCommit: { ID: '', Expected: '' },
          RuncCommit: { ID: '', Expected: '' },
          InitCommit: { ID: '', Expected: '' },
        }
      : { ContainerdCommit: { ID: '' }, RuncCommit: { ID: '' }, InitCommit: { ID: '' } }),
    ...(versionLess(v, '1.50') ? { BridgeNfIptables: false, BridgeNfIp6tables: false } : {}),
    SecurityOptions: [],
    CDISpecDirs: [],
    Warnings: warnings,
  });
}

/**
 * GET /system/df?type=container|image|volume|build-cache (repeatable, API 1.42+; older versions
 * always get everything), moby system_routes.go getDiskUsage. An unknown type is a 400 as moby's.
 */
export async function getDiskUsage(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const asked = versionLess(req.apiVersion, '1.42') ? [] : req.query.getAll('type');
  for (const t of asked) if (!DISK_USAGE_TYPES.includes(t as DiskUsageType)) throw invalid(`unknown object type: ${t}`);
  const types = new Set<DiskUsageType>(asked.length ? (asked as DiskUsageType[]) : DISK_USAGE_TYPES);
  res.json(200, await ctx.backend.diskUsage(types, req.apiVersion));
}

/**
 * API < 1.52 clients (the docker CLI up to v25, compose v1) read the legacy `status`, `id` and
 * `from` fields (moby's backFillLegacy): add them from the 1.52 shape.
 */
export function withLegacyFields(e: DockerEvent, apiVersion: string): object {
  if (!versionLess(apiVersion, '1.52')) return e;
  if (e.Type === 'container') return { status: e.Action, id: e.Actor.ID, from: e.Actor.Attributes['image'], ...e };
  if (e.Type === 'image') return { status: e.Action, id: e.Actor.ID, ...e };
  return e;
}

/** Undelivered event bytes per client before events are dropped (moby's publisher drops for slow subscribers). */
const EVENTS_BUFFER_LIMIT = 1 << 20;

/**
 * GET /events: a chunked stream of JSON lines, head flushed at once, open until the client goes
 * (or half-closes, as Go's server cancels the request), `until` passes or kuber-api shuts down. The events come from
 * `ctx.events` when the engine provides it.
 */
export async function getEvents(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const q = req.query;
  const now = Date.now();
  const since = timestampValue(q, 'since', now);
  const until = timestampValue(q, 'until', now);
  if (since !== undefined && until !== undefined && until < since)
    throw invalid(`\`since\` time (${q.get('since')}) cannot be after \`until\` time (${q.get('until')})`);
  const filters = filtersOf(q);
  // moby negotiates newline-delimited JSON or RFC 7464 JSON text sequences; the default stays
  // application/json (the body is JSON lines either way).
  const accept = req.headers['accept'] ?? '';
  const contentType = accept.includes('application/x-ndjson')
    ? 'application/x-ndjson'
    : accept.includes('application/json-seq')
      ? 'application/json-seq'
      : 'application/json';
  const prefix = contentType === 'application/json-seq' ? '\x1e' : '';
  // Image create events exist from API 1.46 on.
  const skipImageCreate = versionLess(req.apiVersion, '1.46');
  const out: Writable = res.stream(200, { 'Content-Type': contentType });
  out.on('error', () => {}); // the client went away; 'close' below cleans up
  eventListeners++;
  let unsubscribe: () => void = () => {};
  let timer: NodeJS.Timeout | undefined;
  let dropped = 0;
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    eventListeners--;
    clearTimeout(timer);
    req.shutdown.removeEventListener('abort', finish);
    unsubscribe();
    if (dropped) req.log.warn({ dropped }, 'events dropped for a slow client');
    if (!out.writableEnded && !out.destroyed) out.end();
  };
  res.onClose(finish);
  out.on('close', finish);
  // kuber-api stopping ends the stream cleanly (the last chunk), as an `until` that passed.
  req.shutdown.addEventListener('abort', finish, { once: true });
  if (req.shutdown.aborted) finish();
  if (ctx.events) {
    unsubscribe = ctx.events.subscribe({ since, until, filters }, (e) => {
      if (done || (skipImageCreate && e.Type === 'image' && e.Action === 'create')) return;
      if (out.writableLength > EVENTS_BUFFER_LIMIT) {
        dropped++;
        return;
      }
      out.write(prefix + JSON.stringify(withLegacyFields(e, req.apiVersion)) + '\n');
    });
  }
  if (until !== undefined) {
    const wait = until - Date.now();
    if (wait <= 0) finish();
    else timer = setTimeout(finish, Math.min(wait, 2 ** 31 - 1));
  }
}
