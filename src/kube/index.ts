/**
 * @module kube
 * Kubernetes access as one bundle: the target (kubeconfig), the REST client with retries, the
 * WebSocket dialer, and factories for label-selected watch caches. Nothing here knows Docker.
 */
import { loadKubeTarget, type KubeTarget, type KubeTargetOptions } from './config.js';
import { KubeClient, type KubeClientOptions } from './client.js';
import { WatchCache, type KObject, type CacheOptions } from './cache.js';
import { WsDialer } from './ws-dialer.js';

export * from './config.js';
export * from './client.js';
export * from './cache.js';
export * from './ws-dialer.js';

export interface ServerVersion {
  major: string;
  minor: string;
  gitVersion: string;
  platform?: string;
}

export class Kube {
  readonly target: KubeTarget;
  readonly client: KubeClient;
  readonly dialer: WsDialer;

  constructor(
    target: KubeTarget,
    clientOpts: Partial<KubeClientOptions> = {},
    /** Options every cache of this bundle starts from (the tombstone bounds: src/config.ts). */
    readonly cacheDefaults: Partial<CacheOptions> = {},
  ) {
    this.target = target;
    this.client = new KubeClient(target, clientOpts);
    this.dialer = new WsDialer(this.client);
  }

  static load(
    opts: KubeTargetOptions,
    clientOpts: Partial<KubeClientOptions> = {},
    cacheDefaults: Partial<CacheOptions> = {},
  ): Kube {
    return new Kube(loadKubeTarget(opts), clientOpts, cacheDefaults);
  }

  get namespace(): string {
    return this.target.namespace;
  }

  /** `/api/v1/namespaces/<ns>/<resource>[/<name>[/<sub>]]` in our namespace. */
  path(resource: string, name?: string, sub?: string): string {
    let p = `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/${resource}`;
    if (name !== undefined) p += `/${encodeURIComponent(name)}`;
    if (sub) p += `/${sub}`;
    return p;
  }

  /** GET /version (the apiserver's build info). */
  version(): Promise<ServerVersion> {
    return this.client.get<ServerVersion>('/version');
  }

  /** A watch-backed cache of `resource` in our namespace (or at `opts.path`), selected by `labelSelector`. */
  cache<T extends KObject>(resource: string, labelSelector: string, opts: Partial<CacheOptions> = {}): WatchCache<T> {
    return new WatchCache<T>(this.client, {
      ...this.cacheDefaults,
      ...opts,
      path: opts.path ?? this.path(resource),
      labelSelector,
    });
  }

  close(): void {
    this.client.close();
  }
}
