/**
 * @module engine/images/store
 * The images kuber-api "has", kept in Kubernetes: one ConfigMap per image ID, labelled with the
 * instance and `kuber-api.io/kind=image`, so that pulled images (and their configs) survive a
 * restart exactly as containers do. The ConfigMap's `data["config.json"]` is the image config blob
 * as the registry served it (its sha256 is the image ID, so it can be re-verified); annotations
 * hold the references (RepoTags, RepoDigests as normalised references), where it came from, its
 * size and when it was read (the metadata cache's TTL). A watch cache gives the view; writes are
 * merge patches with the resourceVersion as precondition.
 *
 * kuber-api keeps no layers: the kubelet pulls them. An image whose config could not be read
 * (an unreachable registry with `--image-metadata best-effort`/`off`) is "recorded": it has an ID
 * derived from its reference and no config, and containers made from it get the create body only.
 */
import { createHash } from 'node:crypto';
import { recordedId } from '../model/image-names.js';
import type { Kube } from '../../kube/index.js';
import type { KObject, WatchCache } from '../../kube/cache.js';
import { isAlreadyExists, isAmbiguous, isConflict, isNotFound } from '../../kube/client.js';
import { LABEL_INSTANCE, LABEL_KIND, LABEL_MANAGED_BY } from '../model/record.js';
import { parseUntrusted } from '../model/own-keys.js';
import { podOwnerRefs } from '../model/owner.js';

export const ANN_IMAGE_ID = 'kuber-api.io/image-id';
export const ANN_REPO_TAGS = 'kuber-api.io/repo-tags';
export const ANN_REPO_DIGESTS = 'kuber-api.io/repo-digests';
export const ANN_IMAGE_SOURCE = 'kuber-api.io/image-source';
export const ANN_IMAGE_SIZE = 'kuber-api.io/image-size';
export const ANN_IMAGE_FETCHED = 'kuber-api.io/image-fetched';
export const ANN_IMAGE_TAGGED = 'kuber-api.io/image-tagged';
export const ANN_IMAGE_NOTE = 'kuber-api.io/image-note';
/** The platform manifest's layers, `[[digest, size], ...]` (image history sizes, /etc/passwd lookups). */
export const ANN_IMAGE_LAYERS = 'kuber-api.io/image-layers';
const CONFIG_KEY = 'config.json';

/** The OCI image config (image-spec config.md; Docker's image JSON v1.2 is a superset). */
export interface OciImageConfig {
  created?: string;
  author?: string;
  architecture?: string;
  os?: string;
  variant?: string;
  'os.version'?: string;
  config?: ImageContainerConfig;
  rootfs?: { type?: string; diff_ids?: string[] };
  history?: unknown[];
  // Docker-only fields
  comment?: string;
  docker_version?: string;
  container?: string;
  container_config?: Record<string, unknown>;
}

/** The `config` section: the defaults a container gets (moby api/types/container Config subset). */
export interface ImageContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object> | null;
  Env?: string[] | null;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  Healthcheck?: {
    Test?: string[];
    Interval?: number;
    Timeout?: number;
    StartPeriod?: number;
    StartInterval?: number;
    Retries?: number;
  } | null;
  OnBuild?: string[] | null;
  Shell?: string[] | null;
  ArgsEscaped?: boolean;
  [k: string]: unknown;
}

export type ImageSource = 'registry' | 'recorded';

export interface ImageEntry {
  /** `sha256:<64 hex>`: the config digest, or for recorded images a digest of the reference. */
  id: string;
  /** Normalised references with a tag (`docker.io/library/busybox:latest`). */
  repoTags: string[];
  /** Normalised references with a digest (`docker.io/library/busybox@sha256:...`). */
  repoDigests: string[];
  /** The config blob as served, when known. */
  configBlob?: string;
  config?: OciImageConfig;
  source: ImageSource;
  /** Sum of the (compressed) layer sizes in the manifest. */
  size: number;
  /** The manifest's layers in order (digest and compressed size), when read from a registry. */
  layers?: Array<{ digest: string; size: number }>;
  /** When the metadata was read from the registry (ms since epoch): the cache TTL runs from here. */
  fetchedAt: number;
  /** moby Metadata.LastTagTime (RFC 3339), when a tag was last added. */
  lastTagTime?: string;
  /** Why there is no config (recorded images), shown as the inspect Comment. */
  note?: string;
  object?: { name: string; resourceVersion: string };
}

