/**
 * @module engine/volumes/service
 * Docker volumes on Kubernetes (moby daemon/server/router/volume, volume/service): every volume is a
 * PersistentVolumeClaim (engine/volumes/store.ts), read through a watch cache, so volumes and their
 * data survive kuber-api restarts until `docker volume rm` deletes the claim.
 *
 * - Statuses and messages are dockerd's: create 201 (an existing name answers the existing volume),
 *   404 `get X: no such volume`, 409 `remove X: volume is in use - [ids]`, `rm -f` of a missing
 *   volume succeeds; prune removes unused anonymous volumes, or all unused ones with `all=true`
 *   (API 1.42+; before it, every unused volume), events create/destroy/prune (+ mount at start).
 * - A container's mounts are resolved at create (engine/volumes/spec.ts) and kept in its record
 *   (annotation `kuber-api.io/mounts`); named volumes it names are created then (as dockerd does),
 *   anonymous ones get a random 64-hex name and the label `com.docker.volume.anonymous`, and go with
 *   `rm -v` or `--rm`. A volume is in use while any container (running or not) mounts it.
 * - At start, {@link VolumeService.podParts} snapshots the bind sources and lists the claims for
 *   engine/volumes/volume-pod.ts; writable binds are copied back by engine/volumes/copy-back.ts.
 */
import { randomBytes } from 'node:crypto';
import { conflict, invalid, notFound, notImplemented } from '../../errors.js';
import { isAlreadyExists, isNotFound } from '../../kube/client.js';
import { kubeError } from '../../kube/errors.js';
import type { WatchCache } from '../../kube/cache.js';
import type { VolumeHost } from './host.js';
import { matchLabels } from '../model/filters.js';
import { nowRfc3339Nano } from '../model/human.js';
import type { ContainerRecord, CreateBody } from '../model/types.js';
import { versionLess } from '../model/api-version.js';
import { checkBindSource } from './bind-source.js';
import { stageBinds, type StagedBind } from './bind-stage.js';
import { checkVolumeName, parseVolumesFrom, resolveMounts, type MountPoint } from './spec.js';
import {
  ANONYMOUS_LABEL,
  claimName,
  claimObject,
  decodeVolume,
  isSingleNode,
  volumeSelector,
  volumeView,
  type ClaimDefaults,
  type PvcObject,
  type VolumeRecord,
} from './store.js';
import type { ClaimMount } from './volume-pod.js';
import type { PodObject } from '../core/container-index.js';
import { CopyBack } from './copy-back.js';
import { claimUsage } from './usage.js';

/** The record annotation with the container's resolved mounts (JSON MountPoint[]). */
export const ANN_MOUNTS = 'kuber-api.io/mounts';

export interface VolumeOptions {
  claims: ClaimDefaults;
  /** Bytes of one container's bind sources snapshotted at each start. */
  bindMaxBytes: number;
  /** Copy-back of writable binds: bytes buffered on the exec WebSocket (--archive-exec-high-water-bytes). */
  execHighWaterBytes: number;
}

const FILTERS = new Set(['dangling', 'name', 'label', 'driver', 'label!']);
const PRUNE_FILTERS = new Set(['label', 'label!', 'all']);

export class VolumeService {
  readonly cache: WatchCache<PvcObject>;

  constructor(
    private readonly h: VolumeHost,
    private readonly o: VolumeOptions,
  ) {
    this.cache = h.kube.cache<PvcObject>('persistentvolumeclaims', volumeSelector(h.opts.instance));
    this.copyBack = new CopyBack(h, (rec) => this.mountsOf(rec), o.execHighWaterBytes);
  }

  /** Writable binds copied back when a run ends (engine/volumes/copy-back.ts). */
  private readonly copyBack: CopyBack;

  start(): Promise<void> {
    this.copyBack.start();
    return this.cache.start();
  }
  stop(): void {
    this.copyBack.stop();
    this.cache.stop();
  }

  /** Resolves when the container's ended runs have been copied back (wait, stop, rm and a new run call it). */
  settle(id: string): Promise<void> {
    return this.copyBack.settle(id);
  }
  /** Before kuber-api has the kubelet kill a run (which ends the sidecar too): copy the binds back as they are. */
  beforeKill(pod: PodObject): Promise<void> {
    return this.copyBack.beforeKill(pod);
  }

