/**
 * @module engine/images/registry/registry
 * A read-only client of the Docker Registry HTTP API v2 / OCI distribution spec
 * (https://github.com/opencontainers/distribution-spec/blob/main/spec.md): resolve a reference to
 * its manifest (an image index or manifest list is narrowed to the wanted platform, as containerd
 * and moby's pull_v2.go do), then fetch the image config blob. Layers are never downloaded: the
 * kubelet pulls them. Every manifest and blob is verified against its digest.
 *
 * Authentication follows the Docker token protocol: a 401 with `WWW-Authenticate: Bearer
 * realm=...,service=...,scope=...` is answered by fetching a token from the realm (anonymously,
 * with Basic credentials, or by the OAuth2 refresh-token grant for identity tokens) and retrying;
 * `Basic` challenges get the credentials directly. Tokens are cached per registry and scope.
 *
 * Endpoints: Docker Hub images try each `--registry-mirror` first, then Docker Hub itself (moby
 * registry/service.go LookupPullEndpoints). HTTPS always; plain HTTP only for insecure registries
 * (`--insecure-registry`, plus loopback as dockerd's default 127.0.0.0/8), after HTTPS failed, and
 * their certificates are not verified.
 */
import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { type ImageRef, DOCKER_HUB, familiarName, familiarString, registryHost } from '../../model/image-ref.js';
import { basicHeader, parseChallenges } from './auth.js';
import { proxyFor, requestViaProxy, type ProxyConfig } from './proxy.js';
import type { RegistryAuth } from '../../backend/images.js';
import { parseUntrusted } from '../../model/own-keys.js';
import { goArch } from '../../backend/platform.js';
import { TokenCache } from './tokens.js';

export const MEDIA = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
} as const;

const ACCEPT = [MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest].join(', ');
/** distribution's manifest size limit (containerd uses the same 4 MiB). */
const MAX_MANIFEST_BYTES = 4 << 20;
/** Image configs are small JSON documents; a ConfigMap holds at most 1 MiB. */
const MAX_CONFIG_BYTES = 8 << 20;
const MAX_REDIRECTS = 5;
/** Registry auth answers (the /v2/ probe, token responses) are small JSON documents. */
const MAX_AUTH_BYTES = 1 << 20;

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface RegistryOptions {
  /** Docker Hub mirrors, tried in order before Docker Hub (`https://mirror.gcr.io`, `http://10.0.0.1:5000`). */
  mirrors: readonly string[];
  /** Registries (host[:port] or CIDR) allowed over plain HTTP and without certificate checks. */
  insecure: readonly string[];
  /** Per HTTP request (connect + response), ms. */
  timeoutMs: number;
  userAgent: string;
  /** HTTP(S)_PROXY / NO_PROXY (engine/images/registry/proxy.ts); none when absent. */
  proxy?: ProxyConfig;
  /** Bearer tokens kept at most (`--registry-token-cache-entries`; engine/images/registry/tokens.ts). */
  tokenCacheEntries: number;
}

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: Platform & { 'os.version'?: string };
  annotations?: Record<string, string>;
}

export interface ResolvedManifest {
  /** Where the manifest was read (`https://registry-1.docker.io`, a mirror URL...). */
  endpoint: string;
  /** The digest the reference resolved to: the index's when the tag names an index (what RepoDigests show). */
  digest: string;
  /** The platform manifest's own digest. */
  manifestDigest: string;
  mediaType: string;
  /** The config descriptor: its digest is the image ID. */
  config: Descriptor;
  layers: Descriptor[];
  /** Platform chosen from an index, if there was one. */
  platform?: Platform;
}

export interface ResolvedImage extends ResolvedManifest {
  /** The config blob, exactly as served (its sha256 is `config.digest`). */
  configBlob: Buffer;
}

export type RegistryErrorKind =
  | 'manifest-unknown'
  | 'name-unknown'
  | 'denied'
  | 'unauthorized'
  | 'unreachable'
  | 'rate-limited'
  | 'no-platform'
  | 'protocol';

