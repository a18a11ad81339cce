/**
 * Pod networks across simulators: two kubelets at once share the bridge with distinct pod IPs and
 * reach each other's pods; stopping one removes its veths and IP claims and leaves the other's
 * alone; a crashed run's claims are reaped at start; `network: host` runs pods on the host
 * network with podIP 127.0.0.1; pod-to-pod traffic over the bridge; claims whose pid was reused
 * are reaped, claims from another PID namespace are not.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PODS } from '../../../src/sim/types.js';
import { busyboxPod, execIn, phase, startKubelet, waitFor, type KubeletHarness } from './helpers.js';

const test = suite('network');
const root = process.getuid?.() === 0;
const IPAM = '/run/kubesim/ipam';

const links = () => execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
const vethOf = (ip: string) => {
  const [, , x, y] = ip.split('.').map(Number) as [number, number, number, number];
  return `ksv${((x << 8) | y).toString(16).padStart(4, '0')}`;
};

async function httpdPod(h: KubeletHarness, name: string): Promise<string> {
  h.store.create(
    PODS,
    busyboxPod(name, ['sh', '-c', `mkdir /w; echo ${name} > /w/i; exec httpd -f -p 80 -h /w`], {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
    }),
  );
  await waitFor(() => phase(h.store, name) === 'Running', 15000, `${name} Running`);
  return h.store.pod(name)!.status.podIP;
}

async function get(url: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    try {
      return await (await fetch(url)).text();
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`unreachable: ${url}`);
}

if (!root) console.log('SKIP network namespace tests: not running as root');
const t = (name: string, fn: () => Promise<void>) => (root ? test(name, fn) : test.skip(name, fn));

t(
  '~> two simulators at once: distinct IPs, both reachable, pod-to-pod across them; stop cleans only its own',
  async () => {
    const a = await startKubelet();
    const b = await startKubelet();
    try {
      const ipA = await httpdPod(a, 'web-a');
      const ipB = await httpdPod(b, 'web-b');
      assert.is.not(ipA, ipB);
      assert.is(await get(`http://${ipA}/i`), 'web-a\n');
      assert.is(await get(`http://${ipB}/i`), 'web-b\n');
      const cross = await execIn(a, 'web-a', ['wget', '-q', '-O-', `http://${ipB}/i`]);
      assert.is(cross.stdout, 'web-b\n');
      assert.ok(existsSync(`${IPAM}/${ipA}`) && existsSync(`${IPAM}/${ipB}`));
      assert.match(links(), vethOf(ipA));
      await a.stop();
      assert.not.ok(existsSync(`${IPAM}/${ipA}`), 'claim released');
      assert.not.match(links(), vethOf(ipA));
      assert.is(await get(`http://${ipB}/i`), 'web-b\n');
    } finally {
      await a.stop();
      await b.stop();
    }
  },
);

t('~> a crashed run: claims of a dead owner are reaped at start', async () => {
  mkdirSync(IPAM, { recursive: true });
  const stale = '10.244.255.254';
  writeFileSync(`${IPAM}/${stale}`, JSON.stringify({ pid: 2 ** 22 + 12345, veth: vethOf(stale) }));
  const h = await startKubelet();
  try {
    assert.not.ok(existsSync(`${IPAM}/${stale}`));
  } finally {
    await h.stop();
  }
});

t(
  '~> at start, a claim whose pid now belongs to another process is reaped; one from another PID namespace is left alone',
  async () => {
    mkdirSync(IPAM, { recursive: true });
    const reused = '10.244.255.253';
    const foreign = '10.244.255.252';
    // This very process holds the pid, but it started at another time than the claim's owner.
    writeFileSync(`${IPAM}/${reused}`, JSON.stringify({ pid: process.pid, start: '1', veth: vethOf(reused) }));
    writeFileSync(
      `${IPAM}/${foreign}`,
      JSON.stringify({ pid: 2 ** 22 + 54321, start: '1', pidns: 'pid:[1]', veth: vethOf(foreign) }),
    );
    const h = await startKubelet();
    try {
      assert.not.ok(existsSync(`${IPAM}/${reused}`), 'the reused-pid claim is reaped');
      assert.ok(existsSync(`${IPAM}/${foreign}`), 'another PID namespace: not ours to judge');
    } finally {
      await h.stop();
      rmSync(`${IPAM}/${foreign}`, { force: true });
    }
  },
);

t('~> deleting a pod releases its IP and veth', async () => {
  const h = await startKubelet();
  try {
    const ip = await httpdPod(h, 'gone');
    h.store.delete(PODS, 'default', 'gone', 0);
    await waitFor(() => !existsSync(`${IPAM}/${ip}`), 10000, 'released');
    assert.not.match(links(), vethOf(ip));
  } finally {
    await h.stop();
  }
});

test('~> network: host: pods share the host network, podIP 127.0.0.1', async () => {
  const h = await startKubelet({ network: 'host' });
  try {
    const port = 20000 + Math.floor(Math.random() * 20000);
    h.store.create(
      PODS,
      busyboxPod('hostnet', ['sh', '-c', `mkdir /w; echo host > /w/i; exec httpd -f -p 127.0.0.1:${port} -h /w`], {
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 0,
      }),
    );
    await waitFor(() => phase(h.store, 'hostnet') === 'Running', 15000, 'Running');
    assert.is(h.store.pod('hostnet')!.status.podIP, '127.0.0.1');
    assert.is(await get(`http://127.0.0.1:${port}/i`), 'host\n');
  } finally {
    await h.stop();
  }
});

t('~> stopping the kubelet while pods are starting leaves no process, veth or claim behind', async () => {
  const h = await startKubelet();
  for (let i = 0; i < 4; i++)
    h.store.create(PODS, busyboxPod(`early-${i}`, ['sleep', '3600'], { restartPolicy: 'Never' }));
  await new Promise((r) => setTimeout(r, 30 + Math.random() * 150));
  const dir = h.stateDir;
  await h.stop();
  await new Promise((r) => setTimeout(r, 300));
  const procs = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(dir));
  assert.equal(procs, []);
  assert.equal(myClaims(), []);
});

/**
 * This process's IP claims. The folder is machine-wide: another simulator may release a claim between
 * the listing and the read, so a file that is gone by then is nobody's (not this process's) claim.
 */
function myClaims(): string[] {
  if (!existsSync(IPAM)) return [];
  return readdirSync(IPAM).filter((f) => {
    try {
      return JSON.parse(execFileSync('cat', [`${IPAM}/${f}`], { encoding: 'utf8', stdio: 'pipe' })).pid === process.pid;
    } catch {
      return false;
    }
  });
}

test('~> no claims are left behind by this file', () => {
  assert.equal(myClaims(), []);
});

test.run();
