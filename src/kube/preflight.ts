/**
 * @module kube/preflight
 * Before anything else, list each resource kuber-api needs once (`?limit=1`), so that a cluster
 * that refuses us fails the startup with one clear line instead of caches that retry a 403
 * forever while `/_ping` answers 200:
 *   - 401: the credentials are refused (expired token, wrong kubeconfig user);
 *   - 403: names the RBAC rule that is missing (the verbs kuber-api uses on that resource; the
 *     whole Role is deploy/base/clusterrole-sidecar.yaml);
 *   - unreachable (connection errors, 5xx): retried with backoff until `signal` aborts (main's
 *     startup deadline), then the last error is the message.
 */
import { KubeApiError, type KubeClient } from './client.js';

/** The resources the engine lists and watches at startup, with the verbs it uses on them (deploy/base/clusterrole-sidecar.yaml). */
export const NEEDED: readonly { resource: string; verbs: readonly string[] }[] = [
  { resource: 'pods', verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'] },
  {
    resource: 'configmaps',
    verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'],
  },
  { resource: 'services', verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'] },
  { resource: 'events', verbs: ['get', 'list', 'watch'] },
];

export class PreflightError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PreflightError';
  }
}

/** The Role rule that grants `verbs` on a core resource, as a one-line YAML flow mapping. */
export function rbacRule(resource: string, verbs: readonly string[]): string {
  return `{apiGroups: [""], resources: ["${resource}"], verbs: [${verbs.map((v) => `"${v}"`).join(', ')}]}`;
}

function describe(
  err: unknown,
  server: string,
  namespace: string,
  resource: string,
  verbs: readonly string[],
): PreflightError | undefined {
  if (!(err instanceof KubeApiError)) return undefined;
  if (err.status === 401)
    return new PreflightError(
      `the Kubernetes API at ${server} refused kuber-api's credentials (401 Unauthorized: ${err.message}): check the kubeconfig user or the service account token`,
    );
  if (err.status === 403) {
    return new PreflightError(
      `the Kubernetes API at ${server} forbids kuber-api to list ${resource} in namespace "${namespace}" (403: ${err.message}); ` +
        `the Role bound to its service account needs the rule ${rbacRule(resource, verbs)} (deploy/base/clusterrole-sidecar.yaml has every rule kuber-api needs)`,
    );
  }
  return undefined;
}

/**
 * Resolve once every needed resource can be listed; reject with a {@link PreflightError} on 401/403
 * at once, or with the last failure when `signal` aborts.
 */
export async function preflight(
  client: KubeClient,
  namespace: string,
  opts: { signal?: AbortSignal; onRetry?: (err: Error, delayMs: number) => void; retryMaxMs?: number } = {},
): Promise<void> {
  const server = client.target.server;
  let delay = 100;
  for (;;) {
    let last: Error | undefined;
    try {
      for (const { resource, verbs } of NEEDED) {
        try {
          await client.request('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/${resource}`, {
            query: { limit: 1 },
            noRetry: true,
          });
        } catch (err) {
          const fatal = describe(err, server, namespace, resource, verbs);
          if (fatal) throw fatal;
          throw err;
        }
      }
      return;
    } catch (err) {
      if (err instanceof PreflightError) throw err;
      last = err as Error;
    }
    if (opts.signal?.aborted) throw new PreflightError(`cannot reach the Kubernetes API at ${server}: ${last.message}`);
    opts.onRetry?.(last, delay);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, delay);
      opts.signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
    if (opts.signal?.aborted) throw new PreflightError(`cannot reach the Kubernetes API at ${server}: ${last.message}`);
    delay = Math.min(opts.retryMaxMs ?? 5000, delay * 2);
  }
}
