/**
 * @module engine/model/image-ref
 * Image references as docker/distribution's `reference` package parses them
 * (reference/normalize.go ParseNormalizedNamed, reference/regexp.go): a domain, a repository path,
 * an optional tag and an optional digest. `busybox` is `docker.io/library/busybox:latest`; the
 * familiar form drops `docker.io/` and `library/` again. Docker Hub's registry API lives at
 * `registry-1.docker.io` (moby registry/config.go DefaultV2Registry).
 */
import { invalid } from '../../errors.js';

export interface ImageRef {
  /** `docker.io`, `ghcr.io`, `localhost:5000`, `127.0.0.1:5000`. */
  domain: string;
  /** `library/busybox`, `testcontainers/ryuk`. */
  path: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const PATH_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const DOMAIN_RE =
  /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}$/;
const NAME_MAX = 255;

export const DOCKER_HUB = 'docker.io';
/** Where Docker Hub's v2 API answers (moby registry.DefaultV2Registry). */
export const DOCKER_HUB_REGISTRY = 'registry-1.docker.io';

/** Whether `s` is a full 64-hex image ID (with or without `sha256:`), which is never a name. */
export function isFullId(s: string): boolean {
  return /^(sha256:)?[0-9a-f]{64}$/.test(s);
}

/**
 * ParseNormalizedNamed. Throws an `invalid` EngineError with moby's wording ("invalid reference
 * format", or the lowercase hint) for anything the docker CLI would refuse.
 */
export function parseRef(raw: string): ImageRef {
  const s = raw.trim();
  if (!s || /\s/.test(s)) throw invalid('invalid reference format');
  if (/^[0-9a-f]{64}$/.test(s))
    throw invalid(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw invalid('invalid reference format');
    if (digest.startsWith('sha256:') && !/^sha256:[0-9a-f]{64}$/.test(digest))
      throw invalid(`invalid reference format: invalid checksum digest format`);
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw invalid('invalid reference format');
  }
  let domain = DOCKER_HUB;
  let path = rest;
  const first = rest.indexOf('/');
  if (first > 0) {
    const head = rest.slice(0, first);
    // normalize.go splitDockerDomain: a first component is a domain when it has a dot or a port,
    // is "localhost", or is not all lowercase.
    if (head.includes('.') || head.includes(':') || head === 'localhost' || head.toLowerCase() !== head) {
      domain = head;
      path = rest.slice(first + 1);
    }
  }
  if (domain === 'index.docker.io') domain = DOCKER_HUB;
  if (domain === DOCKER_HUB && !path.includes('/')) path = `library/${path}`;
  if (!DOMAIN_RE.test(domain)) throw invalid('invalid reference format');
  if (path.toLowerCase() !== path)
    throw invalid(`invalid reference format: repository name (${path}) must be lowercase`);
  if (!PATH_RE.test(path)) throw invalid('invalid reference format');
  if (domain.length + 1 + path.length > NAME_MAX)
    throw invalid('invalid reference format: repository name must not be more than 255 characters');
  return { domain, path, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** The reference with `latest` when it has neither tag nor digest (reference.TagNameOnly). */
export function withDefaultTag(r: ImageRef): ImageRef {
  return r.tag === undefined && r.digest === undefined ? { ...r, tag: 'latest' } : r;
}

/** `docker.io/library/busybox` */
export function repoName(r: ImageRef): string {
  return `${r.domain}/${r.path}`;
}

/** `docker.io/library/busybox:latest`, `docker.io/library/busybox@sha256:...` (both when both are given). */
export function refString(r: ImageRef): string {
  return `${repoName(r)}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest !== undefined ? `@${r.digest}` : ''}`;
}

/** reference.FamiliarName: `busybox`, `me/app`, `ghcr.io/x/y`. */
export function familiarName(r: ImageRef): string {
  if (r.domain !== DOCKER_HUB) return repoName(r);
  return r.path.startsWith('library/') && r.path.split('/').length === 2 ? r.path.slice(8) : r.path;
}

/** reference.FamiliarString: `busybox:latest`, `busybox@sha256:...`. */
export function familiarString(r: ImageRef): string {
  return `${familiarName(r)}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest !== undefined ? `@${r.digest}` : ''}`;
}

/** Normalise any reference string (`busybox` -> `docker.io/library/busybox:latest`). */
export function normaliseRef(raw: string): string {
  return refString(withDefaultTag(parseRef(raw)));
}

/** A normalised reference string back in its familiar form. */
export function familiarRef(raw: string): string {
  return familiarString(withDefaultTag(parseRef(raw)));
}

/** Same repository and tag, digest dropped (what a RepoTag is). */
export function tagged(r: ImageRef, tag: string): ImageRef {
  return { domain: r.domain, path: r.path, tag };
}

/** Same repository, pinned by digest (what a RepoDigest is). */
export function digested(r: ImageRef, digest: string): ImageRef {
  return { domain: r.domain, path: r.path, digest };
}

/** The host the registry API is reached at (Docker Hub's API is not at docker.io). */
export function registryHost(r: ImageRef): string {
  return r.domain === DOCKER_HUB ? DOCKER_HUB_REGISTRY : r.domain;
}

/**
 * The `serveraddress` key Docker credentials use for a registry: Docker Hub's is the index
 * server address (moby registry.IndexServer), any other registry's is its host.
 */
export function credentialKey(domain: string): string {
  return domain === DOCKER_HUB ? 'https://index.docker.io/v1/' : domain;
}
