/**
 * @module engine/volumes/spec
 * A create body's mounts, resolved as dockerd resolves them (pure): moby daemon/volumes.go
 * registerMountPoints. In its order, a later one replacing an earlier one at the same destination:
 * 1. `Config.Volumes` (the image's VOLUME and `-v /data`): anonymous volumes;
 * 2. `HostConfig.Binds` (`-v src:dst[:opts]`): a bind when `src` is an absolute path, else a named
 *    volume (moby volume/mounts/linux_parser.go ParseMountRaw);
 * 3. `HostConfig.Mounts` (`--mount`, the Mounts API): type volume, bind or tmpfs
 *    (moby volume/mounts/validate.go for the checks and their messages).
 * Two Binds/Mounts at one destination are dockerd's 400 "Duplicate mount point".
 */
import { posix } from 'node:path';
import { invalid, notImplemented } from '../../errors.js';
import type { CreateBody } from '../model/types.js';

export type MountType = 'volume' | 'bind' | 'tmpfs';

/** One resolved mount of a container, as the record keeps it (annotation `kuber-api.io/mounts`). */
export interface MountPoint {
  type: MountType;
  /** The container path. */
  target: string;
  /** volume: the Docker volume name ('' until an anonymous one is named); bind: the host path. */
  source: string;
  readOnly: boolean;
  /** volume: do not copy the image's content into a new empty volume (`nocopy`, VolumeOptions.NoCopy). */
  noCopy?: boolean;
  /** volume: created for this container (image VOLUME, `-v /data`, a Mounts volume without a name). */
  anonymous?: boolean;
  /** volume: labels and driver options of a volume this create makes (Mounts VolumeOptions). */
  labels?: Record<string, string>;
  driverOpts?: Record<string, string>;
  /** bind: from Binds (`-v`), whose missing source dockerd creates; Mounts binds must exist. */
  fromBinds?: boolean;
  /** tmpfs: size in bytes, mode. */
  tmpfsSize?: number;
  tmpfsMode?: number;
  /** bind: the propagation asked for (ignored on Kubernetes, with a warning). */
  propagation?: string;
  /** Docker's `Mode` field of inspect's Mounts (the `-v` options as given). */
  mode?: string;
}

const BIND_MODES = new Set([
  'ro',
  'rw',
  'z',
  'Z',
  'nocopy',
  'shared',
  'rshared',
  'slave',
  'rslave',
  'private',
  'rprivate',
  'consistent',
  'cached',
  'delegated',
]);
const PROPAGATION = new Set(['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate']);
/** moby volume/local/local.go validName (the local driver's rule). */
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function checkVolumeName(name: string): void {
  if (name.length < 2) throw invalid(`volume name is too short, names should be at least two alphanumeric characters`);
  if (!VOLUME_NAME.test(name)) {
    throw invalid(
      `"${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
    );
  }
}

function checkTarget(spec: string, target: string): void {
  if (!target.startsWith('/'))
    throw invalid(
      `invalid volume specification: '${spec}': invalid mount config for type "volume": invalid mount path: '${target}' mount path must be absolute`,
    );
  if (posix.normalize(target) === '/')
    throw invalid(
      `invalid volume specification: '${spec}': invalid mount config for type "bind": invalid specification: destination can't be '/'`,
    );
}

/** `-v src:dst[:opts]` or `-v dst` (moby linux_parser.go ParseMountRaw). */
export function parseBind(spec: string): MountPoint {
  const parts = spec.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) throw invalid(`invalid volume specification: '${spec}'`);
  if (parts.length === 1) {
    checkTarget(spec, parts[0]!);
    return { type: 'volume', source: '', target: posix.normalize(parts[0]!), readOnly: false, anonymous: true };
  }
  const [src, dst, mode = ''] = parts as [string, string, string?];
  checkTarget(spec, dst);
  const opts = mode ? mode.split(',') : [];
  for (const o of opts) if (!BIND_MODES.has(o)) throw invalid(`invalid mode: ${mode}`);
  const readOnly = opts.includes('ro');
  const propagation = opts.find((o) => PROPAGATION.has(o));
  const target = posix.normalize(dst);
  if (src.startsWith('/')) {
    if (opts.includes('nocopy')) throw invalid(`invalid mode: ${mode}`);
    return {
      type: 'bind',
      source: posix.normalize(src),
      target,
      readOnly,
      fromBinds: true,
      mode,
      ...(propagation ? { propagation } : {}),
    };
  }
  checkVolumeName(src);
  return { type: 'volume', source: src, target, readOnly, mode, ...(opts.includes('nocopy') ? { noCopy: true } : {}) };
}