/** A registry failure, classified the way moby's TranslatePullError classifies it. */
export class RegistryError extends Error {
  constructor(
    readonly kind: RegistryErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
  /** Definitive answers about the image (as opposed to failing to ask). */
  get definitive(): boolean {
    return (
      this.kind === 'manifest-unknown' ||
      this.kind === 'name-unknown' ||
      this.kind === 'denied' ||
      this.kind === 'no-platform'
    );
  }
}

interface HttpAnswer {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
  url: URL;
}

/** The platform kuber-api runs on, as OCI names it (linux/amd64). */
export function hostPlatform(): Platform {
  return {
    os: 'linux',
    architecture: goArch(),
    ...(process.arch === 'arm64' ? { variant: 'v8' } : {}),
  };
}

/** `linux/arm64/v8` -> Platform; undefined for empty. */
export function parsePlatform(s: string | undefined): Platform | undefined {
  if (!s) return undefined;
  const [os, architecture, variant] = s.toLowerCase().split('/');
  if (!os || !architecture) return { os: os || 'linux', architecture: hostPlatform().architecture };
  return { os, architecture, ...(variant ? { variant } : {}) };
}

function sha256(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

/** dockerd treats loopback registries as insecure by default (registry/config.go: 127.0.0.0/8, ::1). */
function isLoopback(host: string): boolean {
  const h = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return h === 'localhost' || /^127\./.test(h) || h === '::1';
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bitsS] = cidr.split('/');
  if (!base || bitsS === undefined || isIP(ip) !== 4 || isIP(base) !== 4) return false;
  const bits = Number(bitsS);
  const num = (a: string) => a.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (num(ip) & mask) === (num(base) & mask);
}

export class RegistryClient {
  private readonly tokens: TokenCache;
  /** Hosts that answered on plain HTTP (insecure registries), so HTTPS is not retried each time. */
  private readonly plainHttp = new Set<string>();

  constructor(private readonly opts: RegistryOptions) {
    this.tokens = new TokenCache(opts.tokenCacheEntries);
  }

  /** Bearer tokens held now (for tests: at most `tokenCacheEntries`). */
  get tokenCount(): number {
    return this.tokens.size;
  }

  isInsecure(host: string): boolean {
    if (isLoopback(host)) return true;
    const bare = host.replace(/:\d+$/, '');
    return this.opts.insecure.some((e) => e === host || e === bare || (e.includes('/') && inCidr(bare, e)));
  }

  /** Endpoints for a reference: mirrors first for Docker Hub images (base URLs without a trailing slash). */
  endpoints(ref: ImageRef): string[] {
    const out: string[] = [];
    if (ref.domain === DOCKER_HUB) for (const m of this.opts.mirrors) out.push(m.replace(/\/+$/, ''));
    out.push(`https://${registryHost(ref)}`);
    return out;
  }

  /** Resolve `ref` to its platform manifest and config blob. */
  async resolve(ref: ImageRef, opts: { auth?: RegistryAuth; platform?: Platform } = {}): Promise<ResolvedImage> {
    const manifest = await this.resolveManifest(ref, opts);
    const configBlob = await this.fetchBlob(manifest.endpoint, ref, manifest.config.digest, opts.auth);
    return { ...manifest, configBlob };
  }

  /** Try each endpoint; the most telling error wins (a definitive answer beats an unreachable mirror). */
  async resolveManifest(
    ref: ImageRef,
    opts: { auth?: RegistryAuth; platform?: Platform } = {},
  ): Promise<ResolvedManifest> {
    const errors: RegistryError[] = [];
    for (const ep of this.endpoints(ref)) {
      try {
        return await this.manifestAt(ep, ref, opts.auth, opts.platform ?? hostPlatform());
      } catch (err) {
        if (!(err instanceof RegistryError)) throw err;
        errors.push(err);
        // A mirror that does not have the image, or cannot be reached, falls back to the next endpoint.
      }
    }
    throw errors.find((e) => e.definitive) ?? errors[errors.length - 1]!;
  }

