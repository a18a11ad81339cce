/**
 * @module engine/images/service
 * Docker's image family on a server without an image store: kuber-api resolves references
 * against their registries (engine/registry) and keeps each image's config in Kubernetes
 * (engine/image-store); the kubelet pulls the layers when a container starts.
 *
 * Policy (`--image-metadata`):
 * - `best-effort` (default): `docker pull` reads the manifest and config from the registry; a
 *   registry that says the image does not exist (or denies it) fails the pull as dockerd would; a
 *   registry kuber-api cannot reach (network errors, timeouts) records the image by reference,
 *   without a config, instead of failing: kuber-api is a sidecar, and the kubelet, which pulls
 *   the layers, often reaches registries kuber-api's Pod cannot (node mirrors and proxies, egress
 *   NetworkPolicies). kube-sim's kubelet runs images from its catalogue without any registry.
 * - `registry`: strict, as dockerd: an unreachable registry fails the pull.
 * - `off`: registries are never contacted; pulls record the reference.
 * In every mode `docker create` does not require a pull (dockerd answers 404 and the docker CLI
 * pulls; API clients that never pulled worked on kuber-api before images had metadata, since the
 * kubelet pulls, and must keep working): an image kuber-api does not know is looked up (bounded by
 * `--image-lookup-timeout-ms`); if that fails, the container is created from its create body alone
 * (logged; the image's inspect Comment says why) and the image is recorded by reference. Only a
 * registry that answers "manifest unknown" / "repository not found" makes the create a 404 "No
 * such image", so that the docker CLI pulls and reports the registry's error.
 * In best-effort mode a pull is bounded by the lookup timeout too, and an unreachable registry
 * host is not asked again within `--image-failure-ttl-ms` (so `docker pull busybox` on a machine
 * without registry access answers at once).
 * Metadata older than `--image-cache-ttl-ms` is re-read at the next create (a failed lookup is
 * retried after `--image-failure-ttl-ms`); an explicit pull in registry mode always asks the registry.
 */
