/**
 * @module operator/broker
 * The credential broker: kuber-api, in a job Pod, presents the token it was given (the job Pod's
 * own service-account token, which has no RBAC rights at all); the operator validates it with a
 * TokenReview, reads the Pod name and uid the token is bound to (the
 * `authentication.kubernetes.io/pod-name` / `pod-uid` extra of a bound token: KEP-1205), finds
 * that job Pod, and answers with a short-lived token (TokenRequest) of the service account that
 * exists only in that job's child namespace. So whatever a build container reads, it is worth that
 * job's own namespace and nothing more. Answers: 200 {namespace, token, expirationTimestamp};
 * 401 bad token; 403 not a watched job Pod; 503 + Retry-After while the namespace is not ready.
 */
import type { Logger } from '../log.js';
import type { KubeClient } from '../kube/client.js';
import type { KObject } from '../kube/cache.js';
import type { Metrics } from './metrics.js';

export interface BrokerOptions {
  /** Audiences the presented token must carry (empty: the apiserver's own). */
  audiences: readonly string[];
  /** Lifetime of issued tokens (kuber-api refreshes before it ends). */
  tokenTtlSeconds: number;
  serviceAccount: string;
  /** The child namespaces' Pod Security enforce level when a namespace has no label (yet). */
  enforce: string;
}

export interface BrokerAnswer {
  status: number;
  body: Record<string, unknown>;
  retryAfterSeconds?: number;
}

export interface BrokerJobs {
  /** The watched job Pod of that namespace and name, if any. */
  job(namespace: string, name: string): KObject | undefined;
  /** The job's child namespace, once it is fully reconciled. */
  readyChild(job: KObject): string | undefined;
  /** The child namespace's labels as last seen (a platform team may relabel it: Pod Security). */
  childLabels(child: string): Record<string, string> | undefined;
}

const ENFORCE = 'pod-security.kubernetes.io/enforce';
const ENFORCE_VERSION = 'pod-security.kubernetes.io/enforce-version';

const first = (v: unknown) => (Array.isArray(v) ? String(v[0] ?? '') : typeof v === 'string' ? v : '');

export class CredentialBroker {
  constructor(
    private readonly client: Pick<KubeClient, 'create'>,
    private readonly opts: BrokerOptions,
    private readonly jobs: BrokerJobs,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  async issue(presented: string | undefined): Promise<BrokerAnswer> {
    const refuse = (status: number, message: string): BrokerAnswer => {
      this.metrics.credentialsRefused++;
      this.log.info({ status, message }, 'credential request refused');
      return { status, body: { message } };
    };
    if (!presented) return refuse(401, "no bearer token: present the job Pod's service-account token");
    const review = await this.client.create<{
      status?: {
        authenticated?: boolean;
        user?: { username?: string; extra?: Record<string, unknown> };
        error?: string;
      };
    }>('/apis/authentication.k8s.io/v1/tokenreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token: presented, ...(this.opts.audiences.length ? { audiences: [...this.opts.audiences] } : {}) },
    });
    const st = review.status;
    if (!st?.authenticated) return refuse(401, `the token is not valid${st?.error ? `: ${st.error}` : ''}`);
    const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(st.user?.username ?? '');
    const podName = first(st.user?.extra?.['authentication.kubernetes.io/pod-name']);
    const podUid = first(st.user?.extra?.['authentication.kubernetes.io/pod-uid']);
    if (!m || !podName || !podUid)
      return refuse(403, "the token is not bound to a Pod (use the job Pod's projected service-account token)");
    const job = this.jobs.job(m[1]!, podName);
    if (!job || job.metadata.uid !== podUid)
      return refuse(403, `Pod ${m[1]}/${podName} is not a job Pod this operator manages`);
    const child = this.jobs.readyChild(job);
    if (!child)
      return {
        status: 503,
        body: { message: `the namespace of job Pod ${m[1]}/${podName} is not ready yet` },
        retryAfterSeconds: 1,
      };
    const tr = await this.client.create<{ status: { token: string; expirationTimestamp: string } }>(
      `/api/v1/namespaces/${child}/serviceaccounts/${this.opts.serviceAccount}/token`,
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: this.opts.tokenTtlSeconds },
      },
    );
    this.metrics.credentialsIssued++;
    // The namespace's own labels, not the operator's default: kuber-api's token cannot read the
    // Namespace, and it checks Pods locally at this level (a relabel is followed at each refresh).
    const labels = this.jobs.childLabels(child) ?? {};
    return {
      status: 200,
      body: {
        namespace: child,
        serviceAccount: this.opts.serviceAccount,
        token: tr.status.token,
        expirationTimestamp: tr.status.expirationTimestamp,
        podSecurityEnforce: labels[ENFORCE] ?? this.opts.enforce,
        ...(labels[ENFORCE_VERSION] ? { podSecurityEnforceVersion: labels[ENFORCE_VERSION] } : {}),
      },
    };
  }
}
