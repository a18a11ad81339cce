/**
 * @module sim/admission/quantities
 * Resource quantities must parse, as the apiserver's decoder requires before anything else sees
 * the object (resource.Quantity's UnmarshalJSON): a bad one is a 400 `<Kind> in version "v1"
 * cannot be handled as a <Kind>: quantities must match the regular expression ...`. Checked for
 * the fields quota and limit evaluation read: pod container resources and overhead, PVC
 * resources, ResourceQuota `spec.hard`, LimitRange limits. Runs first in the mutating phase.
 */
import { parseQuantity, QuantityError } from '../../kube/quantity.js';
import { badRequest } from '../status.js';
import type { AdmissionPlugin } from './types.js';

type Obj = Record<string, any>;

function lists(kind: string, o: Obj): unknown[] {
  const spec = o.spec ?? {};
  switch (kind) {
    case 'Pod':
      return [
        spec.overhead,
        ...[...(spec.containers ?? []), ...(spec.initContainers ?? [])].flatMap((c: Obj) => [
          c?.resources?.requests,
          c?.resources?.limits,
        ]),
      ];
    case 'PersistentVolumeClaim':
      return [spec.resources?.requests, spec.resources?.limits];
    case 'ResourceQuota':
      return [spec.hard];
    case 'LimitRange':
      return (spec.limits ?? []).flatMap((l: Obj) => [
        l?.max,
        l?.min,
        l?.default,
        l?.defaultRequest,
        l?.maxLimitRequestRatio,
      ]);
  }
  return [];
}

export function quantityDecodingPlugin(): AdmissionPlugin {
  return {
    name: 'QuantityDecoding',
    admit(a) {
      if (a.def.group) return;
      for (const l of lists(a.def.kind, a.object)) {
        if (!l || typeof l !== 'object') continue;
        for (const v of Object.values(l)) {
          if (v === null) continue; // a null Quantity decodes as zero
          try {
            parseQuantity(v);
          } catch (err) {
            if (!(err instanceof QuantityError)) throw err;
            throw badRequest(
              `${a.def.kind} in version "${a.def.version}" cannot be handled as a ${a.def.kind}: ${err.message}`,
            );
          }
        }
      }
    },
  };
}