  private async manifestAt(
    endpoint: string,
    ref: ImageRef,
    auth: RegistryAuth | undefined,
    platform: Platform,
  ): Promise<ResolvedManifest> {
    const reference = ref.digest ?? ref.tag ?? 'latest';
    const top = await this.getVerified(
      endpoint,
      ref,
      `manifests/${reference}`,
      auth,
      MAX_MANIFEST_BYTES,
      ACCEPT,
      ref.digest,
    );
    let doc = parseJson(top.body, 'manifest');
    let mediaType = mediaTypeOf(top.headers['content-type'], doc);
    const digest = top.digest;
    let manifestDigest = digest;
    let chosen: Platform | undefined;
    if (mediaType === MEDIA.ociIndex || mediaType === MEDIA.dockerList) {
      const entry = pickPlatform((doc.manifests as Descriptor[] | undefined) ?? [], platform);
      if (!entry) {
        throw new RegistryError(
          'no-platform',
          `no matching manifest for ${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''} in the manifest list entries`,
        );
      }
      chosen = entry.platform
        ? {
            os: entry.platform.os,
            architecture: entry.platform.architecture,
            ...(entry.platform.variant ? { variant: entry.platform.variant } : {}),
          }
        : undefined;
      const m = await this.getVerified(
        endpoint,
        ref,
        `manifests/${entry.digest}`,
        auth,
        MAX_MANIFEST_BYTES,
        ACCEPT,
        entry.digest,
      );
      doc = parseJson(m.body, 'manifest');
      mediaType = mediaTypeOf(m.headers['content-type'], doc, entry.mediaType);
      manifestDigest = entry.digest;
    }
    if (mediaType === MEDIA.dockerSchema1 || (doc.schemaVersion === 1 && !doc.config)) {
      throw new RegistryError(
        'protocol',
        `Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been removed. Suggest the author of ${familiarString(ref)} to upgrade the image to the OCI Format or Docker Image manifest v2, schema 2.`,
      );
    }
    if (mediaType === MEDIA.ociIndex || mediaType === MEDIA.dockerList)
      throw new RegistryError('protocol', `${familiarString(ref)}: an image index points to another index`);
    const config = doc.config as Descriptor | undefined;
    if (!config || typeof config.digest !== 'string')
      throw new RegistryError(
        'protocol',
        `${familiarString(ref)}: the manifest has no config descriptor (media type ${mediaType || 'unknown'})`,
      );
    const layers = ((doc.layers as Descriptor[] | undefined) ?? []).map((l) => ({
      mediaType: l.mediaType,
      digest: l.digest,
      size: Number(l.size) || 0,
    }));
    return {
      endpoint,
      digest,
      manifestDigest,
      mediaType,
      config: { mediaType: config.mediaType, digest: config.digest, size: Number(config.size) || 0 },
      layers,
      ...(chosen ? { platform: chosen } : {}),
    };
  }

  /** The config blob of a resolved manifest, from the endpoint that served the manifest. */
  fetchConfig(m: ResolvedManifest, ref: ImageRef, auth?: RegistryAuth): Promise<Buffer> {
    return this.fetchBlob(m.endpoint, ref, m.config.digest, auth);
  }

  private async fetchBlob(
    endpoint: string,
    ref: ImageRef,
    digest: string,
    auth: RegistryAuth | undefined,
  ): Promise<Buffer> {
    const r = await this.getVerified(endpoint, ref, `blobs/${digest}`, auth, MAX_CONFIG_BYTES, '*/*', digest);
    return r.body;
  }

  /** GET `/v2/<path>/<what>`, authenticated, following redirects, verifying `expectDigest`. */
  private async getVerified(
    endpoint: string,
    ref: ImageRef,
    what: string,
    auth: RegistryAuth | undefined,
    limit: number,
    accept: string,
    expectDigest?: string,
  ): Promise<HttpAnswer & { digest: string }> {
    const r = await this.authorisedGet(endpoint, ref, `/v2/${ref.path}/${what}`, auth, limit, accept);
    if (r.status !== 200) throw this.errorFor(r, ref, what);
    const digest = sha256(r.body);
    if (expectDigest && expectDigest.startsWith('sha256:') && expectDigest !== digest) {
      throw new RegistryError(
        'protocol',
        `${endpoint}: content of ${what} does not match its digest (${digest} != ${expectDigest})`,
      );
    }
    return { ...r, digest: expectDigest ?? digest };
  }

