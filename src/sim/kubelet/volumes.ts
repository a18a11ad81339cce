/**
 * @module sim/kubelet/volumes
 * Pod volumes on the node's disk, laid out as the kubelet lays them out under
 * /var/lib/kubelet/pods/<uid>/volumes/<plugin>/<name>:
 * - emptyDir: a directory shared by the pod's containers; medium Memory is a tmpfs (sizeLimit honoured);
 * - configMap / secret / downwardAPI / projected: files written by the atomic writer layout
 *   (`..<timestamp>/` data dir, `..data` symlink, one symlink per key), mounted read-only;
 * - hostPath: the host path itself (DirectoryOrCreate/FileOrCreate create it);
 * - persistentVolumeClaim: the bound PersistentVolume's directory (src/sim/storage provisions one per
 *   claim under the state dir), which outlives pods.
 * A missing ConfigMap/Secret that is not optional fails the mount (FailedMount) and the pod waits
 * in ContainerCreating, retrying, as on a real node.
 */
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { CONFIGMAPS, PODS, PVCS, PVS, SECRETS, type KObject, type KubeletStore } from '../types.js';
import { quantityNumber } from '../../kube/quantity.js';

type Obj = Record<string, any>;

export class MountError extends Error {
  /** The event to report instead of FailedMount (e.g. FailedAttachVolume). */
  constructor(
    message: string,
    readonly event?: { reason: string; message: string },
  ) {
    super(message);
  }
}

export interface PodVolume {
  name: string;
  hostPath: string;
  /** Mounted read-only whatever the volumeMount says (configMap, secret...). */
  forceRO: boolean;
  tmpfs?: boolean;
  /** The claim behind a persistentVolumeClaim volume (the Summary API's pvcRef: sim/kubelet/volume-stats.ts). */
  claim?: string;
}

export interface VolumeContext {
  store: KubeletStore;
  pod: KObject;
  podDir: string;
  stateDir: string;
  ips: { podIP: string; hostIP: string };
  token: string | ((pod: KObject, source: { audience?: string; expirationSeconds?: number }) => string);
  caCert: string;
  root: boolean;
}

function run(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: 'ignore' });
    p.on('error', () => resolve(-1));
    p.on('close', (c) => resolve(c ?? -1));
  });
}

function safeRel(p: string): string {
  const n = normalize(p).replace(/^\/+/, '');
  if (n.startsWith('..')) throw new MountError(`invalid path ${JSON.stringify(p)}: must not contain '..'`);
  return n;
}

/** The kubelet's AtomicWriter layout: ..<ts>/files, ..data -> ..<ts>, key -> ..data/key. */
async function writeAtomic(dir: string, files: Array<{ path: string; data: Buffer; mode: number }>): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  const ts = `..${new Date().toISOString().replace(/[-:]/g, '_').replace('T', '_').replace('Z', '')}.${process.hrtime.bigint() % 1000000000n}`;
  const data = join(dir, ts);
  await fsp.mkdir(data, { recursive: true });
  for (const f of files) {
    const p = join(data, safeRel(f.path));
    await fsp.mkdir(dirname(p), { recursive: true });
    await fsp.writeFile(p, f.data, { mode: f.mode });
    await fsp.chmod(p, f.mode);
  }
  const tmpLink = join(dir, '..data_tmp');
  await fsp.rm(tmpLink, { force: true });
  await fsp.symlink(ts, tmpLink);
  const old = await fsp.readlink(join(dir, '..data')).catch(() => undefined);
  await fsp.rename(tmpLink, join(dir, '..data'));
  const tops = new Set(files.map((f) => safeRel(f.path).split('/')[0]!));
  for (const t of tops) {
    const link = join(dir, t);
    const cur = await fsp.lstat(link).catch(() => undefined);
    if (!cur) await fsp.symlink(join('..data', t), link);
  }
  for (const e of await fsp.readdir(dir)) {
    if (e.startsWith('..') || tops.has(e)) continue;
    await fsp.rm(join(dir, e), { recursive: true, force: true });
  }
  if (old && old !== ts) await fsp.rm(join(dir, old), { recursive: true, force: true });
}

