/**
 * @module operator/options
 * `kuber-api operator` flags: each a named option with its environment variable and default (the
 * serve flags live in src/config.ts; these are the operator's own, as kube-sim has its own).
 */
import type { DesiredOptions } from './desired.js';

/** The flags, with those of the child namespaces' objects (desired.ts) among them. */
export interface OperatorOptions extends DesiredOptions {
  kubeconfig?: string;
  context?: string;
  /** Namespaces where CI job Pods run (GitLab's runner namespace). */
  jobNamespaces: string[];
  /** Label selector of job Pods. */
  jobSelector: string;
  prefix: string;
  defaultProfile: string;
  brokerAudiences: string[];
  tokenTtlSeconds: number;
  listenHost: string;
  port: number;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  resyncMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  logLevel: string;
}

interface Spec {
  key: keyof OperatorOptions;
  flag: string;
  env: string;
  kind: 'string' | 'int' | 'list' | 'map';
  def: unknown;
  help: string;
}

export const OPERATOR_SPECS: readonly Spec[] = [
  {
    key: 'kubeconfig',
    flag: 'kubeconfig',
    env: 'KUBECONFIG',
    kind: 'string',
    def: undefined,
    help: 'kubeconfig (default: in-cluster service account)',
  },
  {
    key: 'context',
    flag: 'context',
    env: 'KUBER_API_CONTEXT',
    kind: 'string',
    def: undefined,
    help: 'kubeconfig context',
  },
  {
    key: 'jobNamespaces',
    flag: 'job-namespace',
    env: 'KUBER_API_OPERATOR_JOB_NAMESPACES',
    kind: 'list',
    def: ['ci'],
    help: 'namespace of CI job Pods, repeatable',
  },
  {
    key: 'jobSelector',
    flag: 'job-selector',
    env: 'KUBER_API_OPERATOR_JOB_SELECTOR',
    kind: 'string',
    def: 'kuber-api.io/job=true',
    help: 'label selector of CI job Pods',
  },
  {
    key: 'prefix',
    flag: 'namespace-prefix',
    env: 'KUBER_API_OPERATOR_NAMESPACE_PREFIX',
    kind: 'string',
    def: 'kapi-job',
    help: 'prefix of child namespace names',
  },
  {
    key: 'defaultProfile',
    flag: 'profile',
    env: 'KUBER_API_OPERATOR_PROFILE',
    kind: 'string',
    def: 'default',
    help: 'resource profile of jobs that name none (small, default, large; a job Pod picks one with the kuber-api.io/profile annotation)',
  },
  {
    key: 'enforce',
    flag: 'pod-security-enforce',
    env: 'KUBER_API_OPERATOR_PSA_ENFORCE',
    kind: 'string',
    def: 'baseline',
    help: 'pod-security.kubernetes.io/enforce of child namespaces',
  },
  {
    key: 'warn',
    flag: 'pod-security-warn',
    env: 'KUBER_API_OPERATOR_PSA_WARN',
    kind: 'string',
    def: 'restricted',
    help: 'pod-security.kubernetes.io/warn of child namespaces',
  },
  {
    key: 'audit',
    flag: 'pod-security-audit',
    env: 'KUBER_API_OPERATOR_PSA_AUDIT',
    kind: 'string',
    def: 'restricted',
    help: 'pod-security.kubernetes.io/audit of child namespaces',
  },
  {
    key: 'sidecarClusterRole',
    flag: 'sidecar-cluster-role',
    env: 'KUBER_API_OPERATOR_SIDECAR_ROLE',
    kind: 'string',
    def: 'kuber-api-sidecar',
    help: 'ClusterRole bound in each child namespace (deploy/base/rbac-sidecar.yaml)',
  },
  {
    key: 'serviceAccount',
    flag: 'service-account',
    env: 'KUBER_API_OPERATOR_SERVICE_ACCOUNT',
    kind: 'string',
    def: 'kuber-api',
    help: 'ServiceAccount kuber-api acts as in child namespaces',
  },
  {
    key: 'dnsNamespace',
    flag: 'dns-namespace',
    env: 'KUBER_API_OPERATOR_DNS_NAMESPACE',
    kind: 'string',
    def: 'kube-system',
    help: 'namespace of cluster DNS (the DNS egress rule)',
  },
  {
    key: 'dnsPodLabels',
    flag: 'dns-pod-label',
    env: 'KUBER_API_OPERATOR_DNS_POD_LABELS',
    kind: 'map',
    def: { 'k8s-app': 'kube-dns' },
    help: 'label of cluster DNS Pods, repeatable: key=value',
  },
  {
    key: 'dnsEgressCidrs',
    flag: 'dns-egress-cidr',
    env: 'KUBER_API_OPERATOR_DNS_EGRESS_CIDRS',
    kind: 'list',
    def: [],
    help: 'more DNS servers child namespaces may reach on port 53, repeatable: a CIDR (NodeLocal DNSCache 169.254.20.10/32, a node-served DNS)',
  },
  {
    key: 'brokerAudiences',
    flag: 'broker-audience',
    env: 'KUBER_API_OPERATOR_BROKER_AUDIENCES',
    kind: 'list',
    def: [],
    help: "audience presented tokens must carry, repeatable (default: the apiserver's)",
  },
  {
    key: 'tokenTtlSeconds',
    flag: 'token-ttl-seconds',
    env: 'KUBER_API_OPERATOR_TOKEN_TTL_SECONDS',
    kind: 'int',
    def: 3600,
    help: 'lifetime of child-namespace tokens (kuber-api refreshes them; Kubernetes minimum 600)',
  },
  {
    key: 'listenHost',
    flag: 'listen-address',
    env: 'KUBER_API_OPERATOR_LISTEN_ADDRESS',
    kind: 'string',
    def: '0.0.0.0',
    help: 'address of the broker, probes and metrics',
  },
  {
    key: 'port',
    flag: 'port',
    env: 'KUBER_API_OPERATOR_PORT',
    kind: 'int',
    def: 8080,
    help: 'port of the broker, probes and metrics (0: any)',
  },
  {
    key: 'tlsCertFile',
    flag: 'tls-cert-file',
    env: 'KUBER_API_OPERATOR_TLS_CERT_FILE',
    kind: 'string',
    def: undefined,
    help: 'serve HTTPS with this certificate (PEM; with --tls-key-file): the broker hands out tokens',
  },
  {
    key: 'tlsKeyFile',
    flag: 'tls-key-file',
    env: 'KUBER_API_OPERATOR_TLS_KEY_FILE',
    kind: 'string',
    def: undefined,
    help: 'key of --tls-cert-file (PEM)',
  },
  {
    key: 'resyncMs',
    flag: 'resync-ms',
    env: 'KUBER_API_OPERATOR_RESYNC_MS',
    kind: 'int',
    def: 300_000,
    help: 'every job is reconciled and orphans swept this often',
  },
  {
    key: 'retryBaseMs',
    flag: 'retry-base-ms',
    env: 'KUBER_API_OPERATOR_RETRY_BASE_MS',
    kind: 'int',
    def: 500,
    help: 'first delay before a failed reconcile is retried (doubles)',
  },
  {
    key: 'retryMaxMs',
    flag: 'retry-max-ms',
    env: 'KUBER_API_OPERATOR_RETRY_MAX_MS',
    kind: 'int',
    def: 60_000,
    help: 'longest delay between retries of a failed reconcile',
  },
  { key: 'logLevel', flag: 'log-level', env: 'KUBER_API_LOG_LEVEL', kind: 'string', def: 'info', help: 'log level' },
];

