/**
 * @module engine/images/config
 * An image's defaults applied to a container (pure), as dockerd does at `docker create`
 * (moby daemon/commit.go `merge`): User, WorkingDir and StopSignal when the container has none;
 * ExposedPorts, Volumes and Labels as unions (the container's values win); Env by key (the
 * container's win, the image's others are appended); Entrypoint and Cmd by Docker's rule (an
 * explicit Entrypoint drops the image's Cmd); Healthcheck field by field. The merged config is
 * what `docker inspect` shows and what every other part of the engine reads (ExposedPorts for
 * `-P` and Services, Volumes for anonymous volumes, StopSignal for `docker stop`, Healthcheck for
 * the readiness probe).
 *
 * The Pod carries the merged config explicitly (command, args, env, workingDir), as dockerd runs
 * a container from its merged config: a tag that moves after `docker create` does not change what
 * the container runs, and a runtime that does not know the image's config (kube-sim runs images
 * from its catalogue) runs what `docker inspect` shows. The one exception is USER ({@link
 * podIntent}): a Pod's securityContext takes numeric ids only, so the image's own USER (often a
 * name) is left to the container runtime, which applies it and resolves it from the image's
 * /etc/passwd.
 */
import type { CreateBody, HealthConfig, ImageDefaults } from '../model/types.js';

export type { ImageDefaults };
import type { ImageContainerConfig } from './store.js';
import { argv } from '../model/translate.js';
import { setOwn } from '../model/own-keys.js';

export function defaultsOf(c: ImageContainerConfig | undefined): ImageDefaults {
  return c?.User ? { User: c.User } : {};
}

const envKey = (e: string) => (e.includes('=') ? e.slice(0, e.indexOf('=')) : e);
const empty = (v: unknown) =>
  v === undefined ||
  v === null ||
  (Array.isArray(v) && v.length === 0) ||
  (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);

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
    for (const p of Object.keys(image.ExposedPorts))
      if (!have.has(p.includes('/') ? p : `${p}/tcp`)) setOwn(ports, p, {});
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
    if ((out.Entrypoint === undefined || out.Entrypoint === null) && image.Entrypoint)
      out.Entrypoint = [...image.Entrypoint];
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

/**
 * What the Pod must say given the merged config and the container's image: everything as merged,
 * except a User equal to the image's, which the runtime applies itself (see the module comment),
 * and the image reference the kubelet pulls: `pullRef`, the reference pinned to the digest
 * kuber-api resolved (`busybox:latest@sha256:...`), so that the container runs the image it was
 * created from even if the tag moves (as with dockerd), and an image named by ID is pullable.
 */
export function podIntent(
  merged: CreateBody,
  image: { defaults?: ImageDefaults; pullRef?: string } | undefined,
): CreateBody {
  const user = image?.defaults?.User;
  if (!image?.pullRef && (!user || merged.User !== user)) return merged;
  const out: CreateBody = { ...merged };
  if (user && merged.User === user) delete out.User;
  if (image.pullRef) out.Image = image.pullRef;
  return out;
}