export function imageSelector(instance: string): string {
  return `${LABEL_INSTANCE}=${instance},${LABEL_KIND}=image`;
}

export { recordedId };

export function decodeImage(cm: KObject): ImageEntry | undefined {
  const a = cm.metadata.annotations ?? {};
  const id = a[ANN_IMAGE_ID];
  if (!id || !/^sha256:[0-9a-f]{64}$/.test(id)) return undefined;
  const list = (v: string | undefined) => {
    try {
      const x = JSON.parse(v ?? '[]') as unknown;
      return Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : [];
    } catch {
      return [];
    }
  };
  const blob = (cm.data as Record<string, string> | undefined)?.[CONFIG_KEY];
  let config: OciImageConfig | undefined;
  if (blob) {
    try {
      config = parseUntrusted<OciImageConfig>(blob);
    } catch {
      config = undefined;
    }
  }
  const source = (a[ANN_IMAGE_SOURCE] as ImageSource) ?? 'registry';
  return {
    id,
    repoTags: list(a[ANN_REPO_TAGS]),
    repoDigests: list(a[ANN_REPO_DIGESTS]),
    ...(blob && config ? { configBlob: blob, config } : {}),
    source: ['registry', 'recorded'].includes(source) ? source : 'registry',
    size: Number(a[ANN_IMAGE_SIZE]) || 0,
    ...layersOf(a[ANN_IMAGE_LAYERS]),
    fetchedAt: Date.parse(a[ANN_IMAGE_FETCHED] ?? '') || 0,
    ...(a[ANN_IMAGE_TAGGED] ? { lastTagTime: a[ANN_IMAGE_TAGGED] } : {}),
    ...(a[ANN_IMAGE_NOTE] ? { note: a[ANN_IMAGE_NOTE] } : {}),
    object: { name: cm.metadata.name, resourceVersion: cm.metadata.resourceVersion ?? '' },
  };
}

function annotations(e: ImageEntry): Record<string, string | null> {
  return {
    [ANN_IMAGE_ID]: e.id,
    [ANN_REPO_TAGS]: JSON.stringify(e.repoTags),
    [ANN_REPO_DIGESTS]: JSON.stringify(e.repoDigests),
    [ANN_IMAGE_SOURCE]: e.source,
    [ANN_IMAGE_SIZE]: String(e.size),
    [ANN_IMAGE_FETCHED]: new Date(e.fetchedAt).toISOString(),
    [ANN_IMAGE_TAGGED]: e.lastTagTime ?? null,
    [ANN_IMAGE_NOTE]: e.note ?? null,
    [ANN_IMAGE_LAYERS]: e.layers ? JSON.stringify(e.layers.map((l) => [l.digest, l.size])) : null,
  };
}

function layersOf(v: string | undefined): { layers?: Array<{ digest: string; size: number }> } {
  if (!v) return {};
  try {
    const x = JSON.parse(v) as unknown;
    if (!Array.isArray(x)) return {};
    return {
      layers: x
        .filter((l): l is [string, number] => Array.isArray(l) && typeof l[0] === 'string' && typeof l[1] === 'number')
        .map(([digest, size]) => ({ digest, size })),
    };
  } catch {
    return {};
  }
}

export interface ImageStoreContext {
  kube: Kube;
  instance: string;
  /** Owner of every image ConfigMap (kuber-api's own Pod) when running in a cluster. */
  owner?: { name: string; uid: string };
}