  private async authorisedGet(
    endpoint: string,
    ref: ImageRef,
    path: string,
    auth: RegistryAuth | undefined,
    limit: number,
    accept: string,
  ): Promise<HttpAnswer> {
    const host = new URL(endpoint).host;
    const scope = `repository:${ref.path}:pull`;
    const key = `${host} ${scope} ${auth?.username ?? ''}`;
    const headers: Record<string, string> = { Accept: accept };
    const cached = auth?.registrytoken ? undefined : this.tokens.get(key);
    if (auth?.registrytoken) headers.Authorization = `Bearer ${auth.registrytoken}`;
    else if (cached) headers.Authorization = `Bearer ${cached}`;
    let r = await this.get(endpoint, path, headers, limit);
    if (r.status !== 401 || auth?.registrytoken) return r;
    const challenges = parseChallenges(headerValue(r.headers['www-authenticate']));
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const basic = challenges.find((c) => c.scheme === 'basic');
    if (bearer?.params.realm) {
      const token = await this.fetchToken(
        bearer.params.realm,
        bearer.params.service,
        bearer.params.scope || scope,
        auth,
      );
      this.tokens.set(key, token.token, Date.now() + Math.max(10, token.expiresIn - 5) * 1000);
      r = await this.get(endpoint, path, { ...headers, Authorization: `Bearer ${token.token}` }, limit);
    } else if (basic && auth && basicHeader(auth)) {
      r = await this.get(endpoint, path, { ...headers, Authorization: basicHeader(auth)! }, limit);
    }
    return r;
  }

  /**
   * Check credentials as `docker login` asks the daemon to (moby registry/auth.go loginV2): GET
   * `/v2/` and answer its challenge with them (a token from the realm for Bearer, the header
   * itself for Basic); the second `/v2/` must succeed. A registry that asks for nothing accepts.
   * Throws a RegistryError `unauthorized` worded as moby (`Get "https://host/v2/": unauthorized:
   * incorrect username or password`).
   */
  async login(domain: string, auth: RegistryAuth): Promise<void> {
    const endpoint = `https://${registryHost({ domain, path: '' })}`;
    const where = `Get "${endpoint}/v2/"`;
    const first = await this.get(endpoint, '/v2/', {}, MAX_AUTH_BYTES);
    if (first.status === 200) return;
    if (first.status !== 401)
      throw new RegistryError('protocol', `${where}: unexpected status ${first.status}`, first.status);
    const challenges = parseChallenges(headerValue(first.headers['www-authenticate']));
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    let authorization: string | undefined;
    if (bearer?.params.realm) {
      try {
        authorization = `Bearer ${(await this.fetchToken(bearer.params.realm, bearer.params.service, bearer.params.scope ?? '', auth)).token}`;
      } catch (err) {
        if (err instanceof RegistryError && err.kind === 'unauthorized')
          throw new RegistryError('unauthorized', `${where}: ${err.message.replace(/^Get "[^"]*": /, '')}`, err.status);
        throw err;
      }
    } else authorization = basicHeader(auth);
    const second = authorization
      ? await this.get(endpoint, '/v2/', { Authorization: authorization }, MAX_AUTH_BYTES)
      : first;
    if (second.status !== 200)
      throw new RegistryError(
        'unauthorized',
        `${where}: unauthorized: ${second.status === 401 ? 'incorrect username or password' : `HTTP ${second.status}`}`,
        second.status,
      );
  }

