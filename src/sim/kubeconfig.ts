/**
 * @module sim/kubeconfig
 * The kubeconfig kube-sim writes for its clients: one cluster, user and context named `kube-sim`,
 * default namespace `default`, the CA inline and the bearer token (when TLS/auth are on).
 */
export interface KubeconfigInput {
  server: string;
  caPem?: string;
  token?: string;
  name?: string;
}

export function kubeconfigObject(k: KubeconfigInput): Record<string, unknown> {
  const name = k.name ?? 'kube-sim';
  const cluster: Record<string, unknown> = { server: k.server };
  if (k.caPem) cluster['certificate-authority-data'] = Buffer.from(k.caPem).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: 'default' } }],
    'current-context': name,
    users: [{ name, user: k.token ? { token: k.token } : {} }],
    preferences: {},
  };
}

/** The same document as YAML (kubectl and client-node read either; YAML is what people expect). */
export function kubeconfigYaml(k: KubeconfigInput): string {
  const name = k.name ?? 'kube-sim';
  const lines = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${name}`,
    '  cluster:',
    `    server: ${k.server}`,
    ...(k.caPem ? [`    certificate-authority-data: ${Buffer.from(k.caPem).toString('base64')}`] : []),
    'contexts:',
    `- name: ${name}`,
    '  context:',
    `    cluster: ${name}`,
    `    user: ${name}`,
    '    namespace: default',
    `current-context: ${name}`,
    'users:',
    `- name: ${name}`,
    ...(k.token ? ['  user:', `    token: ${k.token}`] : ['  user: {}']),
    'preferences: {}',
  ];
  return lines.join('\n') + '\n';
}
