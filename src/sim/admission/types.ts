/**
 * @module sim/admission/types
 * An admission plugin of kube-sim: the mutating and validating halves of
 * k8s.io/apiserver/pkg/admission (MutationInterface.Admit, ValidationInterface.Validate).
 * Plugins throw a StatusError to refuse and push to `a.warnings` to warn.
 */
import { StatusError } from '../status.js';
import type { AdmissionAttributes } from '../store/store.js';

export type { AdmissionAttributes };

export interface AdmissionPlugin {
  readonly name: string;
  admit?(a: AdmissionAttributes): void;
  validate?(a: AdmissionAttributes): void;
}

/** The qualified resource of the attributes: `pods`, `roles.rbac.authorization.k8s.io`. */
export const groupResource = (a: AdmissionAttributes) =>
  a.def.group ? `${a.def.resource}.${a.def.group}` : a.def.resource;

/**
 * errors.NewForbidden(resource, name, err): `pods "x" is forbidden: <why>`
 * (`pods is forbidden: <why>` without a name).
 */
export function forbidden(a: AdmissionAttributes, why: string, name = a.name): StatusError {
  const gr = groupResource(a);
  return new StatusError(403, 'Forbidden', `${gr}${name ? ` ${JSON.stringify(name)}` : ''} is forbidden: ${why}`, {
    name: name || undefined,
    group: a.def.group || undefined,
    kind: a.def.resource,
  });
}

/** utilerrors.NewAggregate(errs).Error(): one message as is, several de-duplicated in brackets. */
export function aggregateMessage(msgs: string[]): string {
  const uniq = [...new Set(msgs)];
  return uniq.length === 1 ? uniq[0]! : `[${uniq.join(', ')}]`;
}
