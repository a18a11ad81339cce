/**
 * @module engine/ryuk/prune
 * What Ryuk removes once its prune condition is met, and how (moby-ryuk reaper.go `resources`,
 * `prune`, `remove`): for every filter received, the matching containers (all, stopped too, but
 * never a Ryuk: label org.testcontainers.ryuk=true), networks, volumes and images. A resource
 * created after the prune check started (minus RYUK_RETRY_OFFSET) is a "change": the check is
 * retried later instead of removing something a client may just have made. Removal goes in
 * Ryuk's order: containers (force, with their anonymous volumes), then networks, volumes, images
 * (no force); each kind up to RYUK_REMOVE_RETRIES rounds one second apart; a resource already
 * gone counts as done. It goes through kuber-api's own Docker operations, so every removal
 * publishes the events dockerd would (destroy, ...).
 */
import { categoryOf } from '../../errors.js';
import type { FilterArgs } from './go.js';
import { RYUK_LABEL } from './config.js';
import type { RyukDocker } from './host.js';

export interface Resources {
  containers: string[];
  networks: string[];
  volumes: string[];
  images: string[];
}

export type Kind = 'container' | 'network' | 'volume' | 'image';

export interface Selection {
  resources: Resources;
  /** Resources created after `since` ("changes detected"). */
  changes: string[];
  /** Listing failures (Ryuk prunes what it found and exits 1). */
  errors: string[];
}

export interface PruneReport {
  counts: Record<Kind, number>;
  errors: string[];
}

/** What the pruner tells (engine/ryuk/reaper.ts turns it into Ryuk's log lines). */
export interface PruneLog {
  listError(what: string, err: string): void;
  removeError(kind: Kind, id: string, attempt: number, err: string): void;
}

export class Pruner {
  constructor(
    private readonly docker: RyukDocker,
    private readonly log: PruneLog,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  /** reaper.go resources(since): what matches each filter, and what changed after `since` (ms). */
  async select(filters: readonly FilterArgs[], since: number): Promise<Selection> {
    const sel: Selection = {
      resources: { containers: [], networks: [], volumes: [], images: [] },
      changes: [],
      errors: [],
    };
    const take = async <T>(
      what: string,
      list: () => Promise<T[]>,
      id: (t: T) => string,
      created: (t: T) => number,
      into: string[],
      skip?: (t: T) => boolean,
    ) => {
      let items: T[];
      try {
        items = await list();
      } catch (err) {
        this.log.listError(what, (err as Error).message);
        sel.errors.push(`${what}: ${(err as Error).message}`);
        return;
      }
      for (const t of items) {
        if (skip?.(t)) continue;
        if (created(t) > since) sel.changes.push(`${what.split(' ')[1]!.replace(/s$/, '')} ${id(t)}: changes detected`);
        else into.push(id(t));
      }
    };
    const d = this.docker;
    for (const f of filters) {
      const r = sel.resources;
      await take(
        'affected containers',
        () => d.listContainers(f),
        (c) => c.Id,
        (c) => c.Created * 1000,
        r.containers,
        (c) => c.Labels?.[RYUK_LABEL] === 'true',
      );
      await take(
        'affected networks',
        () => d.listNetworks(f),
        (n) => n.Id,
        (n) => Date.parse(n.Created) || 0,
        r.networks,
      );
      if (d.listVolumes)
        await take(
          'affected volumes',
          () => d.listVolumes!(f),
          (v) => v.Name,
          (v) => Date.parse(v.CreatedAt ?? '') || 0,
          r.volumes,
        );
      await take(
        'affected images',
        () => d.listImages(f),
        (i) => i.Id,
        (i) => i.Created * 1000,
        r.images,
      );
    }
    return sel;
  }

  /** reaper.go prune: containers first, then networks, volumes and images; `aborted()` stops between steps (SIGKILL). */
  async prune(res: Resources, retries: number, aborted: () => boolean): Promise<PruneReport> {
    const report: PruneReport = { counts: { container: 0, network: 0, volume: 0, image: 0 }, errors: [] };
    const d = this.docker;
    const steps: Array<[Kind, string[], ((id: string) => Promise<void>) | undefined]> = [
      ['container', res.containers, (id) => d.removeContainer(id)],
      ['network', res.networks, (id) => d.removeNetwork(id)],
      ['volume', res.volumes, d.removeVolume ? (id) => d.removeVolume!(id) : undefined],
      ['image', res.images, (id) => d.removeImage(id)],
    ];
    for (const [kind, ids, remove] of steps) {
      if (!remove || !ids.length || aborted()) continue;
      const left = await this.remove(kind, ids, remove, retries, aborted, report);
      if (left) report.errors.push(`${kind} left ${left} items`);
    }
    return report;
  }

  private async remove(
    kind: Kind,
    ids: string[],
    fn: (id: string) => Promise<void>,
    retries: number,
    aborted: () => boolean,
    report: PruneReport,
  ): Promise<number> {
    const todo = new Set(ids);
    for (let attempt = 1; attempt <= retries && todo.size && !aborted(); attempt++) {
      let retry = false;
      for (const id of [...todo]) {
        try {
          await fn(id);
          report.counts[kind]++;
          todo.delete(id);
        } catch (err) {
          if (categoryOf(err) === 'not-found') {
            todo.delete(id); // already removed
            continue;
          }
          this.log.removeError(kind, id, attempt, (err as Error).message);
          retry = true;
        }
      }
      if (retry && attempt < retries) await this.sleep(1000);
    }
    return todo.size;
  }
}
