/**
 * @module engine/containers/create
 * `docker create`, `rename`, `rm` and `container prune` (the KubeEngine delegates here).
 *
 * create writes the container's durable record, a ConfigMap (engine/model/record.ts), after the create
 * body is validated and the image's defaults are merged in (engine/images/config.ts); names are
 * unique per instance, checked against the index and the names being created (moby's 409 text).
 * rm deletes the record's Pods and then the record; rm -f on a running container reports the kill
 * and die (137) itself, since nothing survives a force deletion of the Pod.
 */
import { detached } from '../../cancel-scope.js';
import { conflict, invalid, systemError } from '../../errors.js';
import { isAlreadyExists, isNotFound } from '../../kube/client.js';
import type { KObject } from '../../kube/cache.js';
import type { CreateResult } from '../backend/backend.js';
import { matchLabels } from '../model/filters.js';
import { nowRfc3339Nano } from '../model/human.js';
import { newId, normaliseName, randomName, recordName } from '../model/ids.js';
import { ANN_ID, recordObject } from '../model/record.js';
import { containerResources, validateCreate } from '../model/translate.js';
import { checkMaxResources } from '../model/pod-settings.js';
import type { CreateBody } from '../model/types.js';
import { validatePorts } from '../ports/ports.js';
import { kubeError } from '../../kube/errors.js';
import type { ContainerHost } from './host.js';

export class ContainerCreator {
  /** Names of containers being created or renamed, not yet in the index. */
  private readonly pendingNames = new Set<string>();

  constructor(private readonly e: ContainerHost) {}

  async createContainer(name: string | undefined, body: Record<string, unknown>): Promise<CreateResult> {
    const warnings = validateCreate(body as CreateBody);
    warnings.push(...validatePorts(body as CreateBody));
    // Memberships first: an unknown network is a 404 before any registry lookup.
    const net = this.e.networks.prepareCreate(body as CreateBody);
    warnings.push(...net.warnings);
    // The image's defaults merged in as dockerd does (engine/images/config.ts); needs no registry.
    const prepared = await this.e.images.prepareCreate(
      body as CreateBody,
      typeof body.platform === 'string' ? body.platform : undefined,
    );
    const config = prepared.config;
    warnings.push(...prepared.warnings);
    // The Pod policy (engine/security) on the body as sent: a 403 naming the rule, before anything
    // is written. After the image step, so that what it refuses with its own reason (Ryuk) says so.
    // A body that never becomes a Pod (Ryuk, whose docker.sock bind no Pod mounts) is not checked.
    if (!this.e.podless(body)) {
      await this.e.security.refresh();
      this.e.security.checkCreate(body as CreateBody);
    }
    checkMaxResources(
      containerResources(body as CreateBody) as Parameters<typeof checkMaxResources>[0],
      this.e.opts.pod,
    );
    let n: string;
    if (name) {
      n = normaliseName(name);
      this.checkNameFree(n);
    } else {
      let retry = 0;
      do n = randomName(retry++);
      while (this.e.index.nameOwner(n) || this.pendingNames.has(n));
    }
    this.pendingNames.add(n);
    let undoVolumes: (() => Promise<void>) | undefined;
    try {
      // Mounts (engine/volumes): bind sources checked, volumes created, anonymous ones named; once the name is ours.
      // A Pod-less container (Ryuk) mounts nothing: its docker.sock bind is the in-process Ryuk's own.
      const vols = this.e.podless(body)
        ? { annotations: {}, warnings: [], undo: async () => {} }
        : await this.e.volumes.prepareCreate(config);
      warnings.push(...vols.warnings);
      undoVolumes = vols.undo;
      const id = newId();
      const cm = recordObject(
        this.e.recordContext(),
        {
          id,
          name: n,
          created: nowRfc3339Nano(),
          config,
          ...(prepared.image ? { image: prepared.image } : {}),
          state: { run: 0, restartCount: 0 },
        },
        recordName(id),
      );
      Object.assign(cm.metadata.annotations!, net.annotations, vols.annotations);
      let obj: KObject;
      try {
        obj = await this.e.kube.client.create<KObject>(this.e.kube.path('configmaps'), cm);
      } catch (err) {
        // A create retried after a 5xx may have succeeded the first time: adopt our own object.
        if (!isAlreadyExists(err)) throw kubeError(err, 'creating the container record');
        obj = await this.e.kube.client.get<KObject>(this.e.kube.path('configmaps', recordName(id)));
        if (obj.metadata.annotations?.[ANN_ID] !== id)
          throw systemError(`a ConfigMap named ${recordName(id)} already exists and is not this container's`);
      }
      this.e.index.records.observe(obj);
      const rec = this.e.index.get(id)!;
      this.e.events.container(this.e.eventSource(rec), 'create');
      undoVolumes = undefined;
      return { Id: id, Warnings: warnings };
    } catch (err) {
      // The anonymous volumes of a container that was not created, removed even when its client left.
      if (undoVolumes) await detached(undoVolumes);
      throw err;
    } finally {
      this.pendingNames.delete(n);
    }
  }