export const OPERATOR_USAGE = `usage: kuber-api operator [flags]\n\n${OPERATOR_SPECS.map((s) => `  --${s.flag.padEnd(24)} ${s.help} (env ${s.env}; default ${JSON.stringify(s.def)})`).join('\n')}\n`;

export function parseOperatorArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): OperatorOptions {
  const o: Record<string, unknown> = {};
  const fromText = (s: Spec, text: string, prev: unknown) => {
    if (s.kind === 'int') {
      const n = Number(text);
      if (!Number.isInteger(n) || n < 0) throw new Error(`--${s.flag} needs a non-negative integer, not "${text}"`);
      return n;
    }
    if (s.kind === 'list') return [...((prev as string[]) ?? []), ...text.split(',').filter(Boolean)];
    if (s.kind === 'map') {
      const eq = text.indexOf('=');
      if (eq <= 0) throw new Error(`--${s.flag} "${text}": expected key=value`);
      return { ...((prev as object) ?? {}), [text.slice(0, eq)]: text.slice(eq + 1) };
    }
    return text;
  };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!;
    let v: string | undefined;
    if (a.startsWith('--') && a.includes('=')) [a, v] = [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)];
    const s = OPERATOR_SPECS.find((x) => `--${x.flag}` === a);
    if (!s) throw new Error(`unknown flag: ${a}\nSee 'kuber-api operator --help'.`);
    const text = v ?? argv[++i];
    if (text === undefined) throw new Error(`flag needs an argument: ${a}`);
    o[s.key] = fromText(s, text, o[s.key]);
  }
  for (const s of OPERATOR_SPECS) {
    if (o[s.key] !== undefined) continue;
    const e = env[s.env];
    o[s.key] =
      e !== undefined && e !== ''
        ? s.kind === 'map'
          ? e.split(',').reduce((acc: unknown, kv) => fromText(s, kv, acc), undefined)
          : fromText(s, e, undefined)
        : s.def;
  }
  return o as unknown as OperatorOptions;
}
