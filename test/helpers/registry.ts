/**
 * @module test/helpers/registry
 * A small OCI distribution server (https://github.com/opencontainers/distribution-spec) on
 * node:http, as a test double for registries: manifests (Docker v2 or OCI), image indexes / manifest
 * lists with several platforms, config and layer blobs addressed by digest, the spec's error codes
 * (MANIFEST_UNKNOWN, NAME_UNKNOWN, DENIED, UNAUTHORIZED), blob redirects (as Docker Hub redirects
 * to its CDN), and Docker token authentication on chosen repositories (401 with
 * `WWW-Authenticate: Bearer realm=...`, a token endpoint checking Basic credentials or an OAuth2
 * refresh token). Every request is logged so tests can assert what a client fetched.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ImageSpec {
  /** The image config's `config` section (Env, Cmd, Entrypoint, ExposedPorts...). */
  config?: Record<string, unknown>;
  /** Platforms; more than one (or `index: true`) makes the tag an index of platform manifests. */
  platforms?: string[];
  index?: boolean;
  /** OCI media types (default) or Docker v2 schema 2. */
  format?: 'oci' | 'docker';
  /** Extra top-level config fields (created, author, container_config...). */
  extra?: Record<string, unknown>;
  /** Number of (fake) layers per platform. */
  layers?: number;
}

export interface PushedImage {
  /** The digest the tag points to (the index's, if any). */
  digest: string;
  /** Per platform (`linux/amd64`): manifest digest and config digest (= the image ID). */
  platforms: Record<
    string,
    { manifest: string; config: string; configJson: Record<string, unknown>; layerSizes: number[] }
  >;
}

interface Repo {
  tags: Map<string, string>;
  manifests: Map<string, { mediaType: string; body: Buffer }>;
  blobs: Map<string, Buffer>;
}