  /** The token endpoint (https://distribution.github.io/distribution/spec/auth/token/, .../oauth/). */
  private async fetchToken(
    realm: string,
    service: string | undefined,
    scope: string,
    auth: RegistryAuth | undefined,
  ): Promise<{ token: string; expiresIn: number }> {
    const url = new URL(realm);
    let r: HttpAnswer;
    if (auth?.identitytoken) {
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: auth.identitytoken,
        client_id: 'kuber-api',
        ...(scope ? { scope } : {}),
        ...(service ? { service } : {}),
      });
      r = await this.send(
        'POST',
        url,
        { 'Content-Type': 'application/x-www-form-urlencoded' },
        MAX_AUTH_BYTES,
        Buffer.from(form.toString()),
      );
    } else {
      if (service) url.searchParams.set('service', service);
      if (scope) url.searchParams.set('scope', scope);
      const basic = auth ? basicHeader(auth) : undefined;
      r = await this.send('GET', url, basic ? { Authorization: basic } : {}, MAX_AUTH_BYTES);
    }
    if (r.status !== 200) {
      let detail = r.body.toString('utf8').trim();
      try {
        const j = JSON.parse(detail) as { details?: string; errors?: Array<{ code?: string; message?: string }> };
        detail =
          j.details ??
          (j.errors?.[0]
            ? `${(j.errors[0].code ?? '').toLowerCase().replace(/_/g, ' ')}: ${j.errors[0].message ?? ''}`
            : detail);
      } catch {
        /* plain text */
      }
      throw new RegistryError(
        'unauthorized',
        `Get "${url.origin}${url.pathname}": unauthorized: ${detail || `HTTP ${r.status}`}`,
        r.status,
      );
    }
    const j = parseJson(r.body, 'token response') as { token?: string; access_token?: string; expires_in?: number };
    const token = j.token ?? j.access_token;
    if (!token) throw new RegistryError('protocol', `${url.origin}: the token response has no token`);
    return { token, expiresIn: typeof j.expires_in === 'number' && j.expires_in > 0 ? j.expires_in : 60 };
  }

  /** GET on an endpoint, HTTPS first, plain HTTP for insecure registries (remembered once it worked). */
  private async get(
    endpoint: string,
    path: string,
    headers: Record<string, string>,
    limit: number,
  ): Promise<HttpAnswer> {
    const base = new URL(endpoint);
    const host = base.host;
    const prefix = base.pathname.replace(/\/+$/, '');
    const insecure = this.isInsecure(host);
    if (base.protocol === 'http:' || (insecure && this.plainHttp.has(host))) {
      return this.send('GET', new URL(`http://${host}${prefix}${path}`), headers, limit);
    }
    try {
      return await this.send('GET', new URL(`https://${host}${prefix}${path}`), headers, limit, undefined, insecure);
    } catch (err) {
      if (!insecure || !(err instanceof RegistryError) || err.kind !== 'unreachable') throw err;
      const r = await this.send('GET', new URL(`http://${host}${prefix}${path}`), headers, limit);
      this.plainHttp.add(host);
      return r;
    }
  }

  /** One HTTP exchange, following redirects (credentials only to the same origin). */
  private send(
    method: string,
    url: URL,
    headers: Record<string, string>,
    limit: number,
    body?: Buffer,
    insecureTls = false,
    hops = 0,
  ): Promise<HttpAnswer> {
    return new Promise<HttpAnswer>((resolve, reject) => {
      const options = {
        method,
        headers: {
          'User-Agent': this.opts.userAgent,
          ...headers,
          ...(body ? { 'Content-Length': String(body.length) } : {}),
        },
        timeout: this.opts.timeoutMs,
        ...(url.protocol === 'https:' && insecureTls ? { rejectUnauthorized: false } : {}),
      };
      const proxy = proxyFor(url, this.opts.proxy);
      const onResponse = (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        const loc = res.headers.location;
        if ([301, 302, 303, 307, 308].includes(status) && loc && hops < MAX_REDIRECTS) {
          res.resume();
          const next = new URL(loc, url);
          const h = { ...headers };
          if (next.origin !== url.origin) delete h.Authorization; // a CDN must not see registry credentials
          const m = status === 303 ? 'GET' : method;
          this.send(
            m,
            next,
            h,
            limit,
            m === 'GET' ? undefined : body,
            insecureTls || this.isInsecure(next.host),
            hops + 1,
          ).then(resolve, reject);
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > limit) {
            req.destroy(
              new RegistryError('protocol', `${url.origin}${url.pathname}: response larger than ${limit} bytes`),
            );
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => resolve({ status, headers: res.headers, body: Buffer.concat(chunks), url }));
        res.on('error', (err) => reject(toRegistryError(err, method, url)));
      };
      const req = proxy
        ? requestViaProxy(url, proxy, options, onResponse)
        : (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, onResponse);
      req.on('timeout', () =>
        req.destroy(
          new RegistryError(
            'unreachable',
            `${method === 'GET' ? 'Get' : method} "${url.href}": timeout after ${this.opts.timeoutMs} ms`,
          ),
        ),
      );
      req.on('error', (err) => reject(toRegistryError(err, method, url)));
      req.end(body);
    });
  }

  /** A non-200 answer as moby words it (distribution/errors.go notFoundError). */
  private errorFor(r: HttpAnswer, ref: ImageRef, what: string): RegistryError {
    let code = '';
    let message = '';
    try {
      const j = JSON.parse(r.body.toString('utf8')) as { errors?: Array<{ code?: string; message?: string }> };
      code = j.errors?.[0]?.code ?? '';
      message = j.errors?.[0]?.message ?? '';
    } catch {
      message = r.body.toString('utf8').trim().slice(0, 200);
    }
    // distribution's client HandleErrorResponse: an RFC 6750 `error` in the bearer challenge wins
    // (Docker Hub answers an unknown or private repository with error="insufficient_scope").
    const bearer =
      r.status === 401
        ? parseChallenges(headerValue(r.headers['www-authenticate'])).find((c) => c.scheme === 'bearer')
        : undefined;
    if (bearer?.params.error === 'insufficient_scope') {
      code = 'DENIED';
      message = bearer.params.error_description || 'requested access to the resource is denied';
    }
    const cause =
      `${code ? code.toLowerCase().replace(/_/g, ' ') : `HTTP ${r.status}`}: ${message || (r.status === 404 ? 'not found' : '')}`.trim();
    const isBlob = what.startsWith('blobs/');
    if (!isBlob && (code === 'MANIFEST_UNKNOWN' || (r.status === 404 && !code)))
      return new RegistryError('manifest-unknown', `manifest for ${familiarString(ref)} not found: ${cause}`, r.status);
    if (code === 'NAME_UNKNOWN')
      return new RegistryError('name-unknown', `repository ${familiarName(ref)} not found: ${cause}`, r.status);
    if (code === 'DENIED' || r.status === 403 || (r.status === 401 && !isBlob)) {
      return new RegistryError(
        'denied',
        `pull access denied for ${familiarName(ref)}, repository does not exist or may require 'docker login': ${code === 'DENIED' ? cause : `denied: ${message || 'requested access to the resource is denied'}`}`,
        r.status,
      );
    }
    if (r.status === 429 || code === 'TOOMANYREQUESTS') return new RegistryError('rate-limited', `${cause}`, r.status);
    return new RegistryError('protocol', `unexpected answer from ${r.url.origin}${r.url.pathname}: ${cause}`, r.status);
  }
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