function keyFiles(
  obj: Obj,
  kind: 'ConfigMap' | 'Secret',
  items: Obj[] | undefined,
  mode: number,
  optional: boolean,
): Array<{ path: string; data: Buffer; mode: number }> {
  const all: Record<string, Buffer> = {};
  if (kind === 'Secret') for (const [k, v] of Object.entries(obj.data ?? {})) all[k] = Buffer.from(String(v), 'base64');
  else {
    for (const [k, v] of Object.entries(obj.data ?? {})) all[k] = Buffer.from(String(v));
    for (const [k, v] of Object.entries(obj.binaryData ?? {})) all[k] = Buffer.from(String(v), 'base64');
  }
  if (!items?.length) return Object.entries(all).map(([k, data]) => ({ path: k, data, mode }));
  const out = [];
  for (const it of items) {
    const data = all[it.key];
    if (!data) {
      if (optional) continue;
      // pkg/volume/configmap and pkg/volume/secret MakePayload messages
      throw new MountError(
        kind === 'Secret'
          ? `references non-existent secret key: ${it.key}`
          : `configmap references non-existent config key: ${it.key}`,
      );
    }
    out.push({ path: it.path, data, mode: it.mode ?? mode });
  }
  return out;
}

function downwardFiles(
  ctx: VolumeContext,
  items: Obj[],
  mode: number,
): Array<{ path: string; data: Buffer; mode: number }> {
  const meta = ctx.pod.metadata;
  return items.map((it) => {
    let v = '';
    const fp: string | undefined = it.fieldRef?.fieldPath;
    if (fp === 'metadata.name') v = meta.name ?? '';
    else if (fp === 'metadata.namespace') v = meta.namespace ?? '';
    else if (fp === 'metadata.uid') v = meta.uid ?? '';
    else if (fp === 'metadata.labels')
      v = Object.entries(meta.labels ?? {})
        .map(([k, x]) => `${k}="${x}"`)
        .join('\n');
    else if (fp === 'metadata.annotations')
      v = Object.entries(meta.annotations ?? {})
        .map(([k, x]) => `${k}="${x}"`)
        .join('\n');
    else if (fp) {
      const m = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(fp);
      if (m) v = String((meta[m[1]!] as Record<string, string> | undefined)?.[m[2]!] ?? '');
    } else if (it.resourceFieldRef) v = '0';
    return { path: it.path, data: Buffer.from(v), mode: it.mode ?? mode };
  });
}

async function objectFiles(ctx: VolumeContext, v: Obj): Promise<Array<{ path: string; data: Buffer; mode: number }>> {
  const ns = ctx.pod.metadata.namespace;
  if (v.configMap || v.secret) {
    const src = v.configMap ?? v.secret;
    const kind = v.configMap ? 'ConfigMap' : 'Secret';
    const name = v.configMap ? src.name : src.secretName;
    const obj = ctx.store.get(kind === 'ConfigMap' ? CONFIGMAPS : SECRETS, ns, name);
    if (!obj) {
      if (src.optional) return [];
      throw new MountError(`${kind.toLowerCase()} "${name}" not found`);
    }
    return keyFiles(obj as Obj, kind, src.items, src.defaultMode ?? 0o644, !!src.optional);
  }
  if (v.downwardAPI) return downwardFiles(ctx, v.downwardAPI.items ?? [], v.downwardAPI.defaultMode ?? 0o644);
  const files: Array<{ path: string; data: Buffer; mode: number }> = [];
  const mode = v.projected.defaultMode ?? 0o644;
  for (const s of v.projected.sources ?? []) {
    if (s.serviceAccountToken)
      files.push({
        path: s.serviceAccountToken.path,
        data: Buffer.from(typeof ctx.token === 'function' ? ctx.token(ctx.pod, s.serviceAccountToken) : ctx.token),
        mode,
      });
    else if (s.configMap) {
      const obj = ctx.store.get(CONFIGMAPS, ns, s.configMap.name);
      if (obj) files.push(...keyFiles(obj as Obj, 'ConfigMap', s.configMap.items, mode, !!s.configMap.optional));
      else if (s.configMap.name === 'kube-root-ca.crt' && ctx.caCert) {
        for (const it of s.configMap.items ?? [{ key: 'ca.crt', path: 'ca.crt' }])
          files.push({ path: it.path, data: Buffer.from(ctx.caCert), mode });
      } else if (!s.configMap.optional && s.configMap.name !== 'kube-root-ca.crt')
        throw new MountError(`configmap "${s.configMap.name}" not found`);
    } else if (s.secret) {
      const obj = ctx.store.get(SECRETS, ns, s.secret.name);
      if (obj) files.push(...keyFiles(obj as Obj, 'Secret', s.secret.items, mode, !!s.secret.optional));
      else if (!s.secret.optional) throw new MountError(`secret "${s.secret.name}" not found`);
    } else if (s.downwardAPI) files.push(...downwardFiles(ctx, s.downwardAPI.items ?? [], mode));
  }
  return files;
}

