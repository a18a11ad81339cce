import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lookupPod, lookupPodName, parseLookupOutput } from '../../../src/engine/users/lookup-pod.js';

const host = {
  namespace: 'ci',
  opts: {
    instance: 'i1',
    killGraceSeconds: 2,
    defaultStopTimeout: 10,
    startTimeoutMs: 60_000,
    helperImage: 'busybox:1.36',
    imagePullPolicy: 'IfNotPresent',
    users: { maxBytes: 1 << 20, cacheEntries: 4 },
  },
  pullSecretName: () => 'kapi-regcred-x',
};

test('~> the lookup Pod meets the restricted Pod Security level in every container', () => {
  type C = { securityContext: Record<string, unknown>; image: string; command: string[] };
  const p = lookupPod(host, 'busybox:latest@sha256:' + 'a'.repeat(64)) as {
    metadata: { name: string; namespace: string };
    spec: Record<string, unknown> & { initContainers: C[]; containers: C[]; securityContext: Record<string, unknown> };
  };
  assert.is(p.metadata.name, lookupPodName('i1', 'busybox:latest@sha256:' + 'a'.repeat(64)));
  assert.match(p.metadata.name, /^kapi-users-[0-9a-f]{16}$/);
  assert.is(p.metadata.namespace, 'ci');
  assert.equal(p.spec.securityContext, {
    runAsNonRoot: true,
    runAsUser: 65534,
    runAsGroup: 65534,
    seccompProfile: { type: 'RuntimeDefault' },
  });
  for (const c of [...p.spec.initContainers, ...p.spec.containers]) {
    assert.is(c.securityContext.allowPrivilegeEscalation, false);
    assert.equal(c.securityContext.capabilities, { drop: ['ALL'] });
    assert.is(c.securityContext.runAsNonRoot, true);
    assert.is(c.securityContext.runAsUser, 65534);
  }
  assert.is(p.spec.containers[0]!.image, 'busybox:latest@sha256:' + 'a'.repeat(64));
  assert.is(p.spec.initContainers[0]!.image, 'busybox:1.36');
  assert.equal(p.spec.imagePullSecrets, [{ name: 'kapi-regcred-x' }]);
  assert.is(p.spec.restartPolicy, 'Never');
});

test('~> the output splits into both files; a missing file stays undefined; a cut output is refused', () => {
  const M = '--kapi-users-5f3a--';
  assert.equal(parseLookupOutput(`${M} passwd\nroot:x:0:0::/:/bin/sh\n\n${M} group\nroot:x:0:\n\n${M} end\n`), {
    passwd: 'root:x:0:0::/:/bin/sh\n\n',
    group: 'root:x:0:\n\n',
  });
  assert.equal(parseLookupOutput(`${M} passwd\n${M} group\n${M} end\n`), {});
  assert.is(parseLookupOutput(`${M} passwd\nroot:x:0:0::/:/bin/sh\n${M} gro`), undefined);
});

test.run();