function toRegistryError(err: Error, method: string, url: URL): RegistryError {
  if (err instanceof RegistryError) return err;
  const verb = method === 'GET' ? 'Get' : method.charAt(0) + method.slice(1).toLowerCase();
  return new RegistryError(
    'unreachable',
    `${verb} "${url.href}": ${(err as NodeJS.ErrnoException).code ? `${(err as NodeJS.ErrnoException).code}: ` : ''}${err.message}`,
  );
}

function parseJson(b: Buffer, what: string): Record<string, unknown> {
  try {
    const v = parseUntrusted<unknown>(b.toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* below */
  }
  throw new RegistryError('protocol', `the registry sent an invalid ${what} (not a JSON object)`);
}

/** The manifest's media type: the Content-Type, else its `mediaType` field, else its shape. */
function mediaTypeOf(contentType: string | undefined, doc: Record<string, unknown>, hint?: string): string {
  const ct = contentType?.split(';')[0]?.trim();
  if (ct && ct !== 'application/json' && ct !== 'application/octet-stream' && ct !== 'text/plain') return ct;
  if (typeof doc.mediaType === 'string') return doc.mediaType;
  if (hint) return hint;
  if (Array.isArray(doc.manifests)) return MEDIA.ociIndex;
  if (doc.schemaVersion === 1) return MEDIA.dockerSchema1;
  return MEDIA.ociManifest;
}

/**
 * containerd's platforms.Only matcher, simplified: same OS and architecture; the variant must
 * match when both give one (arm64 without a variant is v8). Attestation manifests
 * (`unknown/unknown`) are never chosen.
 */
export function pickPlatform(entries: Descriptor[], want: Platform): Descriptor | undefined {
  const norm = (p: Platform) => ({ ...p, variant: p.variant ?? (p.architecture === 'arm64' ? 'v8' : undefined) });
  const w = norm(want);
  const candidates = entries.filter(
    (e) =>
      e.platform &&
      e.platform.os === w.os &&
      e.platform.architecture === w.architecture &&
      e.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest',
  );
  return (
    candidates.find((e) => norm(e.platform!).variant === w.variant) ??
    candidates.find((e) => !w.variant || !e.platform!.variant) ??
    (w.architecture === 'arm' ? undefined : candidates[0])
  );
}