import { conflict, EngineError, invalid, notFound, systemError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { EventBus } from '../events/events.js';
import {
  parseRef,
  withDefaultTag,
  refString,
  familiarString,
  familiarName,
  repoName,
  tagged,
  digested,
  isFullId,
  registryHost,
  DOCKER_HUB,
  type ImageRef,
} from '../model/image-ref.js';
import { ImageStore, recordedId, type ImageEntry, type OciImageConfig, type ImageContainerConfig } from './store.js';
import { RegistryClient, RegistryError, parsePlatform, type ResolvedManifest } from './registry/registry.js';
import { proxyFromEnv, type ProxyConfig } from './registry/proxy.js';
import { defaultsOf, mergeImageConfig } from './config.js';
import type { ImageDefaults } from '../model/types.js';
import { imageInspectView, imageSummaryView } from './views.js';
import { matchLabels } from '../model/filters.js';
import type { CreateBody } from '../model/types.js';
import type { RegistryAuth } from '../backend/images.js';
import type { ProgressMessage, PullOptions } from '../backend/images.js';
import { parseUntrusted } from '../model/own-keys.js';
import { FailureMemo, type Failure } from './failure-memo.js';

export type ImageMetadataMode = 'registry' | 'best-effort' | 'off';

export interface ImageServiceOptions {
  mode: ImageMetadataMode;
  mirrors: readonly string[];
  insecure: readonly string[];
  /** Per registry request during a pull (ms). */
  registryTimeoutMs: number;
  /** A create-time lookup of an unknown (or stale) image gives up after this long (ms). */
  lookupTimeoutMs: number;
  /** Metadata read longer ago than this is re-read at the next create (ms; 0 = never). */
  cacheTtlMs: number;
  /** A failed create-time lookup is not retried for this long (ms). */
  failureTtlMs: number;
  /** Failed lookups remembered at most (engine/images/failure-memo.ts). */
  failureCacheEntries: number;
  /** Registry bearer tokens kept at most (`--registry-token-cache-entries`). */
  tokenCacheEntries: number;
  userAgent: string;
  /** Registry requests' proxies; default: HTTP(S)_PROXY / NO_PROXY from the environment, as dockerd. */
  proxy?: ProxyConfig;
}

/** What a container uses of its image (kept in the container record). */
export interface ContainerImage {
  id: string;
  defaults?: ImageDefaults;
  /** What the Pod pulls: the reference pinned to its digest, or a name for an image named by ID. */
  pullRef?: string;
}

/** A container using an image (for rmi conflicts and the Containers count). */
export interface ImageUser {
  id: string;
  imageId: string;
  image: string;
  running: boolean;
}

export interface ImageHost {
  events: EventBus;
  log: Logger;
  /** Every container with the image it was created from. */
  users(): ImageUser[];
  /** Credentials remembered for a registry domain (from earlier pulls), if any. */
  credentials?(domain: string): RegistryAuth | undefined;
  /** A pull with credentials succeeded: remember them for the domain. */
  rememberCredentials?(domain: string, auth: RegistryAuth): Promise<void>;
}

/** Large configs (long histories) are trimmed to fit a ConfigMap (1 MiB). */
const MAX_STORED_CONFIG = 900 * 1024;

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

export class ImageService {
  readonly registry: RegistryClient;
  private readonly lookupRegistry: RegistryClient;
  private mutex: Promise<unknown> = Promise.resolve();
  private readonly failures: FailureMemo<RegistryError>;

  constructor(
    readonly store: ImageStore,
    private readonly host: ImageHost,
    readonly opts: ImageServiceOptions,
  ) {
    this.failures = new FailureMemo({ ttlMs: opts.failureTtlMs, maxEntries: opts.failureCacheEntries });
    const base = {
      mirrors: opts.mirrors,
      insecure: opts.insecure,
      userAgent: opts.userAgent,
      proxy: opts.proxy ?? proxyFromEnv(),
      tokenCacheEntries: opts.tokenCacheEntries,
    };
    this.registry = new RegistryClient({ ...base, timeoutMs: opts.registryTimeoutMs });
    this.lookupRegistry = new RegistryClient({ ...base, timeoutMs: opts.lookupTimeoutMs });
  }

  /** The mode in force. */
  mode(): Promise<ImageMetadataMode> {
    return Promise.resolve(this.opts.mode);
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.mutex.catch(() => {}).then(fn);
    this.mutex = next.catch(() => {});
    return next;
  }

  // ------------------------------------------------------------------ lookup

  /**
   * moby GetImage: a reference (tag or digest) first, then an ID or unique ID prefix. Undefined
   * when absent (or an ambiguous prefix).
   */
  find(nameOrId: string): ImageEntry | undefined {
    const all = this.store.all();
    const s = nameOrId.trim();
    if (isFullId(s)) {
      const id = s.startsWith('sha256:') ? s : `sha256:${s}`;
      return all.find((e) => e.id === id);
    }
    let ref: ImageRef | undefined;
    try {
      ref = withDefaultTag(parseRef(s));
    } catch {
      ref = undefined;
    }
    if (ref) {
      const r = refString(ref);
      const hit = ref.digest
        ? all.find(
            (e) =>
              e.repoDigests.includes(`${repoName(ref!)}@${ref!.digest}`) ||
              (ref!.tag !== undefined && e.repoTags.includes(refString(tagged(ref!, ref!.tag)))),
          )
        : all.find((e) => e.repoTags.includes(r));
      if (hit) return hit;
    }
    const hex = /^(?:sha256:)?([0-9a-f]{1,64})$/.exec(s)?.[1];
    if (hex) {
      const byPrefix = all.filter((e) => e.id.slice(7).startsWith(hex));
      if (byPrefix.length === 1) return byPrefix[0];
    }
    return undefined;
  }

  /** The seam for the rest of the engine: an image's container defaults, if kuber-api knows them. */
  imageConfig(ref: string): { id: string; config?: ImageContainerConfig } | undefined {
    const e = this.find(ref);
    return e ? { id: e.id, ...(e.config?.config ? { config: e.config.config } : {}) } : undefined;
  }

  count(): number {
    return this.store.all().length;
  }

  // ------------------------------------------------------------------ inspect / list

  async inspect(name: string, apiVersion: string): Promise<unknown> {
    const e = this.find(name);
    if (!e) throw notFound(`No such image: ${name}`);
    return imageInspectView(e, apiVersion);
  }

  async list(opts: { all?: boolean; filters: Record<string, string[]> }, apiVersion: string): Promise<unknown[]> {
    const f = opts.filters;
    for (const k of Object.keys(f))
      if (!['dangling', 'label', 'label!', 'reference', 'before', 'since', 'until'].includes(k))
        throw invalid(`invalid filter '${k}'`);
    const dangling = f.dangling?.[0];
    if (dangling !== undefined && !['true', 'false', '1', '0'].includes(dangling))
      throw invalid(`invalid filter 'dangling=${dangling}'`);
    const bound = (k: 'before' | 'since') => {
      const v = f[k]?.[0];
      if (v === undefined) return undefined;
      const e = this.find(v);
      if (!e) throw notFound(`No such image: ${v}`);
      return Date.parse(e.config?.created ?? '') || 0;
    };
    const before = bound('before');
    const since = bound('since');
    const until = f.until?.[0] !== undefined ? untilMs(f.until[0]) : undefined;
    const uses = new Map<string, number>();
    for (const u of this.host.users()) uses.set(u.imageId, (uses.get(u.imageId) ?? 0) + 1);
    const out: Array<{ created: number; view: unknown }> = [];
    for (const e of this.store.all()) {
      const isDangling = e.repoTags.length === 0 && e.repoDigests.length === 0;
      if (dangling !== undefined && (dangling === 'true' || dangling === '1') !== isDangling) continue;
      const labels = e.config?.config?.Labels ?? {};
      if (f.label && !matchLabels(f.label, labels)) continue;
      if (f['label!']?.some((l) => matchLabels([l], labels))) continue;
      const created = Date.parse(e.config?.created ?? '') || 0;
      if (before !== undefined && !(created < before)) continue;
      if (since !== undefined && !(created > since)) continue;
      if (until !== undefined && !(created < until)) continue;
      let shown = e;
      if (f.reference?.length) {
        // moby images.go: only the references that match are listed; an image with none is skipped.
        const match = (r: string) => f.reference!.some((pat) => referenceMatches(pat, r));
        shown = { ...e, repoTags: e.repoTags.filter(match), repoDigests: e.repoDigests.filter(match) };
        if (!shown.repoTags.length && !shown.repoDigests.length) continue;
      }
      out.push({ created, view: imageSummaryView(shown, uses.get(e.id) ?? 0, apiVersion) });
    }
    return out.sort((a, b) => b.created - a.created).map((x) => x.view);
  }

  // ------------------------------------------------------------------ pull

  /**
   * POST /images/create. Rejects before the first `progress` call when the reference cannot be
   * resolved (the handler answers with the error status, as moby does before any output);
   * a failure after that rejects too and the handler writes it as an `errorDetail` line.
   */
  async pull(raw: string, opts: PullOptions, progress: (m: ProgressMessage) => void): Promise<void> {
    const ref = withDefaultTag(parseRef(raw));
    const idOf = ref.digest ?? ref.tag ?? 'latest';
    const platform = parsePlatform(opts.platform);
    const mode = await this.mode();
    let manifest: ResolvedManifest | undefined;
    let unreachable: RegistryError | undefined;
    // best-effort (kube-sim by default) must not make `docker pull` wait long on a registry that
    // cannot be reached: the lookup timeout bounds it, and a registry host that just failed is
    // not asked again within --image-failure-ttl-ms.
    const client = mode === 'best-effort' ? this.lookupRegistry : this.registry;
    const earlier = mode === 'best-effort' ? this.hostFailed(ref) : undefined;
    if (earlier)
      unreachable = new RegistryError(
        'unreachable',
        `a request to ${registryHost(ref)} failed less than ${Math.ceil(this.opts.failureTtlMs / 1000)} s ago: ${earlier.message}`,
      );
    else if (mode !== 'off') {
      try {
        manifest = await client.resolveManifest(ref, {
          auth: opts.auth ?? this.host.credentials?.(ref.domain),
          ...(platform ? { platform } : {}),
        });
      } catch (err) {
        if (!(err instanceof RegistryError)) throw err;
        if (mode === 'best-effort' && err.kind === 'unreachable') {
          unreachable = err;
          this.noteFailure(ref, err);
        } else throw registryEngineError(err, ref);
      }
    }
    progress({ status: `Pulling from ${ref.path}`, id: idOf });
    if (!manifest) {
      const why = unreachable
        ? `the registry could not be reached (${unreachable.message})`
        : 'kuber-api does not contact registries (--image-metadata off)';
      const existing = this.find(refString(ref));
      if (existing && existing.source === 'registry') {
        progress({ status: `${why}: keeping the configuration read on ${new Date(existing.fetchedAt).toISOString()}` });
        progress({ status: `Status: Image is up to date for ${familiarString(ref)}` });
        return;
      }
      progress({
        status: `${why}: recorded without its configuration; the kubelet pulls the image when a container starts`,
      });
      const { upToDate } = await this.commit(ref, {
        id: recordedId(refString(ref)),
        source: 'recorded',
        size: 0,
        digest: undefined,
        note: `configuration not read: ${why}`,
      });
      this.host.events.publish('image', 'pull', familiarString(ref), { name: familiarString(ref) });
      progress({
        status: `Status: ${upToDate ? 'Image is up to date' : 'Downloaded newer image'} for ${familiarString(ref)}`,
      });
      return;
    }
    if (opts.auth && this.host.rememberCredentials)
      await this.host
        .rememberCredentials(ref.domain, opts.auth)
        .catch((err) => this.host.log.warn({ err, domain: ref.domain }, 'could not keep the registry credentials'));
    for (const l of manifest.layers)
      progress({ status: 'Not downloaded: the kubelet pulls layers', progressDetail: {}, id: short(l.digest) });
    const blob = await client.fetchConfig(manifest, ref, opts.auth ?? this.host.credentials?.(ref.domain));
    const { upToDate } = await this.commit(ref, fromRegistry(manifest, blob));
    this.host.events.publish('image', 'pull', familiarString(ref), {
      name: familiarString(ref),
      ...(labelsOf(blob) ?? {}),
    });
    progress({ status: `Digest: ${manifest.digest}` });
    progress({
      status: `Status: ${upToDate ? 'Image is up to date' : 'Downloaded newer image'} for ${familiarString(ref)}`,
    });
  }

  /**
   * Store an image under `ref`: add the tag (or digest reference) and the repo digest, move the
   * tag away from the image that had it (which is deleted if nothing else refers to it). Returns
   * whether the image already carried this reference (`Image is up to date`).
   */
  private commit(
    ref: ImageRef,
    img: {
      id: string;
      configBlob?: string;
      config?: OciImageConfig;
      source: ImageEntry['source'];
      size: number;
      layers?: ImageEntry['layers'];
      digest: string | undefined;
      note?: string;
    },
  ): Promise<{ upToDate: boolean; entry: ImageEntry }> {
    return this.locked(async () => {
      const existing = this.store.byId(img.id);
      const tags = new Set(existing?.repoTags ?? []);
      const digests = new Set(existing?.repoDigests ?? []);
      const tagRef = ref.tag !== undefined && ref.digest === undefined ? refString(tagged(ref, ref.tag)) : undefined;
      const digestRef = ref.digest
        ? refString(digested(ref, ref.digest))
        : img.digest
          ? refString(digested(ref, img.digest))
          : undefined;
      const upToDate = !!existing && (tagRef ? tags.has(tagRef) : !!digestRef && digests.has(digestRef));
      const now = new Date().toISOString();
      if (tagRef) tags.add(tagRef);
      if (digestRef) digests.add(digestRef);
      const entry: ImageEntry = {
        id: img.id,
        repoTags: [...tags].sort(),
        repoDigests: [...digests].sort(),
        ...(img.configBlob && img.config
          ? { configBlob: img.configBlob, config: img.config }
          : existing?.configBlob
            ? { configBlob: existing.configBlob, config: existing.config }
            : {}),
        source: img.source,
        size: img.size || existing?.size || 0,
        ...(img.layers ? { layers: img.layers } : existing?.layers ? { layers: existing.layers } : {}),
        fetchedAt: Date.now(),
        ...(tagRef && !tags.has(tagRef)
          ? { lastTagTime: now }
          : existing?.lastTagTime
            ? { lastTagTime: existing.lastTagTime }
            : tagRef
              ? { lastTagTime: now }
              : {}),
        ...(img.note ? { note: img.note } : {}),
      };
      if (tagRef) await this.moveTag(tagRef, img.id);
      const saved = await this.store.save(entry);
      return { upToDate, entry: saved };
    });
  }

  /** Take `tagRef` away from any other image; an image left without references and unused is deleted. */
  private async moveTag(tagRef: string, toId: string): Promise<void> {
    for (const other of this.store.all()) {
      if (other.id === toId || !other.repoTags.includes(tagRef)) continue;
      const rest = { ...other, repoTags: other.repoTags.filter((t) => t !== tagRef) };
      const used = this.host.users().some((u) => u.imageId === other.id);
      if (!rest.repoTags.length && !used) {
        // A previous version of the tag that no container uses: gone, as `docker image prune` would.
        await this.store.remove(other);
        this.host.events.publish('image', 'untag', other.id, { name: other.id });
        this.host.events.publish('image', 'delete', other.id, { name: other.id });
      } else {
        await this.store.save(rest);
        this.host.events.publish('image', 'untag', other.id, { name: other.id });
      }
    }
  }

  // ------------------------------------------------------------------ create

  /**
   * The image side of `docker create`: find (or look up) the image and merge its defaults into
   * the create body. Never needs a registry (see the module comment).
   */
  async prepareCreate(
    body: CreateBody,
    platform?: string,
  ): Promise<{ config: CreateBody; image?: ContainerImage; warnings: string[] }> {
    const name = typeof body.Image === 'string' ? body.Image : '';
    if (!name) return { config: body, warnings: [] };
    const warnings: string[] = [];
    let entry = this.find(name);
    const isId = !entry && /^(sha256:)?[0-9a-f]{12,64}$/.test(name) && !name.includes('/');
    if (isId) throw notFound(`No such image: ${name}`);
    let ref: ImageRef;
    try {
      ref = withDefaultTag(parseRef(name));
    } catch (err) {
      if (entry) return this.merged(body, entry, warnings);
      throw err;
    }
    const mode = await this.mode();
    const stale = (e: ImageEntry) => {
      const ttl = e.source === 'recorded' ? this.opts.failureTtlMs : this.opts.cacheTtlMs;
      return ttl > 0 && Date.now() - e.fetchedAt > ttl;
    };
    if (mode !== 'off' && (!entry || stale(entry)) && !this.recentlyFailed(ref)) {
      try {
        const found = await this.lookup(ref, platform);
        entry = found;
      } catch (err) {
        const re = err instanceof RegistryError ? err : undefined;
        this.noteFailure(ref, re);
        if (re?.definitive && !entry) {
          // The registry says there is no such image, or not without credentials: as dockerd (the
          // CLI then pulls, with the credentials of `docker login`, and shows the registry's answer).
          throw notFound(`No such image: ${familiarString(ref)}`);
        }
        // No create warning: the docker CLI prints warnings on stderr, and `docker run busybox`
        // on a cluster without registry access must print what dockerd prints. The image's
        // inspect Comment says why its configuration is missing; the log says it here.
        const why = (err as Error).message;
        this.host.log.info(
          { image: familiarString(ref), err: why, stale: !!entry },
          entry
            ? 'image lookup failed at create: using the configuration read earlier'
            : 'image lookup failed at create: created from the create request alone',
        );
      }
    }
    if (!entry) {
      entry = (
        await this.commit(ref, {
          id: recordedId(refString(ref)),
          source: 'recorded',
          size: 0,
          digest: undefined,
          note:
            mode === 'off'
              ? 'configuration not read: kuber-api does not contact registries (--image-metadata off)'
              : 'configuration not read: the registry lookup at create failed',
        })
      ).entry;
    }
    return this.merged(body, entry, warnings);
  }

  private merged(
    body: CreateBody,
    entry: ImageEntry,
    warnings: string[],
  ): { config: CreateBody; image: ContainerImage; warnings: string[] } {
    const c = entry.config?.config;
    const pullRef = pullRefOf(typeof body.Image === 'string' ? body.Image : '', entry);
    return {
      config: mergeImageConfig(body, c),
      image: { id: entry.id, ...(c ? { defaults: defaultsOf(c) } : {}), ...(pullRef ? { pullRef } : {}) },
      warnings,
    };
  }

  /** A create-time lookup: manifest + config within the lookup timeout, committed like a pull. */
  private async lookup(ref: ImageRef, platform?: string): Promise<ImageEntry> {
    const p = parsePlatform(platform);
    const auth = this.host.credentials?.(ref.domain);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RegistryError('unreachable', `no answer within ${this.opts.lookupTimeoutMs} ms`)),
        this.opts.lookupTimeoutMs,
      );
      timer.unref();
    });
    try {
      const manifest = await Promise.race([
        this.lookupRegistry.resolveManifest(ref, { ...(auth ? { auth } : {}), ...(p ? { platform: p } : {}) }),
        timeout,
      ]);
      const blob = await Promise.race([this.lookupRegistry.fetchConfig(manifest, ref, auth), timeout]);
      const { entry } = await this.commit(ref, fromRegistry(manifest, blob));
      this.host.events.publish('image', 'pull', familiarString(ref), {
        name: familiarString(ref),
        ...(labelsOf(blob) ?? {}),
      });
      return entry;
    } finally {
      clearTimeout(timer);
    }
  }

  private recentlyFailed(ref: ImageRef): boolean {
    return this.failed(refString(ref)) !== undefined || this.hostFailed(ref) !== undefined;
  }

  /** The error of the registry host of `ref` if it was unreachable within --image-failure-ttl-ms. */
  private hostFailed(ref: ImageRef): RegistryError | undefined {
    return this.failed(`host:${ref.domain}`)?.err;
  }

  private failed(key: string): Failure<RegistryError> | undefined {
    return this.failures.get(key);
  }

  /** Remember a failed lookup: an unreachable registry for every image it serves, anything else per reference. */
  private noteFailure(ref: ImageRef, err: RegistryError | undefined): void {
    this.failures.note(err?.kind === 'unreachable' ? `host:${ref.domain}` : refString(ref), err);
  }

  // ------------------------------------------------------------------ login

  /**
   * POST /auth (`docker login`): check the credentials against the registry as dockerd does, then
   * keep them for the kubelet (engine/images/registry/credentials.ts). With `--image-metadata off` they
   * are kept unchecked (kuber-api does not contact registries).
   */
  async login(auth: RegistryAuth): Promise<{ Status: string; IdentityToken: string }> {
    const domain = loginDomain(auth.serveraddress);
    if ((await this.mode()) !== 'off') {
      try {
        await this.registry.login(domain, auth);
      } catch (err) {
        if (!(err instanceof RegistryError)) throw err;
        if (err.kind === 'unauthorized') throw new EngineError('unauthorized', err.message, { cause: err });
        throw systemError(err.message, err);
      }
    }
    await this.host.rememberCredentials?.(domain, auth);
    // Lookups refused before these credentials may succeed now.
    this.failures.clear();
    return { Status: 'Login Succeeded', IdentityToken: '' };
  }

  // ------------------------------------------------------------------ tag / remove

  /** POST /images/{name}/tag?repo=&tag= */
  async tag(name: string, repo: string, tag: string | undefined): Promise<void> {
    let target = parseRef(repo);
    if (tag) {
      if (target.tag !== undefined || target.digest !== undefined) throw invalid(`invalid reference format`);
      target = { ...target, tag };
      parseRef(`${repoName(target)}:${tag}`);
    }
    if (target.digest !== undefined) throw invalid('refusing to create a tag with a digest reference');
    target = withDefaultTag(target);
    const tagRef = refString(target);
    await this.locked(async () => {
      const e = this.find(name);
      if (!e) throw notFound(`No such image: ${name}`);
      if (e.repoTags.includes(tagRef)) return;
      await this.moveTag(tagRef, e.id);
      const fresh = this.store.byId(e.id) ?? e;
      await this.store.save({
        ...fresh,
        repoTags: [...fresh.repoTags, tagRef].sort(),
        lastTagTime: new Date().toISOString(),
      });
      this.host.events.publish('image', 'tag', e.id, { name: familiarString(target) });
    });
  }

  /** DELETE /images/{name}?force=: moby daemon/images/image_delete.go ImageDelete. */
  async remove(name: string, opts: { force: boolean }): Promise<Array<{ Untagged?: string; Deleted?: string }>> {
    return this.locked(async () => {
      const e = this.find(name);
      if (!e) throw notFound(`No such image: ${name}`);
      const records: Array<{ Untagged?: string; Deleted?: string }> = [];
      const users = this.host.users().filter((u) => u.imageId === e.id);
      let cur: ImageEntry = e;
      const untag = (ref: string) => {
        records.push({ Untagged: familiarString(withDefaultTag(parseRef(ref))) });
        this.host.events.publish('image', 'untag', e.id, { name: e.id });
      };
      const byId = isIdPrefix(e.id, name);
      const refs = () => [...cur.repoTags, ...cur.repoDigests];
      const singleRepo = () => cur.repoTags.length <= 1 && new Set(refs().map((r) => repoName(parseRef(r)))).size <= 1;
      let quiet = false;
      if (!byId) {
        const ref = withDefaultTag(parseRef(name));
        if (!opts.force && singleRepo() && users.length) {
          throw conflict(
            `conflict: unable to remove repository reference "${name}" (must force) - container ${users[0]!.id.slice(0, 12)} is using its referenced image ${short(e.id)}`,
          );
        }
        const r = refString(ref);
        const tags = cur.repoTags.filter((t) => t !== r);
        let digests = cur.repoDigests.filter((d) => d !== r);
        untag(r);
        if (ref.digest === undefined && !tags.some((t) => repoName(parseRef(t)) === repoName(ref))) {
          // The last tag of a repository takes that repository's digest references with it.
          for (const d of digests.filter((d) => repoName(parseRef(d)) === repoName(ref))) untag(d);
          digests = digests.filter((d) => repoName(parseRef(d)) !== repoName(ref));
        }
        cur = { ...cur, repoTags: tags, repoDigests: digests };
        if (refs().length) {
          await this.store.save(cur);
          return records;
        }
        quiet = true;
      } else if (singleRepo()) {
        const c = this.deleteConflict(cur, users, opts.force, false);
        if (c) throw c;
        for (const r of refs()) untag(r);
        cur = { ...cur, repoTags: [], repoDigests: [] };
      }
      const c = this.deleteConflict(cur, users, opts.force, true);
      if (c) {
        if (quiet && users.length) {
          // The reference is gone; the image stays (dangling) for the containers using it.
          await this.store.save(cur);
          return records;
        }
        throw c;
      }
      for (const r of refs()) untag(r);
      await this.store.remove(e);
      records.push({ Deleted: e.id });
      this.host.events.publish('image', 'delete', e.id, { name: e.id });
      return records;
    });
  }

  private deleteConflict(
    e: ImageEntry,
    users: ImageUser[],
    force: boolean,
    withRefs: boolean,
  ): EngineError | undefined {
    const running = users.find((u) => u.running);
    if (running)
      return conflict(
        `conflict: unable to delete ${short(e.id)} (cannot be forced) - image is being used by running container ${running.id.slice(0, 12)}`,
      );
    if (force) return undefined;
    if (users.length)
      return conflict(
        `conflict: unable to delete ${short(e.id)} (must be forced) - image is being used by stopped container ${users[0]!.id.slice(0, 12)}`,
      );
    if (withRefs && e.repoTags.length + e.repoDigests.length > 0)
      return conflict(
        `conflict: unable to delete ${short(e.id)} (must be forced) - image is referenced in multiple repositories`,
      );
    return undefined;
  }

  /** POST /images/prune: dangling images (all unused ones with dangling=false) that no container uses. */
  async prune(
    filters: Record<string, string[]>,
  ): Promise<{ ImagesDeleted: Array<{ Untagged?: string; Deleted?: string }>; SpaceReclaimed: number }> {
    for (const k of Object.keys(filters))
      if (!['dangling', 'label', 'label!', 'until'].includes(k)) throw invalid(`invalid filter '${k}'`);
    const onlyDangling = !['false', '0'].includes(filters.dangling?.[0] ?? 'true');
    const until = filters.until?.[0] !== undefined ? untilMs(filters.until[0]) : undefined;
    const deleted: Array<{ Untagged?: string; Deleted?: string }> = [];
    let reclaimed = 0;
    await this.locked(async () => {
      const used = new Set(this.host.users().map((u) => u.imageId));
      for (const e of this.store.all()) {
        if (used.has(e.id)) continue;
        if (onlyDangling && (e.repoTags.length || e.repoDigests.length)) continue;
        const labels = e.config?.config?.Labels ?? {};
        if (filters.label && !matchLabels(filters.label, labels)) continue;
        if (filters['label!']?.some((l) => matchLabels([l], labels))) continue;
        if (until !== undefined && !((Date.parse(e.config?.created ?? '') || 0) < until)) continue;
        for (const r of [...e.repoTags, ...e.repoDigests])
          deleted.push({ Untagged: familiarString(withDefaultTag(parseRef(r))) });
        await this.store.remove(e);
        deleted.push({ Deleted: e.id });
        reclaimed += e.size;
        this.host.events.publish('image', 'delete', e.id, { name: e.id });
      }
    });
    this.host.events.publish('image', 'prune', '', { reclaimed: String(reclaimed) });
    return { ImagesDeleted: deleted, SpaceReclaimed: reclaimed };
  }
}