interface ApiMount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  BindOptions?: { Propagation?: string; CreateMountpoint?: boolean; NonRecursive?: boolean } | null;
  VolumeOptions?: {
    NoCopy?: boolean;
    Labels?: Record<string, string> | null;
    DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null;
    Subpath?: string;
  } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number } | null;
}

const mountErr = (type: string, why: string) => invalid(`invalid mount config for type "${type}": ${why}`);

/** One `Mounts` entry (moby volume/mounts/validate.go validateMountConfigImpl). */
export function parseApiMount(m: ApiMount): MountPoint {
  const type = m.Type ?? '';
  const target = m.Target ?? '';
  if (type !== 'volume' && type !== 'bind' && type !== 'tmpfs') {
    if (type === 'npipe' || type === 'cluster')
      throw notImplemented(`mount type "${type}" is not supported by kuber-api`);
    throw invalid(`invalid mount config for type "${type}": mount type unknown`);
  }
  if (!target) throw mountErr(type, 'field Target must not be empty');
  if (!target.startsWith('/')) throw mountErr(type, `invalid mount path: '${target}' mount path must be absolute`);
  const readOnly = !!m.ReadOnly;
  if (type === 'bind') {
    if (!m.Source) throw mountErr(type, 'field Source must not be empty');
    if (m.VolumeOptions) throw mountErr(type, 'field VolumeOptions must not be specified');
    if (m.TmpfsOptions) throw mountErr(type, 'field TmpfsOptions must not be specified');
    if (!m.Source.startsWith('/'))
      throw mountErr(type, `invalid mount path: '${m.Source}' mount path must be absolute`);
    const propagation = m.BindOptions?.Propagation || undefined;
    return {
      type,
      source: posix.normalize(m.Source),
      target: posix.normalize(target),
      readOnly,
      ...(propagation ? { propagation } : {}),
    };
  }
  if (type === 'tmpfs') {
    if (m.Source) throw mountErr(type, 'field Source must not be specified');
    if (m.BindOptions) throw mountErr(type, 'field BindOptions must not be specified');
    if (m.VolumeOptions) throw mountErr(type, 'field VolumeOptions must not be specified');
    const t = m.TmpfsOptions ?? {};
    if (t.SizeBytes !== undefined && t.SizeBytes < 0) throw mountErr(type, `invalid tmpfs size: ${t.SizeBytes}`);
    return {
      type,
      source: '',
      target: posix.normalize(target),
      readOnly,
      ...(t.SizeBytes ? { tmpfsSize: t.SizeBytes } : {}),
      ...(t.Mode ? { tmpfsMode: t.Mode } : {}),
    };
  }
  if (m.BindOptions) throw mountErr(type, 'field BindOptions must not be specified');
  if (m.TmpfsOptions) throw mountErr(type, 'field TmpfsOptions must not be specified');
  const vo = m.VolumeOptions ?? {};
  const driver = vo.DriverConfig?.Name;
  if (driver && driver !== 'local')
    throw notImplemented(
      `volume driver "${driver}" is not supported by kuber-api: volumes are PersistentVolumeClaims of the cluster's storage classes (use volume-opt storageclass=<class>)`,
    );
  if (vo.Subpath) throw notImplemented('volume subpaths are not supported by kuber-api yet');
  if (m.Source) checkVolumeName(m.Source);
  return {
    type,
    source: m.Source ?? '',
    target: posix.normalize(target),
    readOnly,
    ...(m.Source ? {} : { anonymous: true }),
    ...(vo.NoCopy ? { noCopy: true } : {}),
    ...(vo.Labels && Object.keys(vo.Labels).length ? { labels: { ...vo.Labels } } : {}),
    ...(vo.DriverConfig?.Options && Object.keys(vo.DriverConfig.Options).length
      ? { driverOpts: { ...vo.DriverConfig.Options } }
      : {}),
  };
}

