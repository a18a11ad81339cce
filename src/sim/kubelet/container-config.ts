/**
 * @module sim/kubelet/container-config
 * From a container spec and its image to what the runtime runs: the argv (command/args over
 * Entrypoint/Cmd, kubelet $(VAR) expansion), the identity (securityContext over the image's User),
 * the capabilities (Docker's default set, adds/drops, privileged).
 */
import { expand } from './env.js';
import type { ResolvedImage } from './images.js';
import { DEFAULT_CAPS } from './sandbox.js';

type Obj = Record<string, any>;

/** Kubernetes command/args over the image's Entrypoint/Cmd, with $(VAR) expansion. */
export function containerArgv(spec: Obj, image: ResolvedImage, env: Map<string, string>): string[] {
  let argv: string[];
  if (spec.command?.length) argv = [...spec.command, ...(spec.args ?? [])];
  else if (spec.args?.length) argv = [...(image.config.entrypoint ?? []), ...spec.args];
  else argv = [...(image.config.entrypoint ?? []), ...(image.config.cmd ?? [])];
  return argv.map((a) => expand(String(a), env));
}

/** runAsUser/runAsGroup (container over pod over the image's numeric User); runAsNonRoot refused for root. */
export function containerUser(
  podSpec: Obj,
  spec: Obj,
  image: ResolvedImage,
  podFullName: string,
): { uid?: number; gid?: number; error?: string } {
  const psc = podSpec.securityContext ?? {};
  const sc = spec.securityContext ?? {};
  let uid: number | undefined = sc.runAsUser ?? psc.runAsUser;
  let gid: number | undefined = sc.runAsGroup ?? psc.runAsGroup;
  if (uid === undefined && image.config.user) {
    const [u, g] = image.config.user.split(':');
    if (/^\d+$/.test(u ?? '')) uid = Number(u);
    if (gid === undefined && /^\d+$/.test(g ?? '')) gid = Number(g);
  }
  const nonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot;
  if (nonRoot && !uid) {
    return {
      error: `container has runAsNonRoot and image will run as root (pod: "${podFullName}", container: ${spec.name})`,
    };
  }
  if (uid === 0 && (gid === undefined || gid === 0)) return {};
  if (uid !== undefined && gid === undefined) gid = 0;
  return { uid, gid };
}

/** The capability set: Docker's defaults (without MKNOD), then drops and adds; privileged gets all. */
export function containerCaps(sc: Obj): string[] {
  if (sc.privileged) return ['ALL'];
  const name = (c: unknown) =>
    String(c).toUpperCase() === 'ALL' ? 'ALL' : `CAP_${String(c).toUpperCase().replace(/^CAP_/, '')}`;
  let caps = [...DEFAULT_CAPS];
  for (const c of sc.capabilities?.drop ?? []) caps = name(c) === 'ALL' ? [] : caps.filter((x) => x !== name(c));
  for (const c of sc.capabilities?.add ?? []) if (!caps.includes(name(c))) caps.push(name(c));
  return caps;
}