function fromRegistry(
  m: ResolvedManifest,
  blob: Buffer,
): {
  id: string;
  configBlob: string;
  config: OciImageConfig;
  source: 'registry';
  size: number;
  layers: ImageEntry['layers'];
  digest: string;
} {
  let text = blob.toString('utf8');
  let config: OciImageConfig;
  try {
    config = parseUntrusted<OciImageConfig>(text);
  } catch {
    throw systemError(`the image config ${m.config.digest} is not valid JSON`);
  }
  if (text.length > MAX_STORED_CONFIG) {
    // Only the history makes configs this large; the ID stays the digest of the original blob.
    const { history: _h, ...rest } = config;
    text = JSON.stringify(rest);
  }
  return {
    id: m.config.digest,
    configBlob: text,
    config,
    source: 'registry',
    size: m.layers.reduce((n, l) => n + l.size, 0),
    layers: m.layers.map((l) => ({ digest: l.digest, size: l.size })),
    digest: m.digest,
  };
}

function labelsOf(blob: Buffer): Record<string, string> | undefined {
  try {
    return parseUntrusted<OciImageConfig>(blob.toString('utf8')).config?.Labels ?? undefined;
  } catch {
    return undefined;
  }
}

/** moby isImageIDPrefix. */
function isIdPrefix(id: string, ref: string): boolean {
  return id.startsWith(ref) || (ref.length > 0 && id.slice(7).startsWith(ref));
}

