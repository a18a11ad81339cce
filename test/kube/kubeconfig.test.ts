/**
 * src/kube/kubeconfig.ts: the KubeConfig kuber-api loads is the build's bundle (dist/vendor, see
 * build/bundle.mjs) when it exists, and it resolves every kind of kubeconfig to the same
 * TLS and auth options as @kubernetes/client-node's own class: tokens, token files, client
 * certificates, basic auth, exec credential plugins, skip-verify, merged files, in-cluster; and the
 * parts the bundle loads only when used (build/bundle.mjs LAZY_STUBS): proxy agents, the fetch
 * options' Headers, the gcp auth provider's JSONPath and the oidc provider's openid-client.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as clientNode from '@kubernetes/client-node';
import { KubeConfig } from '../../src/kube/kubeconfig.js';

const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
const b64 = (s: string) => Buffer.from(s).toString('base64');
const CA = '-----BEGIN CERTIFICATE-----\nMIIBfake-ca\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nMIIBfake-cert\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIBfake-key\n-----END PRIVATE KEY-----\n';

function kubeconfig(user: string, cluster = `certificate-authority-data: ${b64(CA)}`): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:6443
    ${cluster}
contexts:
- name: x
  context: {cluster: c, user: u, namespace: ns}
current-context: x
users:
- name: u
  user:
${user
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
`;
}

writeFileSync(join(dir, 'token-file'), 'from-a-file\n');
writeFileSync(
  join(dir, 'cred.js'),
  `process.stdout.write(JSON.stringify({apiVersion:'client.authentication.k8s.io/v1',kind:'ExecCredential',status:{token:'from-exec-' + process.argv[2]}}))`,
);
writeFileSync(
  join(dir, 'gcp.js'),
  `process.stdout.write(JSON.stringify({credential:{access_token:'from-gcp',token_expiry:'2999-01-01T00:00:00Z'}}))`,
);
const CASES: Record<string, string> = {
  token: kubeconfig('token: abc'),
  'token file': kubeconfig(`tokenFile: ${join(dir, 'token-file')}`),
  'client certificate': kubeconfig(`client-certificate-data: ${b64(CERT)}\nclient-key-data: ${b64(KEY)}`),
  'basic auth, skip verify': kubeconfig('username: me\npassword: secret', 'insecure-skip-tls-verify: true'),
  'exec plugin': kubeconfig(
    `exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: ${process.execPath}\n  args: [${JSON.stringify(join(dir, 'cred.js'))}, arg1]\n  interactiveMode: Never`,
  ),
  'tls-server-name': kubeconfig('token: t', `certificate-authority-data: ${b64(CA)}\n    tls-server-name: api.example`),
  'socks proxy': kubeconfig(
    'token: t',
    `certificate-authority-data: ${b64(CA)}\n    proxy-url: socks5://127.0.0.1:1080`,
  ),
  'https proxy': kubeconfig('token: t', `certificate-authority-data: ${b64(CA)}\n    proxy-url: http://127.0.0.1:3128`),
  'gcp auth provider': kubeconfig(
    `auth-provider:\n  name: gcp\n  config:\n    cmd-path: ${process.execPath}\n    cmd-args: ${JSON.stringify(join(dir, 'gcp.js'))}\n    token-key: '{.credential.access_token}'\n    expiry-key: '{.credential.token_expiry}'`,
  ),
};

/** A class's name as written in its package: esbuild renames bundled classes (`_Headers`, `SocksProxyAgent2`). */
const className = (o: object | undefined) => o?.constructor.name.replace(/^_|\d+$/g, '');

/** What kuber-api takes from a KubeConfig: the current cluster and the TLS/auth options (src/kube/client.ts). */
async function resolved(kc: clientNode.KubeConfig): Promise<unknown> {
  const o: Record<string, unknown> = {};
  await kc.applyToHTTPSOptions(o);
  const { agent, headers, ...rest } = o;
  // node-fetch's Headers (client-node's type for it is a plain record).
  const fetchHeaders = (await kc.applyToFetchOptions({})).headers as unknown as Headers;
  return {
    server: kc.getCurrentCluster()?.server,
    context: kc.getCurrentContext(),
    agent: className(agent as object | undefined),
    headers,
    fetchHeaders: [className(fetchHeaders), ...fetchHeaders.entries()],
    ...Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString() : v])),
  };
}

