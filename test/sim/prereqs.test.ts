import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isStaticElf, missingPackages, ensurePrereqs, type Prereq } from '../../src/sim/prereqs.js';

test('~> a static ELF is told from a dynamic one without running ldd', () => {
  assert.ok(isStaticElf('/bin/busybox'), '/bin/busybox (busybox-static) is static');
  assert.not.ok(isStaticElf('/bin/ls'), '/bin/ls is dynamic');
  assert.not.ok(isStaticElf('/etc/hostname'), 'not an ELF');
  assert.not.ok(isStaticElf('/nonexistent'), 'missing');
});

test('~> missingPackages names each failing package once', () => {
  const list: Prereq[] = [
    { what: 'a', pkg: 'pkg-a', ok: () => false },
    { what: 'b', pkg: 'pkg-a', ok: () => false },
    { what: 'c', pkg: 'pkg-c', ok: () => true },
  ];
  assert.equal(missingPackages(list), ['pkg-a']);
});

test('~> on this machine (after .ci/run) nothing is missing and nothing is installed', () => {
  assert.equal(ensurePrereqs({ install: false, log: () => {} }), []);
});

test('~> without them, kuber-api sim refuses to start and names the packages to install', () => {
  // An empty PATH hides bwrap, setpriv, nsenter and ip: the check fails before anything starts.
  const r = spawnSync(
    process.execPath,
    [fileURLToPath(new URL('../../src/cli.js', import.meta.url)), 'sim', '--kubeconfig', '/tmp/never-written'],
    { env: { PATH: '/nonexistent' }, encoding: 'utf8' },
  );
  assert.is(r.status, 1);
  assert.match(
    r.stderr,
    /kube-sim needs bubblewrap, util-linux, iproute2, openssl \(Debian packages\): run `apt-get install -y bubblewrap util-linux iproute2 openssl` as root/,
  );
});

test.run();
