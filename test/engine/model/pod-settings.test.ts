import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadYaml } from '@kubernetes/client-node';
import { buildPod, type PodContext } from '../../../src/engine/model/translate.js';
import {
  checkMaxResources,
  keyValues,
  mergeSettings,
  NO_POD_SETTINGS,
  parseToleration,
  settingsFromTemplate,
  type PodSettings,
} from '../../../src/engine/model/pod-settings.js';
import { EngineError, statusFromError } from '../../../src/errors.js';
import type { CreateBody } from '../../../src/engine/model/types.js';

const id = '0123456789abcdef'.repeat(4);
const TEMPLATE = `
apiVersion: v1
kind: Pod
metadata:
  labels: { team: ci, kuber-api.io/instance: hijack }
  annotations: { sidecar.istio.io/inject: "false" }
spec:
  nodeSelector: { pool: ci }
  tolerations: [{ key: dedicated, operator: Equal, value: ci, effect: NoSchedule }]
  affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: zone, operator: In, values: [a] }] }] } } }
  imagePullSecrets: [{ name: mirror-creds }]
  serviceAccountName: ci-runner
  runtimeClassName: gvisor
  priorityClassName: ci-low
  containers:
  - name: x
    resources: { requests: { cpu: 100m, memory: 64Mi }, limits: { memory: 256Mi } }
`;
const flags: PodSettings = {
  ...NO_POD_SETTINGS,
  defaultRequests: {},
  defaultLimits: { cpu: '1' },
  maxLimits: { memory: '1Gi' },
  nodeSelector: { pool: 'fast' },
  tolerations: [parseToleration('gpu:NoSchedule')],
  imagePullSecrets: ['mirror-creds', 'other'],
  labels: {},
  annotations: keyValues(['a=b'], 'x'),
};
const settings = mergeSettings(settingsFromTemplate(loadYaml(TEMPLATE)), flags);
const ctx: PodContext = {
  namespace: 'ns',
  instance: 'inst',
  owner: { name: 'kapi-abc', uid: 'u-1' },
  killGraceSeconds: 2,
  imagePullPolicy: 'IfNotPresent',
  automountServiceAccountToken: false,
  settings,
};
const pod = (config: CreateBody) => buildPod(ctx, { id, name: 'web', config, run: 1, podName: 'web-0123456789ab' });

test('~> template and flags: every setting lands in the Pod; flags win; our labels win', () => {
  const p = pod({ Image: 'busybox', HostConfig: { Memory: 128 * 1024 * 1024 } });
  assert.is(p.metadata.labels['team'], 'ci');
  assert.is(p.metadata.labels['kuber-api.io/instance'], 'inst');
  assert.equal([p.metadata.annotations['sidecar.istio.io/inject'], p.metadata.annotations['a']], ['false', 'b']);
  assert.equal(p.spec.nodeSelector, { pool: 'fast' });
  assert.equal(
    p.spec.tolerations!.map((t) => t.key),
    ['dedicated', 'gpu'],
  );
  assert.equal(p.spec.tolerations![1], { key: 'gpu', operator: 'Exists', effect: 'NoSchedule' });
  assert.ok(p.spec.affinity?.nodeAffinity);
  assert.equal(p.spec.imagePullSecrets, [{ name: 'mirror-creds' }, { name: 'other' }]);
  assert.equal(
    [p.spec.serviceAccountName, p.spec.runtimeClassName, p.spec.priorityClassName, p.spec.automountServiceAccountToken],
    ['ci-runner', 'gvisor', 'ci-low', false],
  );
  // Docker's -m wins over the template's memory limit; cpu limit from the flag; requests from the template (memory request <= limit).
  assert.equal(p.spec.containers[0].resources, {
    limits: { memory: String(128 * 1024 * 1024), cpu: '1' },
    requests: { cpu: '100m', memory: '64Mi' },
  });
});

test('~> a default request above the container limit is lowered to it', () => {
  const p = pod({ Image: 'busybox', HostConfig: { Memory: 32 * 1024 * 1024 } });
  assert.is(p.spec.containers[0].resources!.requests!['memory'], String(32 * 1024 * 1024));
});

test('~> maximum: above is a 403 naming the flag', () => {
  checkMaxResources({ limits: { memory: '512Mi' } }, settings);
  try {
    checkMaxResources({ limits: { memory: String(2 * 1024 ** 3) } }, settings);
    assert.unreachable();
  } catch (e) {
    assert.is(statusFromError(e as EngineError), 403);
    assert.match((e as Error).message, /--pod-max-limits memory=1Gi/);
  }
});

test('~> flag syntax errors name the item', () => {
  assert.throws(() => keyValues(['novalue'], '--node-selector'), /--node-selector "novalue"/);
  assert.throws(() => parseToleration('a:Sometimes'), /toleration/);
  assert.equal(parseToleration('k=v:NoExecute'), { key: 'k', operator: 'Equal', value: 'v', effect: 'NoExecute' });
  assert.throws(() => settingsFromTemplate('x'), /YAML Pod or PodSpec/);
});

test.run();
