import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { podSecurityViolations } from '../../src/sim/store/pod-security.js';

const restrictedPod = {
  spec: {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [{ name: 'main', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] }, runAsUser: 65534 } }],
    volumes: [{ name: 'tmp', emptyDir: {} }],
  },
};

test('~> a pod meeting restricted passes both levels; an unknown level checks nothing', () => {
  assert.equal(podSecurityViolations('restricted', restrictedPod), []);
  assert.equal(podSecurityViolations('baseline', restrictedPod), []);
  assert.equal(podSecurityViolations('privileged', { spec: { containers: [{ name: 'x', securityContext: { privileged: true } }] } }), []);
});

test("~> a default pod under restricted: the admission's four reasons, in its words", () => {
  assert.equal(podSecurityViolations('restricted', { spec: { containers: [{ name: 'main' }] } }), [
    'allowPrivilegeEscalation != false (container "main" must set securityContext.allowPrivilegeEscalation=false)',
    'unrestricted capabilities (container "main" must set securityContext.capabilities.drop=["ALL"])',
    'runAsNonRoot != true (pod or container "main" must set securityContext.runAsNonRoot=true)',
    'seccompProfile (pod or container "main" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
  ]);
});

test('~> baseline: privileged, host namespaces, hostPath and added capabilities; restricted also root and volume types', () => {
  const pod = { spec: { hostNetwork: true, containers: [{ name: 'a', securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN'] } } }], volumes: [{ name: 'h', hostPath: { path: '/' } }] } };
  assert.equal(podSecurityViolations('baseline', pod).map((v) => v.split(' (')[0]), ['privileged', 'host namespaces', 'hostPath volumes', 'non-default capabilities']);
  const root = { spec: { ...restrictedPod.spec, securityContext: { ...restrictedPod.spec.securityContext, runAsUser: 0 }, containers: [{ ...restrictedPod.spec.containers[0], securityContext: { ...restrictedPod.spec.containers[0]!.securityContext, runAsUser: undefined } }] } };
  assert.equal(podSecurityViolations('restricted', root), ['runAsUser=0 (container "main" must not set runAsUser=0)']);
});

test.run();
