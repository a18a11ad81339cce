/**
 * @module sim/auth/sa-volume
 * The ServiceAccount admission plugin's token volume (plugin/pkg/admission/serviceaccount/
 * admission.go): unless the Pod or its ServiceAccount sets automountServiceAccountToken: false, the
 * Pod gets a projected `kube-api-access-<random>` volume (a bound token with the kubelet's 3607 s
 * expiry, kube-root-ca.crt's ca.crt, the namespace from the downward API) mounted read-only at
 * /var/run/secrets/kubernetes.io/serviceaccount in every container that has nothing there yet.
 */
import type { KObject } from '../types.js';

type Obj = Record<string, any>;

export const SA_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
/** The kubelet's token lifetime (pkg/serviceaccount/claims.go WarnOnlyBoundTokenExpirationSeconds). */
export const WARN_ONLY_EXPIRATION_S = 60 * 60 + 7;
const ALPHA = 'bcdfghjklmnpqrstvwxz2456789';

export function mountServiceAccountToken(pod: KObject, sa: KObject | undefined): void {
  const spec: Obj = ((pod as Obj).spec ??= {});
  const auto = spec.automountServiceAccountToken ?? (sa as Obj | undefined)?.automountServiceAccountToken ?? true;
  if (!auto) return;
  const containers: Obj[] = [
    ...(spec.initContainers ?? []),
    ...(spec.containers ?? []),
    ...(spec.ephemeralContainers ?? []),
  ];
  const need = containers.filter((c) => !(c.volumeMounts ?? []).some((m: Obj) => m.mountPath === SA_MOUNT_PATH));
  if (!need.length) return;
  const volumes: Obj[] = (spec.volumes ??= []);
  let name = volumes.find((v) => v.name?.startsWith('kube-api-access-') && v.projected)?.name as string | undefined;
  if (!name) {
    const suffix = Array.from({ length: 5 }, () => ALPHA[Math.floor(Math.random() * ALPHA.length)]).join('');
    name = `kube-api-access-${suffix}`;
    volumes.push({
      name,
      projected: {
        defaultMode: 420,
        sources: [
          { serviceAccountToken: { expirationSeconds: WARN_ONLY_EXPIRATION_S, path: 'token' } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          {
            downwardAPI: {
              items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
            },
          },
        ],
      },
    });
  }
  for (const c of need) (c.volumeMounts ??= []).push({ name, readOnly: true, mountPath: SA_MOUNT_PATH });
}
