/**
 * @module engine/images/views
 * Image JSON (pure): `GET /images/{name}/json` (moby api/types/image InspectResponse) and the
 * `GET /images/json` summary (image.Summary), built from an image entry of engine/image-store.
 * Version gates: `ContainerConfig` and `Container` below API 1.45 (compose v1 reads them),
 * `VirtualSize` below 1.44, the container-only fields of `Config` (Hostname, AttachStdin...)
 * below 1.52 (deprecated in Docker 28.3, dropped in 29), `Containers` counted from 1.51 (-1 before).
 */
import { familiarRef } from '../model/image-ref.js';
import type { ImageContainerConfig, ImageEntry } from './store.js';
import { versionLess } from '../model/api-version.js';
import { hostPlatform } from './registry/registry.js';

const ZERO = '0001-01-01T00:00:00Z';

/** The Config object as dockerd renders a container.Config from an image (omitempty where moby has it). */
export function configView(c: ImageContainerConfig | undefined, apiVersion: string): Record<string, unknown> {
  const x = c ?? {};
  const legacy = versionLess(apiVersion, '1.52');
  const out: Record<string, unknown> = {};
  if (legacy)
    Object.assign(out, {
      Hostname: '',
      Domainname: '',
      User: x.User ?? '',
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
    });
  else if (x.User) out.User = x.User;
  if (x.ExposedPorts && Object.keys(x.ExposedPorts).length) out.ExposedPorts = x.ExposedPorts;
  if (legacy) Object.assign(out, { Tty: false, OpenStdin: false, StdinOnce: false });
  if (legacy || x.Env) out.Env = x.Env ?? null;
  if (legacy || x.Cmd) out.Cmd = x.Cmd ?? null;
  if (x.Healthcheck) out.Healthcheck = x.Healthcheck;
  if (x.ArgsEscaped) out.ArgsEscaped = true;
  if (legacy) out.Image = '';
  if (legacy || x.Volumes) out.Volumes = x.Volumes ?? null;
  if (legacy || x.WorkingDir) out.WorkingDir = x.WorkingDir ?? '';
  if (legacy || x.Entrypoint) out.Entrypoint = x.Entrypoint ?? null;
  if (legacy || x.OnBuild) out.OnBuild = x.OnBuild ?? null;
  if (legacy || x.Labels) out.Labels = x.Labels ?? null;
  if (x.StopSignal) out.StopSignal = x.StopSignal;
  if (x.Shell) out.Shell = x.Shell;
  return out;
}

function createdOf(e: ImageEntry): string {
  return e.config?.created ?? ZERO;
}

/** `GET /images/{name}/json`. */
export function imageInspectView(e: ImageEntry, apiVersion: string): Record<string, unknown> {
  const cfg = e.config;
  const out: Record<string, unknown> = {
    Id: e.id,
    RepoTags: e.repoTags.map(familiarRef),
    RepoDigests: e.repoDigests.map(familiarRef),
    Parent: '',
    Comment: cfg?.comment ?? e.note ?? '',
    Created: createdOf(e),
    DockerVersion: cfg?.docker_version ?? '',
    Author: cfg?.author ?? '',
    Config: configView(cfg?.config, apiVersion),
    Architecture: cfg?.architecture ?? hostPlatform().architecture,
    ...(cfg?.variant ? { Variant: cfg.variant } : {}),
    Os: cfg?.os ?? 'linux',
    ...(cfg?.['os.version'] ? { OsVersion: cfg['os.version'] } : {}),
    Size: e.size,
    GraphDriver: { Name: 'kubernetes', Data: null },
    RootFS: {
      Type: cfg?.rootfs?.type ?? 'layers',
      ...(cfg?.rootfs?.diff_ids?.length ? { Layers: cfg.rootfs.diff_ids } : {}),
    },
    Metadata: { LastTagTime: e.lastTagTime ?? ZERO },
  };
  if (versionLess(apiVersion, '1.45')) {
    out.Container = cfg?.container ?? '';
    // compose v1 reads ContainerConfig; images built by BuildKit have none (an empty config then).
    out.ContainerConfig = { ...configView(undefined, '1.44'), ...(cfg?.container_config ?? {}) };
  }
  if (versionLess(apiVersion, '1.44')) out.VirtualSize = e.size;
  return out;
}

/** A `GET /images/json` entry; `containers` is the number of containers made from it. */
export function imageSummaryView(e: ImageEntry, containers: number, apiVersion: string): Record<string, unknown> {
  const created = Date.parse(createdOf(e));
  const out: Record<string, unknown> = {
    Containers: versionLess(apiVersion, '1.51') ? -1 : containers,
    Created: Number.isFinite(created) && created > 0 ? Math.floor(created / 1000) : 0,
    Id: e.id,
    Labels: e.config?.config?.Labels ?? {},
    ParentId: '',
    RepoDigests: e.repoDigests.map(familiarRef),
    RepoTags: e.repoTags.map(familiarRef),
    SharedSize: -1,
    Size: e.size,
  };
  if (versionLess(apiVersion, '1.44')) out.VirtualSize = e.size;
  return out;
}
