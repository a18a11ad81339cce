/**
 * @module engine/security/rules
 * kuber-api's own Pod policy (pure): which Pod Security level a Pod is checked against, which bind
 * sources a container may name, and the 403 texts that say which rule refused and which flag or
 * namespace label relaxes it (refused at `docker create`, never a failed start).
 *
 * The level is the namespace's `pod-security.kubernetes.io/enforce` label, or `--pod-security-default`
 * (baseline) when it has none; a `privileged` level counts only with `--allow-privileged`, so the
 * embedded mode and unlabelled clusters are secure by default. The checks are Kubernetes' own
 * (src/kube/pod-security, k8s.io/pod-security-admission), evaluated locally before the create.
 */
import { isAbsolute, relative, resolve } from 'node:path';
import { forbidden } from '../../errors.js';
import {
  evaluate,
  LABELS,
  levelVersionString,
  parseVersion,
  LATEST,
  type Level,
  type LevelVersion,
} from '../../kube/pod-security/index.js';

export interface SecurityOptions {
  /** The level of a namespace without an enforce label. */
  defaultLevel: Level;
  /** A `privileged` namespace lets privileged Pods through only with this flag. */
  allowPrivileged: boolean;
  /** Where bind-mount sources may come from (absolute paths); the deny list wins. */
  bindRoots: readonly string[];
  /** Never bindable, wherever they are: kuber-api's own credentials. */
  bindDeny: readonly string[];
}

/** Where a level came from, for the messages. */
export interface LevelSource {
  namespace: string;
  /** The namespace's enforce label, if it has one (undefined: not labelled or not readable). */
  label?: string;
  labelVersion?: string;
}

/** The level a Pod is checked against (see the module comment). */
export function effectiveLevel(
  src: LevelSource,
  o: Pick<SecurityOptions, 'defaultLevel' | 'allowPrivileged'>,
): LevelVersion {
  const labelled =
    src.label === 'privileged' || src.label === 'baseline' || src.label === 'restricted'
      ? (src.label as Level)
      : src.label
        ? 'restricted'
        : undefined; // a bad label fails closed, as the admission does
  let level = labelled ?? o.defaultLevel;
  if (level === 'privileged' && !o.allowPrivileged) level = 'baseline';
  return { level, version: (src.labelVersion && parseVersion(src.labelVersion)) || LATEST };
}

/** The Docker flag behind each Pod Security reason, and what relaxes it. */
const FLAG_OF: Record<string, string> = {
  privileged: '--privileged',
  'host namespaces': '--pid host / --ipc host / --network host',
  'non-default capabilities': '--cap-add',
  'hostPath volumes': '--device (a host path in the Pod)',
  'forbidden sysctls': '--sysctl',
  hostPort: 'a host port',
  'allowPrivilegeEscalation != false': '--privileged',
  'unrestricted capabilities': '--cap-add',
  'runAsNonRoot != true':
    'a root user (use --user <uid> with a non-root uid, or an image with a numeric non-root USER)',
  'runAsUser=0': '--user 0/root',
};
const PRIVILEGED_ONLY = new Set([
  'privileged',
  'host namespaces',
  'non-default capabilities',
  'hostPath volumes',
  'forbidden sysctls',
  'hostPort',
]);

/** How to relax `reason`, given where the level came from. */
function relaxHint(
  reason: string,
  lv: LevelVersion,
  src: LevelSource,
  o: Pick<SecurityOptions, 'allowPrivileged'>,
): string {
  const label = (l: Level) => `label namespace "${src.namespace}" ${LABELS.enforce}=${l}`;
  if (PRIVILEGED_ONLY.has(reason))
    return `needs a privileged namespace: ${label('privileged')}${o.allowPrivileged ? '' : ' and start kuber-api with --allow-privileged'}`;
  return lv.level === 'restricted'
    ? `is refused under "restricted": run as non-root, or ${label('baseline')}`
    : `${label('privileged')}`;
}

/** The 403 for a Pod that fails its level: each reason with its detail, the Docker flag and the relaxing label/flag. */
export function podSecurityError(
  what: string,
  lv: LevelVersion,
  src: LevelSource,
  o: Pick<SecurityOptions, 'allowPrivileged'>,
  meta: object,
  spec: object,
): Error | undefined {
  const r = evaluate(lv, meta, spec);
  if (r.allowed) return undefined;
  const whence = src.label
    ? `the ${LABELS.enforce}=${src.label} label of namespace "${src.namespace}"`
    : `kuber-api's --pod-security-default (namespace "${src.namespace}" has no ${LABELS.enforce} label)`;
  const parts = r.reasons.map((reason, i) => {
    const flag = FLAG_OF[reason];
    return `${reason}${r.details[i] ? ` (${r.details[i]})` : ''}${flag ? `: ${flag} ${relaxHint(reason, lv, src, o)}` : ''}`;
  });
  return forbidden(
    `${what} is refused by Pod Security "${levelVersionString(lv)}" (from ${whence}): ${parts.join('; ')}`,
  );
}

const under = (p: string, root: string) => {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

/** Absolute bind sources of a create body: `Binds` (`src:dst[:opts]`) and `Mounts` of Type bind. */
export function bindSources(hc: Record<string, any>): string[] {
  const out: string[] = [];
  for (const b of Array.isArray(hc.Binds) ? (hc.Binds as string[]) : []) {
    const src = String(b).split(':')[0] ?? '';
    if (src.startsWith('/')) out.push(src);
  }
  for (const m of Array.isArray(hc.Mounts) ? (hc.Mounts as Array<{ Type?: string; Source?: string }>) : [])
    if (m?.Type === 'bind' && m.Source) out.push(m.Source);
  return out;
}

/**
 * The 403 for a bind source outside the allowed roots, or on kuber-api's own credentials. `real`
 * resolves symlinks (a link under /tmp to / must not pass).
 */
const DOCKER_SOCKETS = new Set(['/var/run/docker.sock', '/run/docker.sock']);

export function bindError(
  sources: string[],
  o: Pick<SecurityOptions, 'bindRoots' | 'bindDeny'>,
  real: (p: string) => string = (p) => p,
): Error | undefined {
  for (const s of sources) {
    // The Docker socket is refused by the volumes wing with its own reason (no Pod can reach
    // kuber-api's socket through a copy); no root makes it allowed, so it is not judged here.
    if (DOCKER_SOCKETS.has(resolve(s))) continue;
    const p = real(resolve(s));
    const denied = o.bindDeny.find((d) => under(p, d) || under(d, p));
    if (denied)
      return forbidden(
        `bind source "${s}" is refused: it would expose kuber-api's own credentials (${denied}); no flag allows it`,
      );
    if (!o.bindRoots.some((r) => under(p, r)))
      return forbidden(
        `bind source "${s}" is refused: it is outside the allowed roots (${o.bindRoots.join(', ')}); allow a root with --bind-root <dir>`,
      );
  }
  return undefined;
}