/** `--volumes-from container[:ro|rw]` (moby volume/mounts/parser.go ParseVolumesFrom): the name and the mode. */
export function parseVolumesFrom(spec: string): { container: string; mode?: 'ro' | 'rw' } {
  const i = spec.lastIndexOf(':');
  if (i < 0) return { container: spec };
  const mode = spec.slice(i + 1);
  if (mode !== 'ro' && mode !== 'rw') throw invalid(`invalid mode for volumes-from: ${mode}`);
  return { container: spec.slice(0, i), mode };
}

/**
 * Every mount of a create body, later ones replacing earlier ones at the same path; warnings for
 * what has no effect. `inherited` are the mounts of `--volumes-from` containers (moby takes them
 * after the image's volumes and before Binds); they are shared, never anonymous to this container.
 */
export function resolveMounts(
  body: CreateBody,
  inherited: MountPoint[] = [],
): { mounts: MountPoint[]; warnings: string[] } {
  const hc = body.HostConfig ?? {};
  const byTarget = new Map<string, MountPoint>();
  for (const path of Object.keys(body.Volumes ?? {})) {
    if (!path.startsWith('/'))
      throw invalid(
        `invalid volume specification: '${path}': invalid mount config for type "volume": invalid mount path: '${path}' mount path must be absolute`,
      );
    byTarget.set(posix.normalize(path), {
      type: 'volume',
      source: '',
      target: posix.normalize(path),
      readOnly: false,
      anonymous: true,
    });
  }
  for (const m of inherited) byTarget.set(m.target, m);
  const explicit = new Set<string>();
  const add = (m: MountPoint) => {
    if (explicit.has(m.target)) throw invalid(`Duplicate mount point: ${m.target}`);
    explicit.add(m.target);
    byTarget.set(m.target, m);
  };
  for (const b of hc.Binds ?? []) add(parseBind(b));
  for (const m of (hc.Mounts ?? []) as ApiMount[]) add(parseApiMount(m));
  for (const t of Object.keys(hc.Tmpfs ?? {})) byTarget.delete(posix.normalize(t.split(':')[0]!)); // HostConfig.Tmpfs wins (translate.ts mounts it)
  const warnings: string[] = [];
  for (const m of byTarget.values()) {
    if (m.propagation && m.propagation !== 'rprivate')
      warnings.push(
        `kuber-api: bind propagation "${m.propagation}" of ${m.target} is ignored: a bind mount is a snapshot copied into the Pod, so nothing propagates`,
      );
  }
  return { mounts: [...byTarget.values()].sort((a, b) => a.target.localeCompare(b.target)), warnings };
}

/** The `Mounts` of container inspect (moby api/types/container MountPoint). */
export function inspectMount(m: MountPoint): Record<string, unknown> {
  if (m.type === 'bind')
    return {
      Type: 'bind',
      Source: m.source,
      Destination: m.target,
      Mode: m.mode ?? '',
      RW: !m.readOnly,
      Propagation: m.propagation ?? 'rprivate',
    };
  if (m.type === 'tmpfs')
    return { Type: 'tmpfs', Source: '', Destination: m.target, Mode: '', RW: !m.readOnly, Propagation: '' };
  return {
    Type: 'volume',
    Name: m.source,
    Source: '',
    Destination: m.target,
    Driver: 'local',
    Mode: m.mode ?? (m.readOnly ? '' : ''),
    RW: !m.readOnly,
    Propagation: '',
  };
}
