/**
 * @module kube/errors
 * A Kubernetes failure as the Docker-facing `EngineError` (src/errors.ts): the one place that
 * decides which class a failed apiserver call becomes. An unreachable apiserver (no status, or
 * 503) is `unavailable`; a 403 is `forbidden` (RBAC); anything else is a system error carrying the
 * apiserver's message. Callers that expect a status (404, 409) test for it first with
 * `isNotFound`/`isConflict` (kube/client.ts) and turn it into Docker's own message.
 */
import { EngineError, systemError, unavailable } from '../errors.js';
import { KubeApiError } from './client.js';

/** `doing` names the operation ("deleting pod x"); `message` replaces the whole text. */
export function kubeError(err: unknown, doing: string, message?: string): EngineError {
  if (err instanceof EngineError) return err;
  const k = err instanceof KubeApiError ? err : undefined;
  const text = message ?? `${doing}: ${k ? k.message : ((err as Error)?.message ?? String(err))}`;
  if (k?.status === 0 || k?.status === 503) return unavailable(`Kubernetes is unreachable while ${text}`, err);
  if (k?.status === 403) return new EngineError('forbidden', `Kubernetes denied ${text}`, { cause: err });
  return systemError(text, err);
}
