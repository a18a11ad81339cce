/**
 * @module engine/image-config
 * An image's defaults applied to a container (pure), as dockerd does at `docker create`
 * (moby daemon/commit.go `merge`): User, WorkingDir and StopSignal when the container has none;
 * ExposedPorts, Volumes and Labels as unions (the container's values win); Env by key (the
 * container's win, the image's others are appended); Entrypoint and Cmd by Docker's rule (an
 * explicit Entrypoint drops the image's Cmd); Healthcheck field by field. The merged config is
 * what `docker inspect` shows and what every other part of the engine reads (ExposedPorts for
 * `-P` and Services, Volumes for anonymous volumes, StopSignal for `docker stop`, Healthcheck for
 * the readiness probe).
 *
 * The Pod, however, carries only what differs from the image ({@link podIntent}): the container
 * runtime applies the image's own ENTRYPOINT/CMD/ENV/WORKDIR/USER itself, resolves a USER name
 * from the image's /etc/passwd (which a Pod's securityContext cannot), and follows the image the
 * kubelet actually pulled if a tag moved since kuber-api read it.
 */
import type { CreateBody, HealthConfig } from './types.js';
import type { ImageContainerConfig } from './image-store.js';
import { argv } from './translate.js';

/** The image values the Pod need not repeat (kept in the container record). */
export interface ImageDefaults {
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
}

export function defaultsOf(c: ImageContainerConfig | undefined): ImageDefaults {
  if (!c) return {};
  return {
    ...(c.Entrypoint ? { Entrypoint: c.Entrypoint } : {}),
    ...(c.Cmd ? { Cmd: c.Cmd } : {}),
    ...(c.Env?.length ? { Env: c.Env } : {}),
    ...(c.WorkingDir ? { WorkingDir: c.WorkingDir } : {}),
    ...(c.User ? { User: c.User } : {}),
  };
}

const envKey = (e: string) => (e.includes('=') ? e.slice(0, e.indexOf('=')) : e);
const empty = (v: unknown) => v === undefined || v === null || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);

/** moby `merge(userConf, imageConf)`: returns a new body (the input is not changed). */
export function mergeImageConfig(body: CreateBody, image: ImageContainerConfig | undefined): CreateBody {
  if (!image) return body;
  const out: CreateBody = { ...body };
  if (!out.User) {
    if (image.User) out.User = image.User;
  }
  if (empty(out.ExposedPorts)) {
    if (image.ExposedPorts && Object.keys(image.ExposedPorts).length) out.ExposedPorts = { ...image.ExposedPorts };
  } else if (image.ExposedPorts) {
    const ports = { ...(out.ExposedPorts as Record<string, unknown>) };
    const have = new Set(Object.keys(ports).map((p) => (p.includes('/') ? p : `${p}/tcp`)));
    for (const p of Object.keys(image.ExposedPorts)) if (!have.has(p.includes('/') ? p : `${p}/tcp`)) ports[p] = {};
    out.ExposedPorts = ports;
  }
  if (empty(out.Env)) {
    if (image.Env?.length) out.Env = [...image.Env];
  } else if (image.Env) {
    const keys = new Set((out.Env ?? []).map(envKey));
    out.Env = [...(out.Env ?? []), ...image.Env.filter((e) => !keys.has(envKey(e)))];
  }
  if (image.Labels && Object.keys(image.Labels).length) {
    out.Labels = { ...image.Labels, ...(out.Labels ?? {}) };
  }
  const ep = argv(out.Entrypoint);
  if (!ep || ep.length === 0) {
    // An explicit empty entrypoint (`--entrypoint ""`, [""] or []) is kept: it resets the image's.
    if (empty(argv(out.Cmd)) && image.Cmd) out.Cmd = [...image.Cmd];
    if ((out.Entrypoint === undefined || out.Entrypoint === null) && image.Entrypoint) out.Entrypoint = [...image.Entrypoint];
  }
  if (image.Healthcheck && (image.Healthcheck.Test?.length ?? 0) > 0) {
    const ih = image.Healthcheck;
    if (!out.Healthcheck) out.Healthcheck = { ...ih } as HealthConfig;
    else {
      const h: HealthConfig = { ...out.Healthcheck };
      if (!h.Test?.length) h.Test = ih.Test;
      if (!h.Interval) h.Interval = ih.Interval;
      if (!h.Timeout) h.Timeout = ih.Timeout;
      if (!h.StartPeriod) h.StartPeriod = ih.StartPeriod;
      if (!h.StartInterval && ih.StartInterval) h.StartInterval = ih.StartInterval;
      if (!h.Retries) h.Retries = ih.Retries;
      out.Healthcheck = h;
    }
  }
  if (!out.WorkingDir && image.WorkingDir) out.WorkingDir = image.WorkingDir;
  if (empty(out.Volumes)) {
    if (image.Volumes && Object.keys(image.Volumes).length) out.Volumes = { ...image.Volumes };
  } else if (image.Volumes) {
    out.Volumes = { ...(out.Volumes as Record<string, unknown>), ...image.Volumes };
  }
  if (!out.StopSignal && image.StopSignal) out.StopSignal = image.StopSignal;
  return out;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * What the Pod must say given the merged config and the image's defaults: values equal to the
 * image's are left to the container runtime (see the module comment). Everything else (ports,
 * volumes, labels, healthcheck, stop signal...) is kept as merged.
 */
export function podIntent(merged: CreateBody, d: ImageDefaults | undefined): CreateBody {
  if (!d || Object.keys(d).length === 0) return merged;
  const out: CreateBody = { ...merged };
  const ep = argv(merged.Entrypoint);
  const cmd = argv(merged.Cmd);
  if (same(ep ?? null, d.Entrypoint ?? null) && ep !== undefined && !(ep.length === 1 && ep[0] === '')) {
    // The image's own entrypoint: with the image's CMD too, the runtime's default; with other
    // args, Kubernetes keeps the image entrypoint when only args are given. Without args it stays
    // explicit, since an explicit entrypoint drops the image's CMD (Docker and Kubernetes agree).
    if (same(cmd ?? null, d.Cmd ?? null)) {
      delete out.Entrypoint;
      delete out.Cmd;
    } else if (cmd?.length) delete out.Entrypoint;
  } else if (ep === undefined && same(cmd ?? null, d.Cmd ?? null)) {
    delete out.Cmd;
  }
  if (merged.Env && d.Env) {
    const img = new Set(d.Env);
    const rest = merged.Env.filter((e) => !img.has(e));
    if (rest.length) out.Env = rest;
    else delete out.Env;
  }
  if (merged.WorkingDir && merged.WorkingDir === d.WorkingDir) delete out.WorkingDir;
  if (merged.User && merged.User === d.User) delete out.User;
  return out;
}