/** The Kubernetes side of the image list: a watch cache plus conditional writes. */
export class ImageStore {
  readonly cache: WatchCache<KObject>;

  constructor(private readonly ctx: ImageStoreContext) {
    this.cache = ctx.kube.cache<KObject>('configmaps', imageSelector(ctx.instance));
  }

  start(): Promise<void> {
    return this.cache.start();
  }

  stop(): void {
    this.cache.stop();
  }

  /** Decoded entries by object name and resourceVersion: configs are parsed once per version. */
  private readonly decoded = new Map<string, { rv: string; entry: ImageEntry | undefined }>();

  private decode(cm: KObject): ImageEntry | undefined {
    const rv = cm.metadata.resourceVersion ?? '';
    const hit = this.decoded.get(cm.metadata.name);
    if (hit && hit.rv === rv && rv) return hit.entry;
    const entry = decodeImage(cm);
    this.decoded.set(cm.metadata.name, { rv, entry });
    return entry;
  }

  all(): ImageEntry[] {
    const out: ImageEntry[] = [];
    const live = new Set<string>();
    for (const cm of this.cache.list()) {
      live.add(cm.metadata.name);
      const e = this.decode(cm);
      if (e) out.push(e);
    }
    if (this.decoded.size > live.size) for (const k of this.decoded.keys()) if (!live.has(k)) this.decoded.delete(k);
    return out;
  }

  byId(id: string): ImageEntry | undefined {
    const cm = this.cache.get(this.objectName(id));
    return cm ? this.decode(cm) : undefined;
  }

  /** ConfigMap names are per instance (two kuber-apis in one namespace may pull the same image). */
  objectName(id: string): string {
    const inst = createHash('sha256').update(this.ctx.instance).digest('hex').slice(0, 8);
    return `kapi-img-${inst}-${id.replace(/^sha256:/, '').slice(0, 16)}`;
  }

  /** Create or update an image (everything but its config is replaced; the config only when given). */
  async save(e: ImageEntry): Promise<ImageEntry> {
    const name = this.objectName(e.id);
    const { kube } = this.ctx;
    for (let attempt = 0; ; attempt++) {
      const current = this.cache.get(name);
      try {
        let obj: KObject;
        if (!current) {
          obj = await kube.client.create<KObject>(kube.path('configmaps'), {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: {
              name,
              namespace: kube.namespace,
              labels: { [LABEL_INSTANCE]: this.ctx.instance, [LABEL_KIND]: 'image', [LABEL_MANAGED_BY]: 'kuber-api' },
              annotations: Object.fromEntries(Object.entries(annotations(e)).filter(([, v]) => v !== null)) as Record<
                string,
                string
              >,
              ...podOwnerRefs(this.ctx.owner),
            },
            ...(e.configBlob ? { data: { [CONFIG_KEY]: e.configBlob } } : {}),
          });
        } else {
          obj = await kube.client.mergePatch<KObject>(kube.path('configmaps', name), {
            metadata: { resourceVersion: current.metadata.resourceVersion, annotations: annotations(e) },
            ...(e.configBlob ? { data: { [CONFIG_KEY]: e.configBlob } } : {}),
          });
        }
        this.cache.observe(obj);
        return decodeImage(obj)!;
      } catch (err) {
        // Ambiguous (the write may have landed): re-read and write the same again.
        if (
          attempt >= 5 ||
          !(isConflict(err) || isAmbiguous(err) || isAlreadyExists(err) || (current && isNotFound(err)))
        )
          throw err;
        const fresh = await kube.client.get<KObject>(kube.path('configmaps', name)).catch(() => undefined);
        if (fresh) this.cache.observe(fresh);
        else if (current) this.cache.forget(name);
      }
    }
  }

  async remove(e: ImageEntry): Promise<void> {
    const name = this.objectName(e.id);
    try {
      await this.ctx.kube.client.delete(this.ctx.kube.path('configmaps', name));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.cache.forget(name);
  }
}
