/**
 * Image references as containerd normalises them, the catalogue (busybox in every spelling runs on
 * the busybox root; alpine too; nginx & co on the host root with their Entrypoint/Cmd), pull
 * failures (fault list with prefixes, unknown images with `unknownImages: fail`, bad references).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FaultRegistry } from '../../../src/sim/faults.js';
import { parseImage, PullError, resolveImage } from '../../../src/sim/kubelet/images.js';

const test = suite('images');
const opts = (unknown: 'host-root' | 'fail' = 'host-root', faults = new FaultRegistry()) => ({
  catalogue: {},
  unknown,
  failPull: (i: string) => faults.imagePullFails(i),
});

test('~> references normalise as containerd reports them', () => {
  assert.is(parseImage('busybox')!.normalized, 'docker.io/library/busybox:latest');
  assert.is(parseImage('busybox:1.36')!.normalized, 'docker.io/library/busybox:1.36');
  assert.is(parseImage('docker.io/library/busybox:1.36-musl')!.normalized, 'docker.io/library/busybox:1.36-musl');
  assert.is(parseImage('index.docker.io/library/busybox')!.normalized, 'docker.io/library/busybox:latest');
  assert.is(parseImage('testcontainers/ryuk:0.11.0')!.normalized, 'docker.io/testcontainers/ryuk:0.11.0');
  assert.is(
    parseImage('registry.k8s.io/e2e-test-images/busybox:1.29-4')!.normalized,
    'registry.k8s.io/e2e-test-images/busybox:1.29-4',
  );
  assert.is(parseImage('localhost:5000/app')!.normalized, 'localhost:5000/app:latest');
  const d = `sha256:${'a'.repeat(64)}`;
  assert.is(parseImage(`busybox@${d}`)!.normalized, `docker.io/library/busybox@${d}`);
  assert.is(parseImage(`busybox:1.36@${d}`)!.digest, d);
  for (const bad of ['', 'Busybox', 'bad image', 'busybox@sha256:zz', 'a//b'])
    assert.is(parseImage(bad), undefined, bad);
});

test('~> busybox in every spelling (and alpine) run on the busybox root; others on the host root', () => {
  for (const ref of [
    'busybox',
    'busybox:1.36',
    'docker.io/library/busybox:stable-glibc',
    `busybox@sha256:${'b'.repeat(64)}`,
    'registry.k8s.io/e2e-test-images/busybox:1.29-4',
    'alpine:3.20',
  ]) {
    assert.is(resolveImage(ref, opts()).rootfs, 'busybox', ref);
  }
  const nginx = resolveImage('nginx:1.27', opts());
  assert.is(nginx.rootfs, 'host');
  assert.equal(nginx.config.entrypoint, ['/docker-entrypoint.sh']);
  assert.equal(nginx.config.cmd, ['nginx', '-g', 'daemon off;']);
  assert.is(nginx.config.stopSignal, 'SIGQUIT');
  assert.equal(resolveImage('busybox', opts()).config.cmd, ['sh']);
  assert.match(resolveImage('busybox', opts()).imageID, /^docker\.io\/library\/busybox@sha256:[0-9a-f]{64}$/);
  assert.is(resolveImage('example.com/team/tool:2', opts()).rootfs, 'host');
});

test('~> pull failures: fault list (exact and prefix*), unknown images with fail, invalid names', () => {
  const faults = new FaultRegistry();
  faults.set({ failImagePull: ['busybox:bad', 'quay.io/*'] });
  const err = (ref: string, o = opts('host-root', faults)) => {
    try {
      resolveImage(ref, o);
    } catch (e) {
      return e as PullError;
    }
    return undefined;
  };
  assert.is(err('busybox:bad')?.reason, 'ErrImagePull');
  assert.match(err('busybox:bad')!.message, 'failed to pull and unpack image "docker.io/library/busybox:bad"');
  assert.is(err('quay.io/x/y')?.reason, 'ErrImagePull');
  assert.is(err('busybox:good'), undefined);
  assert.is(err('example.com/nope', opts('fail'))?.reason, 'ErrImagePull');
  assert.is(err('busybox', opts('fail')), undefined, 'catalogue images are always available');
  assert.is(err('Not Valid')?.reason, 'InvalidImageName');
});

test.run();
