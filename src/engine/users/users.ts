/**
 * @module engine/users/users
 * `docker run --user name[:group]` (and an image's own named USER) on Kubernetes: a Pod's
 * securityContext takes numbers only (runAsUser/runAsGroup; the `restricted` Pod Security level
 * needs them to prove the user is not root), so kuber-api resolves names itself before it builds a
 * run's Pod, against the image's /etc/passwd and /etc/group (engine/users/passwd.ts, runc's rules),
 * as dockerd's runtime does at start. The files are read once per image, by a short-lived Pod of
 * the image (engine/users/lookup-pod.ts), and kept in memory by image digest (the image ID, else the
 * digest-pinned reference): `--user-cache-entries` images, least recently used first out.
 *
 * An explicit `--user` that cannot be resolved fails the start with runc's message, as dockerd's
 * does. An image's own named USER that cannot be resolved (the lookup Pod failed) is left to the
 * container runtime as before (it resolves names itself), with a warning in the log.
 */
import { detached } from '../../cancel-scope.js';
import { systemError } from '../../errors.js';
import { isNumericUser } from '../model/translate.js';
import type { CreateBody } from '../model/types.js';
import { resolveUser, UserLookupError, type ExecUser, type UserFiles } from './passwd.js';
import { readUserFilesByPod } from './lookup-pod.js';
import type { UsersHost } from './host.js';

/** Where an image's files come from (the lookup Pod; a registry reader could be another). */
export type UserFilesReader = (image: string) => Promise<UserFiles>;

/** What of the container the resolution needs: the Pod's config, the image and its own USER. */
export interface UserTarget {
  /** The Pod intent (engine/images/config.ts podIntent): its User is the explicit one, if any. */
  intent: CreateBody;
  /** The image's own USER (left out of the intent when the container did not override it). */
  imageUser?: string;
  /** The image ID (sha256:...), the cache key when known. */
  imageId?: string;
}

export class UserResolver {
  private readonly cache = new Map<string, Promise<UserFiles>>();
  private readonly read: UserFilesReader;

  constructor(
    private readonly host: UsersHost,
    reader?: UserFilesReader,
  ) {
    this.read = reader ?? ((image) => readUserFilesByPod(host, image));
  }

  /** The image's files, read once per digest (a failed read is not kept). */
  files(image: string, key = image): Promise<UserFiles> {
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key); // most recently used last
      this.cache.set(key, hit);
      return hit;
    }
    const p = detached(() => this.read(image)); // shared by every request for this image: not one client's to cancel
    this.cache.set(key, p);
    p.catch(() => {
      if (this.cache.get(key) === p) this.cache.delete(key);
    });
    while (this.cache.size > Math.max(1, this.host.opts.users.cacheEntries))
      this.cache.delete(this.cache.keys().next().value!);
    return p;
  }

  /** Resolve `user` for `image` (throws runc's message as a system error when the files lack it). */
  async resolve(user: string, image: string, key?: string): Promise<ExecUser> {
    const files = await this.files(image, key);
    try {
      return resolveUser(user, files);
    } catch (err) {
      if (err instanceof UserLookupError) throw systemError(err.message);
      throw err;
    }
  }

  /**
   * The Pod intent with its user as numbers (`uid:gid`): the explicit user, else the image's own
   * named USER. Numeric users and images without a USER need no lookup.
   */
  async numericIntent(t: UserTarget): Promise<CreateBody> {
    const explicit = t.intent.User;
    const user = explicit || t.imageUser;
    if (!user || isNumericUser(user)) return t.intent;
    const image = t.intent.Image ?? '';
    try {
      const u = await this.resolve(user, image, t.imageId);
      return { ...t.intent, User: `${u.uid}:${u.gid}` };
    } catch (err) {
      if (explicit) throw err;
      this.host.log.warn(
        { err: (err as Error).message, image, user },
        "the image's USER could not be resolved to numbers; the runtime resolves it",
      );
      return t.intent;
    }
  }
}