  /** The volume called `name`, if it exists. */
  get(name: string): VolumeRecord | undefined {
    const c = this.cache.get(claimName(this.h.opts.instance, name));
    const v = c && decodeVolume(c);
    return v && v.name === name ? v : undefined;
  }

  all(): VolumeRecord[] {
    return this.cache
      .list()
      .map(decodeVolume)
      .filter((v): v is VolumeRecord => !!v)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The mounts resolved at create (none for containers made before volumes were supported). */
  mountsOf(rec: ContainerRecord): MountPoint[] {
    const raw = this.h.index.records.get(rec.object.name)?.metadata.annotations?.[ANN_MOUNTS];
    if (!raw) return [];
    try {
      return JSON.parse(raw) as MountPoint[];
    } catch {
      return [];
    }
  }

  /** IDs of the containers that mount volume `name` (moby: any container, running or not, holds a reference). */
  usersOf(name: string): string[] {
    return this.h.index
      .all()
      .filter((r) => this.mountsOf(r).some((m) => m.type === 'volume' && m.source === name))
      .map((r) => r.id);
  }

  // ------------------------------------------------------------------ the volume API

  /** POST /volumes/create {Name, Driver, DriverOpts, Labels}. */
  async createVolume(body: {
    Name?: string;
    Driver?: string;
    DriverOpts?: Record<string, string> | null;
    Labels?: Record<string, string> | null;
  }): Promise<unknown> {
    const driver = body.Driver ?? '';
    if (driver !== '' && driver !== 'local') {
      throw notImplemented(
        `volume driver "${driver}" is not supported by kuber-api: volumes are PersistentVolumeClaims of the cluster's storage classes (use -o storageclass=<class>)`,
      );
    }
    const name = body.Name || randomBytes(32).toString('hex');
    checkVolumeName(name);
    const v = await this.ensure(name, body.Labels ?? {}, body.DriverOpts ?? {});
    return volumeView(v, this.h.namespace);
  }

  /** Create the volume's claim unless it exists (then the existing volume is answered, as dockerd does). */
  private async ensure(
    name: string,
    labels: Record<string, string>,
    options: Record<string, string>,
  ): Promise<VolumeRecord> {
    const existing = this.get(name);
    if (existing) return existing;
    for (const k of Object.keys(options)) {
      if (!['size', 'storageclass', 'accessmode'].includes(k)) {
        throw notImplemented(
          `volume option "${k}" is not supported by kuber-api: a volume is a PersistentVolumeClaim; the options are size, storageclass and accessmode`,
        );
      }
    }
    const owner = this.h.opts.ownerPod;
    const obj = claimObject(
      { namespace: this.h.namespace, instance: this.h.opts.instance, ...(owner ? { owner } : {}) },
      { name, created: nowRfc3339Nano(), labels, options },
      this.o.claims,
    );
    let created: PvcObject;
    try {
      created = await this.h.kube.client.create<PvcObject>(this.h.kube.path('persistentvolumeclaims'), obj);
    } catch (err) {
      if (!isAlreadyExists(err)) throw kubeError(err, `creating the claim of volume ${name}`);
      created = await this.h.kube.client.get<PvcObject>(this.h.kube.path('persistentvolumeclaims', obj.metadata.name));
      const v = decodeVolume(created);
      if (v?.name === name) return v;
      throw kubeError(
        err,
        `creating the claim of volume ${name}`,
        `a PersistentVolumeClaim named ${obj.metadata.name} exists and is not volume ${name}'s`,
      );
    }
    this.cache.observe(created);
    this.h.events.publish('volume', 'create', name, { driver: 'local' });
    return decodeVolume(created)!;
  }

  async listVolumes(filters: Record<string, string[]>): Promise<{ Volumes: unknown[]; Warnings: null }> {
    for (const k of Object.keys(filters)) if (!FILTERS.has(k)) throw invalid(`invalid filter '${k}'`);
    const dangling = filters.dangling?.map((d) => d.toLowerCase());
    for (const d of dangling ?? [])
      if (!['true', 'false', '1', '0'].includes(d)) throw invalid(`invalid filter 'dangling=${d}'`);
    const used = this.usedNames();
    const out = this.all().filter((v) => {
      if (filters.name && !filters.name.some((n) => v.name.includes(n))) return false;
      if (filters.driver && !filters.driver.includes('local')) return false;
      if (filters.label && !matchLabels(filters.label, v.labels)) return false;
      if (filters['label!']?.some((l) => matchLabels([l], v.labels))) return false;
      if (dangling?.length) {
        const want = dangling[0] === 'true' || dangling[0] === '1';
        if (used.has(v.name) === want) return false;
      }
      return true;
    });
    return { Volumes: out.map((v) => volumeView(v, this.h.namespace)), Warnings: null };
  }

  async inspectVolume(name: string): Promise<unknown> {
    const v = this.get(name);
    if (!v) throw notFound(`get ${name}: no such volume`);
    return volumeView(v, this.h.namespace);
  }

  async removeVolume(name: string, force: boolean): Promise<void> {
    const v = this.get(name);
    if (!v) {
      if (force) return; // moby router/volume deleteVolumes: a forced removal of a missing volume succeeds
      throw notFound(`get ${name}: no such volume`);
    }
    const users = this.usersOf(name);
    if (users.length) throw conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`);
    await this.deleteClaim(v);
  }

  private async deleteClaim(v: VolumeRecord): Promise<void> {
    try {
      await this.h.kube.client.delete(this.h.kube.path('persistentvolumeclaims', v.claim.metadata.name), {
        propagationPolicy: 'Background',
      });
    } catch (err) {
      if (!isNotFound(err)) throw kubeError(err, `deleting the claim of volume ${v.name}`);
    }
    this.cache.forget(v.claim.metadata.name);
    this.h.events.publish('volume', 'destroy', v.name, { driver: 'local' });
  }

  /** POST /volumes/prune: unused anonymous volumes (API 1.42+ without `all=true`), else every unused one. */
  async pruneVolumes(
    filters: Record<string, string[]>,
    apiVersion: string,
  ): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    for (const k of Object.keys(filters)) if (!PRUNE_FILTERS.has(k)) throw invalid(`invalid filter '${k}'`);
    const all = filters.all?.some((a) => a === 'true' || a === '1') || versionLess(apiVersion, '1.42');
    const used = this.usedNames();
    const deleted: string[] = [];
    for (const v of this.all()) {
      if (used.has(v.name)) continue;
      if (!all && !(ANONYMOUS_LABEL in v.labels)) continue;
      if (filters.label && !matchLabels(filters.label, v.labels)) continue;
      if (filters['label!']?.some((l) => matchLabels([l], v.labels))) continue;
      try {
        await this.deleteClaim(v);
        deleted.push(v.name);
      } catch (err) {
        this.h.log.warn({ err, volume: v.name }, 'prune: could not remove a volume');
      }
    }
    this.h.events.publish('volume', 'prune', '', { reclaimed: '0' });
    return { VolumesDeleted: deleted, SpaceReclaimed: 0 };
  }

  /**
   * What `system df` shows of volumes: sizes from the kubelets of the nodes where running containers
   * mount volumes (engine/volumes/usage.ts); 0 for a claim no volume was ever provisioned for (no
   * PersistentVolume bound yet: WaitForFirstConsumer before its first user); -1 where none can be read.
   */
  async dfVolumes(): Promise<unknown[]> {
    const used = this.usedNames();
    const nodes: string[] = [];
    for (const r of this.h.index.all()) {
      const pod = this.mountsOf(r).some((m) => m.type === 'volume') ? this.h.index.currentPod(r) : undefined;
      const node = (pod?.spec as { nodeName?: string } | undefined)?.nodeName;
      if (pod?.status?.phase === 'Running' && node) nodes.push(node);
    }
    const sizes = await claimUsage(this.h.kube.client, nodes, this.h.namespace, (node, err) =>
      this.h.log.debug({ err, node }, 'system df: no volume usage from the node (nodes/proxy stats/summary)'),
    );
    return this.all().map((v) => ({
      ...volumeView(v, this.h.namespace),
      UsageData: {
        Size: sizes.get(v.claim.metadata.name) ?? (v.claim.spec?.volumeName ? -1 : 0),
        RefCount: used.has(v.name) ? this.usersOf(v.name).length : 0,
      },
    }));
  }

  private usedNames(): Set<string> {
    const out = new Set<string>();
    for (const r of this.h.index.all()) for (const m of this.mountsOf(r)) if (m.type === 'volume') out.add(m.source);
    return out;
  }

  // ------------------------------------------------------------------ containers

  /**
   * At `docker create`: resolve the mounts, check the bind sources, create the volumes they name
   * and the anonymous ones. Returns the record annotation and warnings; `undo()` removes the
   * anonymous volumes again if the container is not created after all.
   */
  async prepareCreate(
    body: CreateBody,
  ): Promise<{ annotations: Record<string, string>; warnings: string[]; undo: () => Promise<void> }> {
    const { mounts, warnings } = resolveMounts(body, this.volumesFrom(body));
    for (const m of mounts)
      if (m.type === 'bind') await checkBindSource(m.source, !!m.fromBinds, { inCluster: !!this.h.opts.ownerPod });
    const made: VolumeRecord[] = [];
    const undo = async () => {
      for (const v of made) await this.deleteClaim(v).catch(() => {});
    };
    try {
      for (const m of mounts) {
        if (m.type !== 'volume') continue;
        if (m.anonymous && !m.source) {
          m.source = randomBytes(32).toString('hex');
          made.push(await this.ensure(m.source, { ...m.labels, [ANONYMOUS_LABEL]: '' }, m.driverOpts ?? {}));
        } else {
          await this.ensure(m.source, m.labels ?? {}, m.driverOpts ?? {});
        }
        delete m.labels;
        delete m.driverOpts;
      }
    } catch (err) {
      await undo();
      throw err;
    }
    return { annotations: mounts.length ? { [ANN_MOUNTS]: JSON.stringify(mounts) } : {}, warnings, undo };
  }

  /** The mounts `HostConfig.VolumesFrom` takes from other containers (404 for an unknown one, as moby). */
  private volumesFrom(body: CreateBody): MountPoint[] {
    const out: MountPoint[] = [];
    for (const spec of (body.HostConfig?.VolumesFrom as string[] | null | undefined) ?? []) {
      const { container, mode } = parseVolumesFrom(spec);
      const src = this.h.index.resolve(container);
      for (const m of this.mountsOf(src)) {
        if (m.type === 'tmpfs') continue;
        const { anonymous: _shared, ...rest } = m;
        out.push({ ...rest, readOnly: mode === undefined ? m.readOnly : mode === 'ro' });
      }
    }
    return out;
  }

  /** `rm -v` and `--rm`: the container's anonymous volumes go with it (named ones stay, as with dockerd). */
  async removeAnonymous(mounts: MountPoint[]): Promise<void> {
    for (const m of mounts) {
      if (m.type !== 'volume') continue;
      const v = this.get(m.source);
      // Anonymous is the volume's own mark (its label), as in moby, not how this container named it:
      // compose passes a replaced container's anonymous volumes to its successor by name, and the
      // last of them removed with -v must take the volume along (else it outlives the project).
      if (!v || !(m.anonymous || ANONYMOUS_LABEL in v.labels) || this.usersOf(m.source).length) continue;
      await this.deleteClaim(v).catch((err: Error) =>
        this.h.log.warn({ err: err.message, volume: m.source }, 'could not remove an anonymous volume'),
      );
    }
  }

  /** At each start: the claims to mount (re-created if deleted meanwhile), the bind snapshots, the tmpfs mounts. */
  async podParts(rec: ContainerRecord): Promise<{ claims: ClaimMount[]; binds: StagedBind[]; tmpfs: MountPoint[] }> {
    const mounts = this.mountsOf(rec);
    const claims: ClaimMount[] = [];
    for (const m of mounts) {
      if (m.type !== 'volume') continue;
      const v = this.get(m.source) ?? (await this.ensure(m.source, m.anonymous ? { [ANONYMOUS_LABEL]: '' } : {}, {}));
      claims.push({
        mount: m,
        claim: v.claim.metadata.name,
        ...(isSingleNode(v.claim)
          ? { affinityKey: `kuber-api.io/vol-${v.claim.metadata.name.slice('kapi-vol-'.length)}` }
          : {}),
      });
      this.h.events.publish('volume', 'mount', m.source, {
        container: rec.id,
        destination: m.target,
        driver: 'local',
        propagation: '',
        'read/write': String(!m.readOnly),
      });
    }
    const binds = mounts.map((mount, i) => ({ i, mount })).filter((b) => b.mount.type === 'bind');
    const staged = binds.length
      ? await stageBinds(this.h.kube, this.h.opts.instance, rec, binds, this.o.bindMaxBytes)
      : [];
    return { claims, binds: staged, tmpfs: mounts.filter((m) => m.type === 'tmpfs') };
  }
}