/**
 * The directory behind a claim: its bound PersistentVolume's hostPath or local path (what
 * src/sim/storage provisions), bind-mounted into the containers. An unbound claim, or a volume of
 * a type kube-sim cannot mount, is a MountError: the pod waits in ContainerCreating, retrying.
 */
async function claimPath(ctx: VolumeContext, claimName: string): Promise<string> {
  const c = ctx.store.get(PVCS, ctx.pod.metadata.namespace, claimName) as Obj | undefined;
  if (!c) throw new MountError(`persistentvolumeclaim "${claimName}" not found`);
  const pvName: string | undefined = c.spec?.volumeName;
  const pv = pvName ? (ctx.store.get(PVS, undefined, pvName) as Obj | undefined) : undefined;
  if (!pv || c.status?.phase !== 'Bound') throw new MountError(`PersistentVolumeClaim is not bound: "${claimName}"`);
  checkAttach(ctx, pv);
  const src = pv.spec?.hostPath ?? pv.spec?.local;
  if (!src?.path)
    throw new MountError(
      `kube-sim cannot mount volume "${pvName}": only hostPath and local persistent volumes are supported`,
    );
  const st = await fsp.stat(src.path).catch(() => undefined);
  if (!st) {
    if (pv.spec?.local || (pv.spec.hostPath.type && pv.spec.hostPath.type !== 'DirectoryOrCreate'))
      throw new MountError(`path "${src.path}" does not exist`);
    await fsp.mkdir(src.path, { recursive: true, mode: 0o777 });
  }
  return src.path;
}

/** Per store (one simulator): volume name -> pod uid -> where that pod attached it. */
const attachments = new WeakMap<KubeletStore, Map<string, Map<string, { node: string; ns: string; name: string }>>>();

/**
 * The attach/detach controller's rule for a ReadWriteOnce volume that is not tied to a node (an
 * Immediate class: all simulated nodes share this host's disk, where a real cluster's block volume
 * attaches to one node at a time): while a Pod on another node has it attached (mounted, until that
 * Pod is gone or finished), this Pod waits in ContainerCreating with the real Multi-Attach error
 * (pkg/controller/volume/attachdetach/reconciler). Volumes with a node affinity never get here on
 * the wrong node: the scheduler sees to it.
 */
