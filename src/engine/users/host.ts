/**
 * @module engine/users/host
 * What `--user name` resolution needs from the engine (engine/kube-engine.ts provides it): the
 * Kubernetes handle and namespace, the instance and owner, the helper image and pull policy, the
 * pull Secret (the lookup Pod pulls the container's image), and its limits.
 */
import type { Logger } from '../../log.js';
import type { Kube } from '../../kube/index.js';
import type { CoreOptions } from '../core/engine-core.js';

export interface UsersHost {
  readonly kube: Kube;
  readonly namespace: string;
  readonly log: Logger;
  readonly opts: CoreOptions & {
    readonly helperImage: string;
    readonly imagePullPolicy: string;
    readonly users: { readonly maxBytes: number; readonly cacheEntries: number };
  };
  /** The Secret Pods name in imagePullSecrets (docker login), if any. */
  pullSecretName(): string | undefined;
}
