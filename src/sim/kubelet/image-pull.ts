/**
 * @module sim/kubelet/image-pull
 * The kubelet's image manager for one pod: "pulls" (resolves) images with the events a real pull
 * records (Pulling/Pulled, or "already present" for IfNotPresent), fails as a registry would
 * (ErrImagePull with containerd's message, InvalidImageName), and backs off per image
 * (ImagePullBackOff), 10 s doubling to 5 min by default.
 */
import type { FaultRegistry } from '../faults.js';
import { nextBackoff, type Backoff, type ContainerState } from './container-state.js';
import { PullError, resolveImage, type ResolvedImage } from './images.js';
import type { KubeletConfig } from './options.js';
import type { RootfsBuilder } from './rootfs.js';

export interface PullHost {
  cfg: KubeletConfig;
  faults: FaultRegistry;
  rootfs: RootfsBuilder;
  /** Images pulled on this node (IfNotPresent then reports "already present"). */
  pulled: Set<string>;
  event(type: 'Normal' | 'Warning', reason: string, message: string): void;
  writeStatus(): void;
  /** A cancellable sleep (rejects when the pod stops). */
  sleep(ms: number): Promise<void>;
}

export class ImagePuller {
  private readonly backoff = new Map<string, Backoff>();

  constructor(private readonly host: PullHost) {}

  /** "Pull" the image: resolve it or fail as the registry would (ErrImagePull, then ImagePullBackOff). */
  async pull(cs: ContainerState): Promise<ResolvedImage | undefined> {
    const image: string = cs.spec.image ?? '';
    const policy: string = cs.spec.imagePullPolicy ?? 'IfNotPresent';
    const key = image;
    const b = this.backoff.get(key);
    if (b && Date.now() - b.lastUpdate < b.backoff) {
      const prev = cs.waiting?.message ?? '';
      cs.waiting = {
        reason: 'ImagePullBackOff',
        message: `Back-off pulling image "${image}": ${prev.startsWith('Back-off') ? prev.replace(/^Back-off pulling image "[^"]*": /, '') : `ErrImagePull: ${prev}`}`,
      };
      this.host.event('Normal', 'BackOff', `Back-off pulling image "${image}"`);
      this.host.event('Warning', 'Failed', 'Error: ImagePullBackOff');
      this.host.writeStatus();
      await this.host.sleep(b.lastUpdate + b.backoff - Date.now());
    }
    let resolved: ResolvedImage;
    try {
      resolved = resolveImage(image, {
        catalogue: this.host.cfg.imageCatalogue,
        unknown: this.host.cfg.unknownImages,
        failPull: (i) => this.host.faults.imagePullFails(i),
      });
    } catch (err) {
      if (!(err instanceof PullError)) throw err;
      const t = Date.now();
      this.backoff.set(
        key,
        nextBackoff(this.backoff.get(key), t, this.host.cfg.backoffInitialMs, this.host.cfg.backoffMaxMs),
      );
      if (err.reason === 'InvalidImageName') {
        cs.waiting = { reason: 'InvalidImageName', message: err.message };
        this.host.event('Warning', 'InspectFailed', err.message);
        this.host.event('Warning', 'Failed', 'Error: InvalidImageName');
      } else {
        if (policy !== 'Never') this.host.event('Normal', 'Pulling', `Pulling image "${image}"`);
        cs.waiting = { reason: 'ErrImagePull', message: err.message };
        this.host.event('Warning', 'Failed', `Failed to pull image "${image}": ${err.message}`);
        this.host.event('Warning', 'Failed', 'Error: ErrImagePull');
      }
      this.host.writeStatus();
      // ErrImagePull stays visible until the next sync, which finds the image in back-off.
      await this.host.sleep(Math.min(1000, this.backoff.get(key)!.backoff / 2));
      return undefined;
    }
    this.backoff.delete(key);
    const present = this.host.pulled.has(resolved.image);
    if (policy === 'Always' || (policy === 'IfNotPresent' && !present)) {
      const t0 = Date.now();
      this.host.event('Normal', 'Pulling', `Pulling image "${image}"`);
      if (resolved.rootfs === 'busybox') await this.host.rootfs.busyboxTemplate();
      const ms = Math.max(1, Date.now() - t0);
      this.host.event(
        'Normal',
        'Pulled',
        `Successfully pulled image "${image}" in ${ms}ms (${ms}ms including waiting). Image size: ${resolved.config.size} bytes.`,
      );
      this.host.pulled.add(resolved.image);
    } else this.host.event('Normal', 'Pulled', `Container image "${image}" already present on machine`);
    return resolved;
  }
}