export interface TestRegistry {
  url: string;
  /** host:port, for image references (`127.0.0.1:5000/app:1`). */
  host: string;
  requests: Array<{ method: string; path: string; auth?: string }>;
  push(repo: string, tag: string, spec?: ImageSpec): PushedImage;
  /** Token auth on `repo`: Basic `username:password` or an identity (refresh) token at the token endpoint. */
  protect(repo: string, creds: { username: string; password: string; identityToken?: string }): void;
  /** Remove a tag (the next pull of it gets MANIFEST_UNKNOWN). */
  untag(repo: string, tag: string): void;
  close(): Promise<void>;
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const MT = {
  oci: {
    manifest: 'application/vnd.oci.image.manifest.v1+json',
    index: 'application/vnd.oci.image.index.v1+json',
    config: 'application/vnd.oci.image.config.v1+json',
    layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  },
  docker: {
    manifest: 'application/vnd.docker.distribution.manifest.v2+json',
    index: 'application/vnd.docker.distribution.manifest.list.v2+json',
    config: 'application/vnd.docker.container.image.v1+json',
    layer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  },
};

function errorBody(code: string, message: string): string {
  return JSON.stringify({ errors: [{ code, message, detail: null }] });
}

export async function startRegistry(): Promise<TestRegistry> {
  const repos = new Map<string, Repo>();
  const protectedRepos = new Map<string, { username: string; password: string; identityToken?: string }>();
  const tokens = new Map<string, Set<string>>(); // token -> repos it may pull
  const requests: TestRegistry['requests'] = [];
  let tokenSeq = 0;
  let base = '';

  const repoOf = (name: string) => {
    let r = repos.get(name);
    if (!r) repos.set(name, (r = { tags: new Map(), manifests: new Map(), blobs: new Map() }));
    return r;
  };

  function push(name: string, tag: string, spec: ImageSpec = {}): PushedImage {
    const repo = repoOf(name);
    const fmt = spec.format ?? 'oci';
    const mt = MT[fmt];
    const platforms = spec.platforms ?? ['linux/amd64'];
    const out: PushedImage = { digest: '', platforms: {} };
    const entries: Array<{ mediaType: string; digest: string; size: number; platform: Record<string, string> }> = [];
    for (const p of platforms) {
      const [os, architecture, variant] = p.split('/') as [string, string, string | undefined];
      const layerSizes: number[] = [];
      const layers: Array<{ mediaType: string; digest: string; size: number }> = [];
      const diffIds: string[] = [];
      for (let i = 0; i < (spec.layers ?? 1); i++) {
        const layer = Buffer.from(`layer ${name}:${tag} ${p} #${i}`);
        repo.blobs.set(sha(layer), layer);
        layers.push({ mediaType: mt.layer, digest: sha(layer), size: layer.length });
        layerSizes.push(layer.length);
        diffIds.push(sha(Buffer.concat([layer, Buffer.from('uncompressed')])));
      }
      const configJson = {
        architecture,
        os,
        ...(variant ? { variant } : {}),
        created: '2024-05-01T12:00:00.123456789Z',
        config: spec.config ?? {
          Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
          Cmd: ['sh'],
        },
        rootfs: { type: 'layers', diff_ids: diffIds },
        history: [{ created: '2024-05-01T12:00:00Z', created_by: `test image ${name}:${tag}` }],
        ...(spec.extra ?? {}),
      };
      const cfg = Buffer.from(JSON.stringify(configJson));
      repo.blobs.set(sha(cfg), cfg);
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: mt.manifest,
          config: { mediaType: mt.config, digest: sha(cfg), size: cfg.length },
          layers,
        }),
      );
      repo.manifests.set(sha(manifest), { mediaType: mt.manifest, body: manifest });
      entries.push({
        mediaType: mt.manifest,
        digest: sha(manifest),
        size: manifest.length,
        platform: { os, architecture, ...(variant ? { variant } : {}) },
      });
      out.platforms[p] = { manifest: sha(manifest), config: sha(cfg), configJson, layerSizes };
    }
    if (platforms.length > 1 || spec.index) {
      // An attestation manifest, as buildx adds: clients must never pick it.
      const att = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: mt.manifest,
          config: { mediaType: mt.config, digest: entries[0]!.digest, size: 1 },
          layers: [],
        }),
      );
      repo.manifests.set(sha(att), { mediaType: mt.manifest, body: att });
      const index = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: mt.index,
          manifests: [
            ...entries,
            {
              mediaType: mt.manifest,
              digest: sha(att),
              size: att.length,
              platform: { os: 'unknown', architecture: 'unknown' },
              annotations: {
                'vnd.docker.reference.type': 'attestation-manifest',
                'vnd.docker.reference.digest': entries[0]!.digest,
              },
            },
          ],
        }),
      );
      repo.manifests.set(sha(index), { mediaType: mt.index, body: index });
      out.digest = sha(index);
    } else out.digest = entries[0]!.digest;
    repo.tags.set(tag, out.digest);
    return out;
  }

  function authorised(req: IncomingMessage, name: string): boolean {
    if (!protectedRepos.has(name)) return true;
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    return !!m && !!tokens.get(m[1]!)?.has(name);
  }

  function challenge(res: ServerResponse, name: string, code: 'UNAUTHORIZED' | 'DENIED'): void {
    res.writeHead(401, {
      'Content-Type': 'application/json',
      'WWW-Authenticate': `Bearer realm="${base}/token",service="registry.test",scope="repository:${name}:pull"`,
      'Docker-Distribution-API-Version': 'registry/2.0',
    });
    res.end(
      errorBody(code, code === 'DENIED' ? 'requested access to the resource is denied' : 'authentication required'),
    );
  }

  function tokenEndpoint(req: IncomingMessage, res: ServerResponse, url: URL, body: string): void {
    let scope = url.searchParams.get('scope') ?? '';
    let user: string | undefined;
    let pass: string | undefined;
    let refresh: string | undefined;
    if (req.method === 'POST') {
      const form = new URLSearchParams(body);
      scope = form.get('scope') ?? scope;
      if (form.get('grant_type') === 'refresh_token') refresh = form.get('refresh_token') ?? undefined;
    }
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    if (basic) {
      const plain = Buffer.from(basic[1]!, 'base64').toString('utf8');
      user = plain.slice(0, plain.indexOf(':'));
      pass = plain.slice(plain.indexOf(':') + 1);
    }
    const name = /^repository:([^:]+):pull/.exec(scope)?.[1] ?? '';
    const creds = protectedRepos.get(name);
    const granted = new Set<string>();
    const matches = (c: { username: string; password: string; identityToken?: string }) =>
      (user === c.username && pass === c.password) || (!!refresh && refresh === c.identityToken);
    // Credentials given must be valid: for the scope's repository, or (a login, no scope) for any
    // account the registry knows, as Docker Hub checks them before it issues a token.
    const given = user !== undefined || refresh !== undefined;
    const valid = creds ? matches(creds) : [...protectedRepos.values()].some(matches);
    if (given && !valid && (creds || protectedRepos.size)) {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ details: 'incorrect username or password' }));
      return;
    }
    if (creds) {
      if (valid) granted.add(name);
    } else if (name) granted.add(name);
    // Anonymous requests get a token too, without the protected scope (as Docker Hub does).
    const token = `tok-${++tokenSeq}`;
    tokens.set(token, granted);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify(req.method === 'POST' ? { access_token: token, expires_in: 300 } : { token, expires_in: 300 }),
    );
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', base);
      requests.push({
        method: req.method ?? 'GET',
        path: url.pathname + url.search,
        ...(req.headers.authorization ? { auth: req.headers.authorization } : {}),
      });
      if (url.pathname === '/token') return tokenEndpoint(req, res, url, Buffer.concat(chunks).toString('utf8'));
      if (url.pathname.startsWith('/blobstore/')) {
        // The "CDN" a blob redirects to: no credentials here (a client must not send them along).
        const digest = url.pathname.slice('/blobstore/'.length);
        for (const r of repos.values()) {
          const b = r.blobs.get(digest);
          if (b) {
            res.writeHead(200, {
              'Content-Type': 'application/octet-stream',
              'Content-Length': b.length,
              'X-Had-Auth': String(!!req.headers.authorization),
            });
            return res.end(b);
          }
        }
        res.writeHead(404);
        return res.end();
      }
      if (url.pathname === '/v2/' || url.pathname === '/v2') {
        // As Docker Hub: the version check challenges when the registry uses token auth (dockerd
        // learns the token realm here, before it asks for a manifest).
        if (protectedRepos.size && !/^Bearer /.test(req.headers.authorization ?? '')) {
          res.writeHead(401, {
            'Content-Type': 'application/json',
            'WWW-Authenticate': `Bearer realm="${base}/token",service="registry.test"`,
            'Docker-Distribution-API-Version': 'registry/2.0',
          });
          return res.end(errorBody('UNAUTHORIZED', 'authentication required'));
        }
        res.writeHead(200, { 'Content-Type': 'application/json', 'Docker-Distribution-API-Version': 'registry/2.0' });
        return res.end('{}');
      }
      const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
      if (!m || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        return res.end(errorBody('UNSUPPORTED', 'the operation is unsupported'));
      }
      const [, name, kind, reference] = m as unknown as [string, string, string, string];
      if (protectedRepos.has(name) && !authorised(req, name))
        return challenge(res, name, req.headers.authorization ? 'DENIED' : 'UNAUTHORIZED');
      const repo = repos.get(name);
      if (!repo) {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        return res.end(errorBody('NAME_UNKNOWN', 'repository name not known to registry'));
      }
      if (kind === 'manifests') {
        const digest = reference.startsWith('sha256:') ? reference : repo.tags.get(reference);
        const man = digest ? repo.manifests.get(digest) : undefined;
        if (!man) {
          res.writeHead(404, { 'Content-Type': 'application/json' });
          return res.end(errorBody('MANIFEST_UNKNOWN', 'manifest unknown'));
        }
        res.writeHead(200, {
          'Content-Type': man.mediaType,
          'Docker-Content-Digest': digest!,
          'Content-Length': man.body.length,
        });
        return res.end(req.method === 'HEAD' ? undefined : man.body);
      }
      const blob = repo.blobs.get(reference);
      if (!blob) {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        return res.end(errorBody('BLOB_UNKNOWN', 'blob unknown to registry'));
      }
      // Another origin (localhost vs 127.0.0.1), like Docker Hub's CDN: credentials must not follow.
      res.writeHead(307, { Location: `${base.replace('127.0.0.1', 'localhost')}/blobstore/${reference}` });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  return {
    url: base,
    host: `127.0.0.1:${port}`,
    requests,
    push,
    protect: (repo, creds) => protectedRepos.set(repo, creds),
    untag: (repo, tag) => repos.get(repo)?.tags.delete(tag),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
