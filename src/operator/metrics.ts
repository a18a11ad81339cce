/**
 * @module operator/metrics
 * The operator's counters and reconcile latency, in the Prometheus text exposition format
 * (version 0.0.4) served at /metrics. No dependency: a handful of numbers.
 */
const BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class Metrics {
  namespacesCreated = 0;
  namespacesDeleted = 0;
  reconcileErrors = 0;
  reconciles = 0;
  /** Writes issued (creates, patches, deletes): a steady state issues none. */
  writes = 0;
  credentialsIssued = 0;
  credentialsRefused = 0;
  private readonly latency = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 };

  observeReconcile(seconds: number): void {
    this.reconciles++;
    this.latency.sum += seconds;
    this.latency.count++;
    BUCKETS.forEach((b, i) => {
      if (seconds <= b) this.latency.counts[i]!++;
    });
  }

  text(): string {
    const c = (name: string, help: string, v: number) =>
      `# HELP ${name} ${help}\n# TYPE ${name} counter\n${name} ${v}\n`;
    const h = this.latency;
    const buckets = BUCKETS.map((b, i) => `kuber_api_operator_reconcile_seconds_bucket{le="${b}"} ${h.counts[i]}`).join(
      '\n',
    );
    return (
      c('kuber_api_operator_namespaces_created_total', 'Child namespaces created.', this.namespacesCreated) +
      c(
        'kuber_api_operator_namespaces_deleted_total',
        'Child namespaces deleted (job Pod gone, or orphans swept).',
        this.namespacesDeleted,
      ) +
      c(
        'kuber_api_operator_reconcile_errors_total',
        'Reconciles that failed (retried with backoff).',
        this.reconcileErrors,
      ) +
      c('kuber_api_operator_writes_total', 'Create, patch and delete requests issued.', this.writes) +
      c(
        'kuber_api_operator_credentials_issued_total',
        'Child-namespace tokens issued to job Pods.',
        this.credentialsIssued,
      ) +
      c('kuber_api_operator_credentials_refused_total', 'Credential requests refused.', this.credentialsRefused) +
      `# HELP kuber_api_operator_reconcile_seconds Reconcile latency.\n# TYPE kuber_api_operator_reconcile_seconds histogram\n${buckets}\n` +
      `kuber_api_operator_reconcile_seconds_bucket{le="+Inf"} ${h.count}\nkuber_api_operator_reconcile_seconds_sum ${h.sum}\nkuber_api_operator_reconcile_seconds_count ${h.count}\n`
    );
  }
}
