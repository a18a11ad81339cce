/**
 * @module engine/images
 * Image references without an image store. Kubernetes pulls images itself (the kubelet), so
 * kuber-api never pulls and treats every reference as present. IDs are derived from the
 * normalised reference, so that a container's `Image` and `GET /images/{name}/json`'s `Id` agree
 * (Compose compares them) and stay stable across kuber-api restarts.
 */
import { createHash } from 'node:crypto';

/** `busybox` -> `docker.io/library/busybox:latest` (distribution/reference ParseNormalizedNamed). */
export function normaliseImage(ref: string): string {
  let name = ref.trim();
  let digest = '';
  const at = name.indexOf('@');
  if (at >= 0) {
    digest = name.slice(at);
    name = name.slice(0, at);
  }
  let tag = '';
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = name.slice(colon + 1);
    name = name.slice(0, colon);
  }
  const first = name.split('/')[0]!;
  const hasDomain = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasDomain) name = `docker.io/${name.includes('/') ? name : `library/${name}`}`;
  if (!tag && !digest) tag = 'latest';
  return `${name}${tag ? `:${tag}` : ''}${digest}`;
}

/** The familiar short form Docker prints (`busybox:latest`, `myorg/app:1`, `ghcr.io/x/y:z`). */
export function familiarImage(ref: string): string {
  return normaliseImage(ref).replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
}

/** A stable `sha256:...` ID for a reference (a digest reference uses its digest). */
export function imageId(ref: string): string {
  const n = normaliseImage(ref);
  const d = /@(sha256:[0-9a-f]{64})$/.exec(n);
  if (d) return d[1]!;
  return `sha256:${createHash('sha256').update(n).digest('hex')}`;
}

/** Whether `filter` (name, name:tag, ID or ID prefix) designates image `ref` (the ps ancestor filter). */
export function imageMatches(filter: string, ref: string): boolean {
  const id = imageId(ref);
  const f = filter.trim();
  if (/^(sha256:)?[0-9a-f]{4,64}$/.test(f)) {
    const hex = f.replace(/^sha256:/, '');
    if (id.slice(7).startsWith(hex)) return true;
  }
  // Without an image graph, "made from" means "made from this very reference" (busybox ==
  // busybox:latest == docker.io/library/busybox:latest).
  return normaliseImage(f) === normaliseImage(ref);
}

/**
 * The images kuber-api "has": those named by a pull (POST /images/create) or a tag in this
 * process, and those its containers use. There is no image store: the kubelet pulls at start. An
 * image nobody mentioned is unknown (404 "No such image"), so that clients that inspect before
 * pulling (testcontainers, compose) pull, and `docker inspect x` falls through to "No such object".
 */
export class ImageRegistry {
  private readonly pulled = new Set<string>();

  constructor(private readonly inUse: () => string[]) {}

  /** Record a pull or a tag (normalised reference). */
  add(ref: string): string {
    const n = normaliseImage(ref);
    this.pulled.add(n);
    return n;
  }

  remove(ref: string): boolean {
    return this.pulled.delete(normaliseImage(ref));
  }

  /** Every known normalised reference. */
  all(): string[] {
    return [...new Set([...this.pulled, ...this.inUse().filter(Boolean).map(normaliseImage)])].sort();
  }

  /** A reference, an ID or an ID prefix -> the known normalised reference, or undefined. */
  find(nameOrId: string): string | undefined {
    const refs = this.all();
    const hex = /^(sha256:)?([0-9a-f]{4,64})$/.exec(nameOrId)?.[2];
    if (hex) {
      const byId = refs.filter((r) => imageId(r).slice(7).startsWith(hex));
      if (byId.length) return byId[0];
    }
    let n: string;
    try {
      n = normaliseImage(nameOrId);
    } catch {
      return undefined;
    }
    return refs.includes(n) ? n : undefined;
  }
}
