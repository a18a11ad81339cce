/**
 * @module kube/pod-security
 * Pod Security Standards (privileged / baseline / restricted) as Kubernetes 1.33's Pod Security
 * admission evaluates them: namespace labels -> policy, pod -> checks -> the 403 text and the
 * warnings. Pure (no I/O), so kube-sim enforces it and kuber-api can evaluate a Pod before it
 * creates one.
 */
export * from './api.js';
export {
  BASELINE_CAPABILITIES,
  RESTRICTED_CAPABILITIES,
  CHECKS,
  type Check,
  type CheckFn,
  type CheckResult,
  type VersionedCheck,
} from './checks.js';
export * from './evaluate.js';
