/**
 * @module operator/profiles
 * Named resource profiles: the ResourceQuota and LimitRange a child namespace gets (pure). A job
 * Pod picks one with the `kuber-api.io/profile` annotation; unknown names fall back to the
 * operator's default profile (and the choice is logged), so a typo cannot lift the limits.
 * A namespace with a ResourceQuota refuses Pods without requests: the LimitRange's defaults give
 * every container some (Kubernetes plugin/pkg/admission/limitranger).
 */
export interface Profile {
  /** ResourceQuota spec.hard. */
  quota: Record<string, string>;
  /** LimitRange, type Container. */
  defaultRequest: Record<string, string>;
  default: Record<string, string>;
  max: Record<string, string>;
}

export const PROFILES: Readonly<Record<string, Profile>> = Object.freeze({
  small: {
    quota: { pods: '10', 'requests.cpu': '2', 'requests.memory': '2Gi', 'limits.cpu': '4', 'limits.memory': '4Gi' },
    defaultRequest: { cpu: '50m', memory: '64Mi' },
    default: { cpu: '500m', memory: '512Mi' },
    max: { cpu: '2', memory: '2Gi' },
  },
  default: {
    quota: { pods: '30', 'requests.cpu': '4', 'requests.memory': '8Gi', 'limits.cpu': '8', 'limits.memory': '16Gi' },
    defaultRequest: { cpu: '100m', memory: '128Mi' },
    default: { cpu: '1', memory: '1Gi' },
    max: { cpu: '4', memory: '8Gi' },
  },
  large: {
    quota: { pods: '60', 'requests.cpu': '16', 'requests.memory': '32Gi', 'limits.cpu': '32', 'limits.memory': '64Gi' },
    defaultRequest: { cpu: '250m', memory: '256Mi' },
    default: { cpu: '2', memory: '2Gi' },
    max: { cpu: '16', memory: '32Gi' },
  },
});

export function profileFor(name: string | undefined, fallback: string): { name: string; profile: Profile } {
  if (name && Object.hasOwn(PROFILES, name)) return { name, profile: PROFILES[name]! };
  return { name: fallback, profile: PROFILES[fallback] ?? PROFILES['default']! };
}