  private checkNameFree(name: string, except?: string): void {
    const owner = this.e.index.nameOwner(name);
    if ((owner && owner !== except) || this.pendingNames.has(name)) {
      throw conflict(
        `Conflict. The container name "/${name}" is already in use by container "${owner ?? 'being created'}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    }
  }

  async renameContainer(nameOrId: string, newName: string): Promise<void> {
    if (!newName) throw invalid('Neither old nor new names may be empty');
    const rec = this.e.index.resolve(nameOrId);
    const n = normaliseName(newName);
    if (n === rec.name) throw invalid('Renaming a container with the same name as its current name');
    await this.e.withLock(rec.id, async () => {
      this.checkNameFree(n, rec.id);
      this.pendingNames.add(n);
      try {
        const old = this.e.index.get(rec.id)!.name;
        const updated = await this.e.updateState(rec.id, (s) => s, n);
        this.e.events.container(this.e.eventSource(updated), 'rename', { oldName: `/${old}` });
      } finally {
        this.pendingNames.delete(n);
      }
    });
  }

  async removeContainer(nameOrId: string, opts: { force: boolean; volumes: boolean; link: boolean }): Promise<void> {
    if (opts.link) throw invalid('Conflict, cannot remove the default link name of the container');
    const rec = this.e.index.resolve(nameOrId);
    await this.e.withLock(rec.id, () => this.removeLocked(rec.id, opts.force, opts.volumes));
  }

  /** Remove under the container's lock (also used by AutoRemove); `removeVolumes` (rm -v, --rm) takes its anonymous volumes. */
  async removeLocked(id: string, force: boolean, removeVolumes = false): Promise<void> {
    const rec = this.e.index.get(id);
    if (!rec) return;
    const state = this.e.stateOf(rec);
    if (state.Running && !force) {
      const what = state.Restarting ? 'container is restarting' : 'container is running';
      throw conflict(
        `cannot remove container "/${rec.name}": ${what}: stop the container before removing or force remove`,
      );
    }
    this.e.monitor.forget(id);
    // Read before the record is deleted: mountsOf reads the record from the watch cache, and the
    // watch's DELETED can be handled before the DELETE's own answer (under load, or after a retry):
    // the anonymous volumes were then never removed and their claims outlived `down -v`.
    const mounts = this.e.volumes.mountsOf(rec);
    await this.e.volumes.settle(id); // writable binds copied back before the Pods go
    const pods = this.e.index.podsOf(id);
    if (state.Running && !state.Restarting) {
      for (const p of pods) await this.e.volumes.beforeKill(p); // writable binds copied back as they are (engine/volumes)
      // rm -f: the Pod is deleted at once (no exit status survives a force deletion).
      this.e.events.container(this.e.eventSource(rec), 'kill', { signal: '9' });
      this.e.events.container(this.e.eventSource(rec), 'die', { exitCode: '137', execDuration: '0' });
      this.e.monitor.noteExit(id);
    }
    await Promise.all(pods.map((p) => this.e.deletePod(p.metadata.name, 0)));
    try {
      await this.e.kube.client.delete(this.e.kube.path('configmaps', rec.object.name), {
        propagationPolicy: 'Background',
      });
    } catch (err) {
      if (!isNotFound(err)) throw kubeError(err, 'deleting the container record');
    }
    this.e.index.records.forget(rec.object.name);
    for (const p of pods) this.e.index.pods.forget(p.metadata.name);
    if (removeVolumes) await this.e.volumes.removeAnonymous(mounts);
  }

  async pruneContainers(
    filters: Record<string, string[]>,
  ): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
    for (const k of Object.keys(filters))
      if (k !== 'until' && k !== 'label' && k !== 'label!') throw invalid(`invalid filter '${k}'`);
    const until = filters.until?.map((u) => (/^\d+(\.\d+)?$/.test(u) ? Number(u) * 1000 : Date.parse(u)));
    const deleted: string[] = [];
    for (const rec of this.e.index.all()) {
      if (this.e.stateOf(rec).Running) continue;
      const labels = rec.config.Labels ?? {};
      if (until?.some((u) => !(Date.parse(rec.created) < u))) continue;
      if (filters.label && !matchLabels(filters.label, labels)) continue;
      if (filters['label!']?.some((l) => matchLabels([l], labels))) continue;
      try {
        await this.e.withLock(rec.id, () => this.removeLocked(rec.id, false));
        deleted.push(rec.id);
      } catch (err) {
        this.e.log.warn({ err, id: rec.id }, 'prune: could not remove a container');
      }
    }
    this.e.events.publish('container', 'prune', '', { reclaimed: '0' });
    return { ContainersDeleted: deleted, SpaceReclaimed: 0 };
  }
}
