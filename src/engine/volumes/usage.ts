/**
 * @module engine/volumes/usage
 * Volume sizes for `docker system df` (moby daemon/disk_usage.go reports each local volume's size,
 * `UsageData.Size`; -1 means not measured). A claim's usage is known to the kubelet of a node that
 * mounts it: its Summary API (k8s.io/kubelet/pkg/apis/stats/v1alpha1 types.go, `pods[].volume[]`
 * with `pvcRef` and `usedBytes`), read through the apiserver's node proxy
 * (GET /api/v1/nodes/{node}/proxy/stats/summary). That needs `get` on `nodes/proxy`, which a
 * namespaced Role cannot grant: without it, or for a claim no running Pod mounts, the size stays
 * -1 (the CLI prints it as `-1B`, where dockerd would have measured the directory).
 */
import type { KubeClient } from '../../kube/client.js';

interface Summary {
  pods?: Array<{ volume?: Array<{ usedBytes?: number; pvcRef?: { name?: string; namespace?: string } }> }>;
}

/** The used bytes of the claims in `namespace` mounted on `nodes`, by claim name (nodes that do not answer are left out). */
export async function claimUsage(
  client: Pick<KubeClient, 'get'>,
  nodes: Iterable<string>,
  namespace: string,
  onError: (node: string, err: unknown) => void,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const summaries = await Promise.all(
    [...new Set(nodes)].map((node) =>
      client.get<Summary>(`/api/v1/nodes/${encodeURIComponent(node)}/proxy/stats/summary`).catch((err: unknown) => {
        onError(node, err);
        return undefined;
      }),
    ),
  );
  for (const s of summaries)
    for (const p of s?.pods ?? [])
      for (const v of p.volume ?? []) {
        const claim = v.pvcRef?.name;
        if (claim && v.pvcRef?.namespace === namespace && typeof v.usedBytes === 'number')
          out.set(claim, Math.max(out.get(claim) ?? 0, v.usedBytes));
      }
  return out;
}