/** The `reference` filter: a glob on the familiar name, with or without the tag (moby images list). */
export function referenceMatches(pattern: string, normalisedTagRef: string): boolean {
  const r = withDefaultTag(parseRef(normalisedTagRef));
  const candidates = [familiarString(r), familiarName(r), refString(r), repoName(r)];
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]')}$`,
  );
  return candidates.some((c) => re.test(c));
}

function untilMs(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const d = /^(\d+)(s|m|h)$/.exec(v);
  if (d) return Date.now() - Number(d[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[d[2] as 's' | 'm' | 'h'];
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw invalid(`invalid filter 'until=${v}'`);
  return t;
}

/** A registry failure as the error dockerd answers a pull with (404 for "no such image" answers). */
export function registryEngineError(err: RegistryError, ref: ImageRef): EngineError {
  if (err.definitive) return notFound(err.message, err);
  if (err.kind === 'unreachable') {
    return systemError(
      `${err.message} (kuber-api reads image configurations from the registry; if the cluster can pull ${familiarString(ref)} without it, start kuber-api with --image-metadata best-effort, or point --registry-mirror at a registry it can reach)`,
      err,
    );
  }
  return systemError(err.message, err);
}

/**
 * The registry domain of a login's `serveraddress` (moby registry.ConvertToHostname; Docker Hub's
 * index addresses and an empty address are docker.io).
 */
export function loginDomain(serveraddress: string | undefined): string {
  const host = (serveraddress ?? '')
    .trim()
    .replace(/^https?:\/\//, '')
    .replace(/\/.*$/, '');
  return !host || ['index.docker.io', 'docker.io', 'registry-1.docker.io', 'registry.hub.docker.com'].includes(host)
    ? DOCKER_HUB
    : host;
}

/**
 * The reference the kubelet should pull for a container created as `name` from `entry`: a tag
 * pinned to the digest kuber-api resolved for that repository (`docker.io/library/busybox:latest@sha256:...`,
 * a form the kubelet and containerd accept); for an image named by ID, a reference of the image
 * (dockerd runs IDs, the kubelet only pulls names). Undefined: the name as given.
 */
export function pullRefOf(name: string, entry: ImageEntry): string | undefined {
  let ref: ImageRef | undefined;
  try {
    ref = withDefaultTag(parseRef(name));
  } catch {
    ref = undefined;
  }
  if (ref?.digest) return undefined;
  if (ref && entry.repoTags.includes(refString(ref))) {
    const digest = entry.repoDigests.map((d) => parseRef(d)).find((d) => repoName(d) === repoName(ref!))?.digest;
    return digest ? refString({ ...ref, digest }) : undefined;
  }
  return isIdPrefix(entry.id, name.trim()) ? (entry.repoDigests[0] ?? entry.repoTags[0]) : undefined;
}
