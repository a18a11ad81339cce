/**
 * @module sim/kubelet/validate
 * The apiserver's container selection for pods/log, exec and attach (pkg/registry/core/pod/strategy.go
 * validateContainer): an empty `container` means the only container; with several, a 400 naming
 * them all (init containers first, as podutil.VisitContainers lists them).
 */
import { badRequest } from '../status.js';
import type { KObject } from '../types.js';

type Obj = Record<string, any>;

export function validateContainer(container: string, pod: KObject): string {
  const spec = (pod as Obj).spec ?? {};
  const main: Obj[] = spec.containers ?? [];
  const all: Obj[] = [...(spec.initContainers ?? []), ...main, ...(spec.ephemeralContainers ?? [])];
  if (!container) {
    if (main.length === 1) return main[0]!.name;
    if (main.length === 0) throw badRequest(`a container name must be specified for pod ${pod.metadata.name}`);
    throw badRequest(
      `a container name must be specified for pod ${pod.metadata.name}, choose one of: [${all.map((c) => c.name).join(' ')}]`,
    );
  }
  if (!all.some((c) => c.name === container))
    throw badRequest(`container ${container} is not valid for pod ${pod.metadata.name}`);
  return container;
}
