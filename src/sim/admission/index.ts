/**
 * @module sim/admission
 * kube-sim's admission chain, in the order kube-apiserver runs its plugins
 * (pkg/kubeapiserver/options/plugins.go): LimitRanger, PodSecurity, ResourceQuota — after the
 * quantity check the decoder would have made (quantities.ts) — mutating
 * halves first (after defaulting), validating halves after validation, all before the write.
 * NamespaceLifecycle (no new objects in a terminating namespace) and the ServiceAccount check stay
 * in the store (src/sim/store/store.ts), which every write — controllers' too — goes through.
 * ValidatingAdmissionPolicy (CEL) and admission webhooks are not simulated.
 * `installAdmission` sets the store's one admission hook and the quota controller.
 */
import type { Store } from '../store/store.js';
import { limitRangePlugin } from './limit-range.js';
import { podSecurityPlugin, type PodSecurityOptions } from './pod-security.js';
import { quantityDecodingPlugin } from './quantities.js';
import { quotaController, resourceQuotaPlugin, syncQuotas } from './resource-quota.js';
import type { AdmissionPlugin } from './types.js';

export type AdmissionOptions = PodSecurityOptions;

export function admissionPlugins(store: Store, opts: AdmissionOptions = {}): AdmissionPlugin[] {
  return [
    quantityDecodingPlugin(),
    limitRangePlugin(store),
    podSecurityPlugin(store, opts),
    resourceQuotaPlugin(store),
  ];
}

export function installAdmission(store: Store, opts: AdmissionOptions = {}): void {
  const plugins = admissionPlugins(store, opts);
  store.admission = (phase, a) => {
    for (const p of plugins) {
      if (phase === 'mutate') p.admit?.(a);
      else p.validate?.(a);
    }
  };
  store.afterWrite.push(quotaController(store));
}

export { syncQuotas };