test('the build made the bundle, and it is what kuber-api loads', () => {
  const vendored = fileURLToPath(new URL('../../vendor/kubeconfig.js', import.meta.url));
  if (!existsSync(vendored)) {
    // A tree built with tsc alone: the fallback is the package's own class.
    assert.is(KubeConfig, clientNode.KubeConfig);
    return;
  }
  assert.is.not(KubeConfig, clientNode.KubeConfig);
});

for (const [name, yaml] of Object.entries(CASES)) {
  test(`${name}: the same options as client-node's KubeConfig`, async () => {
    const file = join(dir, name.replace(/\W+/g, '-'));
    writeFileSync(file, yaml);
    const ours = new KubeConfig();
    ours.loadFromFile(file);
    const theirs = new clientNode.KubeConfig();
    theirs.loadFromFile(file);
    const got = await resolved(ours);
    assert.equal(got, await resolved(theirs));
    assert.ok((got as { server: string }).server === 'https://127.0.0.1:6443');
  });
}

test('oidc auth provider with an expired token: the same refresh attempt (openid-client loaded when used)', async () => {
  const jwt = [{ alg: 'none' }, { exp: 1 }].map((p) => Buffer.from(JSON.stringify(p)).toString('base64url')).join('.');
  const file = join(dir, 'oidc');
  writeFileSync(
    file,
    kubeconfig(
      `auth-provider:\n  name: oidc\n  config:\n    client-id: kuber-api\n    id-token: ${jwt}.sig\n    refresh-token: r\n    idp-issuer-url: http://127.0.0.1:9/issuer`,
    ),
  );
  const attempt = async (K: typeof clientNode.KubeConfig) => {
    const kc = new K();
    kc.loadFromFile(file);
    return kc.applyToHTTPSOptions({}).then(
      () => 'resolved',
      (err: Error) => `${err.constructor.name}: ${err.message}`,
    );
  };
  const ours = await attempt(KubeConfig);
  assert.is(ours, await attempt(clientNode.KubeConfig));
  assert.is.not(ours, 'resolved');
});

test('merged files and in-cluster: the same as client-node', async () => {
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  writeFileSync(a, CASES.token!);
  writeFileSync(
    b,
    CASES['client certificate']!.replace(/name: x/g, 'name: y')
      .replace('current-context: x', 'current-context: y')
      .replace(/name: c\b/g, 'name: c2')
      .replace('cluster: c,', 'cluster: c2,')
      .replace(/name: u\b/g, 'name: u2')
      .replace('user: u,', 'user: u2,'),
  );
  const load = (K: typeof clientNode.KubeConfig) => {
    const kc = new K();
    kc.loadFromFile(a);
    const more = new K();
    more.loadFromFile(b);
    kc.mergeConfig(more, true);
    kc.setCurrentContext('y');
    return kc;
  };
  assert.equal(await resolved(load(KubeConfig)), await resolved(load(clientNode.KubeConfig)));

  const sa = join(dir, 'root', 'var', 'run', 'secrets', 'kubernetes.io', 'serviceaccount');
  mkdirSync(sa, { recursive: true });
  writeFileSync(join(sa, 'token'), 'sa-token');
  writeFileSync(join(sa, 'ca.crt'), CA);
  const env = { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' };
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const ours = new KubeConfig();
    ours.loadFromCluster(join(dir, 'root'));
    const theirs = new clientNode.KubeConfig();
    theirs.loadFromCluster(join(dir, 'root'));
    const got = (await resolved(ours)) as { server: string; headers: unknown };
    assert.equal(got, await resolved(theirs));
    assert.is(got.server, 'https://10.0.0.1:443');
  } finally {
    for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
  }
});

test.run();
