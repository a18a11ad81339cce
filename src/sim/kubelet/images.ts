/**
 * @module sim/kubelet/images
 * Image references (docker/distribution reference grammar, normalised as containerd reports them)
 * and the "pull": deciding which root filesystem and config an image runs with, or failing the pull
 * as a registry would (FaultRegistry.failImagePull, or unknown images when so configured).
 */
import { createHash } from 'node:crypto';
import type { ImageConfig } from '../types.js';
import { IMAGE_CATALOGUE, type CatalogueImage } from './image-catalogue.js';

export interface ImageRef {
  /** As written in the pod spec. */
  raw: string;
  /** docker.io, registry.k8s.io, localhost:5000 ... */
  domain: string;
  /** library/busybox, testcontainers/ryuk ... */
  path: string;
  tag?: string;
  digest?: string;
  /** docker.io/library/busybox:latest (or ...@sha256:... when pinned by digest only). */
  normalized: string;
}

export function parseImage(raw: string): ImageRef | undefined {
  const ref = raw.trim();
  if (!ref || /\s/.test(ref)) return undefined;
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^[a-z0-9]+:[a-f0-9]{32,}$/.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!/^[\w][\w.-]{0,127}$/.test(tag)) return undefined;
  }
  let domain = 'docker.io';
  let path = rest;
  const first = rest.indexOf('/');
  if (first > 0) {
    const head = rest.slice(0, first);
    if (head.includes('.') || head.includes(':') || head === 'localhost') {
      domain = head;
      path = rest.slice(first + 1);
    }
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  if (!path || !/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(path))
    return undefined;
  if (!tag && !digest) tag = 'latest';
  const name = `${domain}/${path}`;
  const normalized = tag ? `${name}:${tag}` : `${name}@${digest}`;
  return { raw, domain, path, tag, digest, normalized };
}

export interface ResolvedImage {
  ref: ImageRef;
  rootfs: 'busybox' | 'host';
  config: CatalogueImage;
  /** What status.image reports. */
  image: string;
  /** What status.imageID reports: repo@sha256:... */
  imageID: string;
}

export class PullError extends Error {
  constructor(
    readonly reason: 'ErrImagePull' | 'InvalidImageName' | 'ErrImageNeverPull',
    message: string,
  ) {
    super(message);
  }
}

/** The catalogue entry for a reference: exact repository path, then the docker.io/library short name. */
function lookup(ref: ImageRef, extra: Record<string, ImageConfig>): CatalogueImage | undefined {
  const short = ref.path.startsWith('library/') ? ref.path.slice(8) : ref.path;
  const last = ref.path.slice(ref.path.lastIndexOf('/') + 1);
  for (const key of [ref.raw, ref.normalized, `${ref.domain}/${ref.path}`, short]) {
    const user = extra[key];
    if (user) {
      const rootfs = (user as { rootfs?: string }).rootfs === 'busybox' || last === 'busybox' ? 'busybox' : 'host';
      return { rootfs, size: 0, ...user };
    }
  }
  const known =
    IMAGE_CATALOGUE[short] ?? (ref.domain !== 'docker.io' && last === 'pause' ? IMAGE_CATALOGUE.pause : undefined);
  if (known) return known;
  // Any busybox repository (registry.k8s.io/e2e-test-images/busybox, gcr.io/google-containers/busybox...).
  if (last === 'busybox') return IMAGE_CATALOGUE.busybox;
  return undefined;
}

export function fakeDigest(ref: ImageRef): string {
  return (
    ref.digest ?? `sha256:${createHash('sha256').update(`kube-sim:${ref.domain}/${ref.path}:${ref.tag}`).digest('hex')}`
  );
}

/**
 * Resolve an image for running, or throw PullError. `unknown` says what an image absent from the
 * catalogue does; `failPull` is the FaultRegistry check.
 */
export function resolveImage(
  raw: string,
  opts: { catalogue: Record<string, ImageConfig>; unknown: 'host-root' | 'fail'; failPull: (image: string) => boolean },
): ResolvedImage {
  const ref = parseImage(raw ?? '');
  if (!ref)
    throw new PullError(
      'InvalidImageName',
      `Failed to apply default image tag "${raw}": couldn't parse image name "${raw}": invalid reference format`,
    );
  const notFound = () =>
    new PullError(
      'ErrImagePull',
      `failed to pull and unpack image "${ref.normalized}": failed to resolve reference "${ref.normalized}": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`,
    );
  if (opts.failPull(raw) || opts.failPull(ref.normalized)) throw notFound();
  let config = lookup(ref, opts.catalogue);
  if (!config) {
    if (opts.unknown === 'fail') throw notFound();
    config = {
      rootfs: 'host',
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      size: 0,
      note: 'not in the catalogue: runs on the host root',
    };
  }
  const digest = fakeDigest(ref);
  return { ref, rootfs: config.rootfs, config, image: ref.normalized, imageID: `${ref.domain}/${ref.path}@${digest}` };
}