function checkAttach(ctx: VolumeContext, pv: Obj): void {
  const modes: string[] = pv.spec?.accessModes ?? [];
  if (pv.spec?.nodeAffinity || modes.includes('ReadWriteMany') || modes.includes('ReadOnlyMany')) return;
  const me = ctx.pod as Obj;
  let byVolume = attachments.get(ctx.store);
  if (!byVolume) attachments.set(ctx.store, (byVolume = new Map()));
  const users = byVolume.get(pv.metadata.name) ?? new Map<string, { node: string; ns: string; name: string }>();
  byVolume.set(pv.metadata.name, users);
  for (const [uid, u] of users) {
    const p = ctx.store.get(PODS, u.ns, u.name) as Obj | undefined;
    if (!p || p.metadata.uid !== uid || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed')
      users.delete(uid);
  }
  const elsewhere = [...users].filter(([uid, u]) => uid !== me.metadata.uid && u.node !== me.spec?.nodeName);
  if (elsewhere.length) {
    const names = elsewhere.filter(([, u]) => u.ns === me.metadata.namespace).map(([, u]) => u.name);
    const message = `Multi-Attach error for volume "${pv.metadata.name}" Volume is already used by ${names.length ? `pod(s) ${names.join(', ')}` : `${elsewhere.length} pod(s) in different namespaces`}`;
    throw new MountError(message, { reason: 'FailedAttachVolume', message });
  }
  users.set(me.metadata.uid, { node: me.spec?.nodeName ?? '', ns: me.metadata.namespace, name: me.metadata.name });
}

/** Materialise every volume of the pod; throws MountError (FailedMount) for a missing source. */
export async function prepareVolumes(ctx: VolumeContext): Promise<Map<string, PodVolume>> {
  const out = new Map<string, PodVolume>();
  const base = join(ctx.podDir, 'volumes');
  for (const v of ((ctx.pod as Obj).spec?.volumes ?? []) as Obj[]) {
    const name: string = v.name;
    if (v.hostPath) {
      const p: string = v.hostPath.path;
      if (v.hostPath.type === 'DirectoryOrCreate') await fsp.mkdir(p, { recursive: true, mode: 0o755 });
      else if (v.hostPath.type === 'FileOrCreate') {
        await fsp.mkdir(dirname(p), { recursive: true });
        await fsp.writeFile(p, '', { flag: 'a', mode: 0o644 });
      } else if (v.hostPath.type && v.hostPath.type !== '') {
        const st = await fsp.stat(p).catch(() => undefined);
        const want = v.hostPath.type;
        if (!st)
          throw new MountError(
            `hostPath type check failed: ${p} is not a ${want === 'File' ? 'file' : want === 'Directory' ? 'directory' : want}`,
          );
      } else {
        const st = await fsp.stat(p).catch(() => undefined);
        if (!st) await fsp.mkdir(p, { recursive: true }); // the runtime creates a missing bind source
      }
      out.set(name, { name, hostPath: p, forceRO: false });
    } else if (v.persistentVolumeClaim) {
      const p = await claimPath(ctx, v.persistentVolumeClaim.claimName);
      out.set(name, {
        name,
        hostPath: p,
        forceRO: !!v.persistentVolumeClaim.readOnly,
        claim: v.persistentVolumeClaim.claimName,
      });
    } else if (v.configMap || v.secret || v.downwardAPI || v.projected) {
      const plugin = v.configMap
        ? 'kubernetes.io~configmap'
        : v.secret
          ? 'kubernetes.io~secret'
          : v.downwardAPI
            ? 'kubernetes.io~downward-api'
            : 'kubernetes.io~projected';
      const dir = join(base, plugin, name);
      await writeAtomic(dir, await objectFiles(ctx, v));
      out.set(name, { name, hostPath: dir, forceRO: true });
    } else {
      // emptyDir (and anything else: an ephemeral, node-local directory as good as any)
      const dir = join(base, 'kubernetes.io~empty-dir', name);
      await fsp.mkdir(dir, { recursive: true });
      await fsp.chmod(dir, 0o777);
      let tmpfs = false;
      if (v.emptyDir?.medium === 'Memory' && ctx.root) {
        const size = v.emptyDir.sizeLimit
          ? Math.max(4096, Math.floor(quantityNumber(v.emptyDir.sizeLimit)))
          : undefined;
        tmpfs =
          (await run('mount', ['-t', 'tmpfs', '-o', `mode=0777${size ? `,size=${size}` : ''}`, 'tmpfs', dir])) === 0;
      }
      out.set(name, { name, hostPath: dir, forceRO: false, tmpfs });
    }
  }
  return out;
}

/** Re-write the configMap/secret/projected volumes of a pod (the kubelet's periodic sync). */
export async function refreshObjectVolumes(ctx: VolumeContext): Promise<void> {
  const base = join(ctx.podDir, 'volumes');
  for (const v of ((ctx.pod as Obj).spec?.volumes ?? []) as Obj[]) {
    if (!(v.configMap || v.secret || v.projected)) continue;
    const plugin = v.configMap
      ? 'kubernetes.io~configmap'
      : v.secret
        ? 'kubernetes.io~secret'
        : 'kubernetes.io~projected';
    try {
      await writeAtomic(join(base, plugin, v.name), await objectFiles(ctx, v));
    } catch {
      /* keep the last good content, as the kubelet does */
    }
  }
}

export async function releaseVolumes(vols: Map<string, PodVolume>): Promise<void> {
  for (const v of vols.values()) if (v.tmpfs) await run('umount', ['-l', v.hostPath]);
}
