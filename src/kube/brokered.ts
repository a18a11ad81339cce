/**
 * @module kube/brokered
 * kuber-api in a job Pod whose own token has no rights: it asks the operator's credential broker
 * (src/operator/broker.ts) for the job's child namespace and a short-lived token there, waiting a
 * bounded time while the operator is still reconciling (503 + Retry-After, or not reachable yet),
 * and failing at once with the operator's reason on 401/403. The token is kept in a file that
 * client-node's `tokenFile` auth provider re-reads, and refreshed at 80% of its lifetime, so
 * every request carries a valid one without rebuilding the client.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { KubeConfig } from './kubeconfig.js';
import type { KubeTarget } from './config.js';
import { sleep } from './client.js';

export interface BrokeredCredentials {
  namespace: string;
  token: string;
  expirationTimestamp: string;
  /** The namespace's Pod Security enforce level (the brokered token cannot read the Namespace). */
  podSecurityEnforce?: string;
  podSecurityEnforceVersion?: string;
}

/** The namespace's Pod Security labels as the operator told them (for engine/security/gate.ts). */
export function podSecurityLabels(c: BrokeredCredentials): Record<string, string> {
  return {
    ...(c.podSecurityEnforce ? { 'pod-security.kubernetes.io/enforce': c.podSecurityEnforce } : {}),
    ...(c.podSecurityEnforceVersion
      ? { 'pod-security.kubernetes.io/enforce-version': c.podSecurityEnforceVersion }
      : {}),
  };
}

export class BrokerRefused extends Error {}

/** One request to the broker (https with `ca` when the operator serves TLS: --operator-ca-file). */
function ask(
  url: string,
  presented: string,
  ca: string | undefined,
  signal?: AbortSignal,
): Promise<{ status: number; body: any; retryAfter?: number }> {
  const u = new URL('/v1/credentials', url);
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      u,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${presented}`, 'content-length': '0' },
        ...(ca ? { ca } : {}),
        ...(signal ? { signal } : {}),
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let body: any = {};
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            /* not JSON: keep {} */
          }
          const ra = Number(res.headers['retry-after']);
          resolve({ status: res.statusCode ?? 0, body, ...(ra > 0 ? { retryAfter: ra } : {}) });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('the operator did not answer within 30 s')));
    req.on('error', reject);
    req.end();
  });
}

/** Ask until answered, at most `waitMs`: 503 and connection failures are retried, 401/403 are final. */
export async function fetchBrokered(
  url: string,
  presented: () => string,
  o: { waitMs: number; caFile?: string; signal?: AbortSignal; onWait?: (why: string) => void },
): Promise<BrokeredCredentials> {
  const ca = o.caFile ? readFileSync(o.caFile, 'utf8') : undefined;
  const deadline = Date.now() + o.waitMs;
  let last = 'no answer yet';
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await ask(url, presented(), ca, o.signal);
      if (r.status === 200) return r.body as BrokeredCredentials;
      if (r.status === 401 || r.status === 403)
        throw new BrokerRefused(
          `the kuber-api operator at ${url} refused this job's credentials (${r.status}): ${r.body?.message ?? ''}`,
        );
      last = `${r.status}: ${r.body?.message ?? ''}`;
    } catch (err) {
      if (err instanceof BrokerRefused || o.signal?.aborted) throw err;
      last = (err as Error).message;
    }
    o.onWait?.(last);
    if (Date.now() >= deadline)
      throw new Error(
        `the kuber-api operator at ${url} gave no credentials within ${o.waitMs} ms (--operator-wait-ms): ${last}`,
      );
    await sleep(Math.min(2000, 100 * 2 ** attempt, Math.max(1, deadline - Date.now())), o.signal);
  }
}

/** The same cluster, as the brokered service account in the child namespace (token read from `tokenFile`). */
export function brokeredTarget(base: KubeTarget, creds: BrokeredCredentials, tokenFile: string): KubeTarget {
  writeFileSync(tokenFile, creds.token, { mode: 0o600 });
  const cluster = base.kc.getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'kuber-api-brokered', authProvider: { name: 'tokenFile', config: { tokenFile } } }],
    contexts: [{ name: 'brokered', cluster: cluster.name, user: 'kuber-api-brokered', namespace: creds.namespace }],
    currentContext: 'brokered',
  });
  return {
    kc,
    server: base.server,
    namespace: creds.namespace,
    source: base.source,
    contextName: 'brokered',
    ...(base.configPath ? { configPath: base.configPath } : {}),
  };
}

/**
 * Refresh the token file at 80% of each token's lifetime; failures are retried at the next tick.
 * `onFresh` gets each new answer (its Pod Security level may have changed).
 */
export function keepFresh(
  creds: BrokeredCredentials,
  tokenFile: string,
  refetch: () => Promise<BrokeredCredentials>,
  onError: (err: Error) => void,
  onFresh?: (next: BrokeredCredentials) => void,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = (c: BrokeredCredentials, failed = false) => {
    const left = Date.parse(c.expirationTimestamp) - Date.now();
    const delay = failed ? Math.min(30_000, Math.max(1000, left / 4)) : Math.max(1000, left * 0.8);
    timer = setTimeout(() => {
      refetch().then(
        (next) => {
          if (stopped) return;
          writeFileSync(tokenFile, next.token, { mode: 0o600 });
          onFresh?.(next);
          schedule(next);
        },
        (err: Error) => {
          onError(err);
          if (!stopped) schedule(c, true);
        },
      );
    }, delay);
    timer.unref();
  };
  schedule(creds);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
