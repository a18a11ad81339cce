/**
 * Two kube-sims on one machine, as a user has them (`npm start` in one shell, the tests in
 * another): two `kuber-api sim` processes, each with its pods, under load at the same time —
 * parallel execs whose every byte and exit code is checked, followed log streams compared line by
 * line, and pods created and deleted all along (IP claims, veths, sandboxes made and torn down
 * beside the other instance's). Then one instance stops while the other streams: the survivor's
 * pods, IPs and streams are untouched, and the stopped one left nothing behind.
 *
 * What broke here before: bubblewrap's --pidns intermediate SIGKILLed execs when it exited late,
 * which CPU load from a second instance made frequent (sandbox.ts header; the deterministic test is
 * test/sim/kubelet/sandbox-pidns.test.ts). Sizes and concurrency are fixed; nothing is timed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import { spawnSim, type SpawnedSim } from '../helpers/sim.js';
import { call, until } from './client.js';

const EXECS_PER_SIM = 200;
const EXEC_CONCURRENCY = 6;
const EXEC_BYTES = 128 * 1024;
const LOG_LINES = 20_000;
const CHURN_PODS = 12;
const IPAM = '/run/kubesim/ipam';
const LINE = '0123456789abcdef\n';
const expected = Buffer.from(LINE.repeat(Math.ceil(EXEC_BYTES / LINE.length))).subarray(0, EXEC_BYTES);
const expectedLog = Array.from({ length: LOG_LINES }, (_, i) => `${i + 1}\n`).join('');

interface ExecResult {
  out: Buffer;
  err: string;
  status: string;
}

function exec(sim: SpawnedSim, pod: string, argv: string[]): Promise<ExecResult> {
  const q = new URLSearchParams({ stdout: 'true', stderr: 'true' });
  for (const a of argv) q.append('command', a);
  const url = `${sim.url.replace(/^http/, 'ws')}/api/v1/namespaces/default/pods/${pod}/exec?${q}`;
  return new Promise((resolve) => {
    const ws = new WebSocket(url, ['v5.channel.k8s.io'], {
      ca: sim.caPem,
      headers: sim.token ? { authorization: `Bearer ${sim.token}` } : {},
      perMessageDeflate: false,
    });
    const out: Buffer[] = [];
    let err = '';
    let status = '';
    ws.on('message', (d: Buffer) => {
      if (d[0] === 1) out.push(Buffer.from(d.subarray(1)));
      else if (d[0] === 2) err += d.subarray(1).toString();
      else if (d[0] === 3) status += d.subarray(1).toString();
    });
    ws.on('error', (e) => {
      err += String(e);
    });
    ws.on('close', () => resolve({ out: Buffer.concat(out), err, status }));
  });
}

const podBody = (name: string, command: string[], restartPolicy = 'Always') => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { test: 'side-by-side' } },
  spec: { restartPolicy, terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox', command }] },
});
const getPod = async (sim: SpawnedSim, name: string) =>
  (await call(sim, 'GET', `/api/v1/namespaces/default/pods/${name}`)).json;
const running = async (sim: SpawnedSim, name: string) => (await getPod(sim, name))?.status?.phase === 'Running';

/** IPs this simulator process claimed (the claim files name their owner pid). */
function claimsOf(pid: number, ips: string[]): string[] {
  return ips.filter((ip) => {
    try {
      return JSON.parse(readFileSync(`${IPAM}/${ip}`, 'utf8')).pid === pid;
    } catch {
      return false;
    }
  });
}

/** EXECS_PER_SIM checksummed execs, EXEC_CONCURRENCY at a time; returns the failures, described. */
async function execLoad(sim: SpawnedSim, label: string): Promise<string[]> {
  const bad: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < EXECS_PER_SIM) {
      next++;
      const r = await exec(sim, 'target', ['sh', '-c', `yes 0123456789abcdef | head -c ${EXEC_BYTES}`]);
      if (!r.out.equals(expected) || !/"status":"Success"/.test(r.status))
        bad.push(`${label}: ${r.out.length} bytes, status ${r.status.slice(0, 200)} ${r.err.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: EXEC_CONCURRENCY }, worker));
  return bad;
}

/** A pod that prints LOG_LINES numbered lines; its followed log must be exactly those lines. */
async function logStream(sim: SpawnedSim, name: string): Promise<string> {
  await call(
    sim,
    'POST',
    '/api/v1/namespaces/default/pods',
    podBody(name, ['sh', '-c', `sleep 1; seq 1 ${LOG_LINES}`], 'Never'),
  );
  await until(
    async () => ['Running', 'Succeeded'].includes((await getPod(sim, name))?.status?.phase),
    60_000,
    `${name} started`,
  );
  return (await call(sim, 'GET', `/api/v1/namespaces/default/pods/${name}/log?follow=true`)).text;
}

/** Pods created, run to completion and deleted one after the other (sandboxes, IPs, veths come and go). */
async function churn(sim: SpawnedSim, label: string): Promise<string[]> {
  const bad: string[] = [];
  for (let i = 0; i < CHURN_PODS; i++) {
    const name = `churn-${i}`;
    await call(sim, 'POST', '/api/v1/namespaces/default/pods', podBody(name, ['sh', '-c', 'echo churn'], 'Never'));
    await until(
      async () => ['Succeeded', 'Failed'].includes((await getPod(sim, name))?.status?.phase),
      60_000,
      `${label} ${name} done`,
    );
    const p = await getPod(sim, name);
    if (p.status.phase !== 'Succeeded')
      bad.push(`${label} ${name}: ${p.status.phase} ${JSON.stringify(p.status.containerStatuses?.[0]?.state)}`);
    await call(sim, 'DELETE', `/api/v1/namespaces/default/pods/${name}?gracePeriodSeconds=0`);
  }
  return bad;
}

test('~> two kube-sims under load side by side: every exec byte and exit code, every log line, every pod; stopping one leaves the other whole', async () => {
  const a = await spawnSim();
  const b = await spawnSim();
  try {
    for (const s of [a, b])
      await call(s, 'POST', '/api/v1/namespaces/default/pods', podBody('target', ['sleep', '100000']));
    for (const s of [a, b]) await until(() => running(s, 'target'), 60_000, 'target Running');
    const ipA = (await getPod(a, 'target')).status.podIP;
    const ipB = (await getPod(b, 'target')).status.podIP;
    assert.is.not(ipA, ipB, 'distinct pod IPs from one shared range');

    const [badA, badB, logA, logB, churnA, churnB] = await Promise.all([
      execLoad(a, 'A'),
      execLoad(b, 'B'),
      logStream(a, 'logger'),
      logStream(b, 'logger'),
      churn(a, 'A'),
      churn(b, 'B'),
    ]);
    assert.equal([...badA, ...badB], [], 'every exec delivered every byte and exited 0');
    assert.ok(logA === expectedLog, `A's log: ${logA.length} bytes, expected ${expectedLog.length}`);
    assert.ok(logB === expectedLog, `B's log: ${logB.length} bytes, expected ${expectedLog.length}`);
    assert.equal([...churnA, ...churnB], [], 'every churned pod succeeded');
    for (const s of [a, b]) assert.is((await getPod(s, 'target')).status.containerStatuses[0].restartCount, 0);

    // A stops while B streams: B's exec completes whole, B's pod and IP claim stay, A's are gone.
    const during = exec(b, 'target', ['sh', '-c', `sleep 1; yes 0123456789abcdef | head -c ${EXEC_BYTES}`]);
    const root = process.getuid?.() === 0 && existsSync(IPAM);
    if (root) assert.equal(claimsOf(a.pid, [ipA]), [ipA], "A's claim is A's");
    await a.stop();
    const r = await during;
    assert.ok(
      r.out.equals(expected) && /"status":"Success"/.test(r.status),
      `B's exec across A's stop: ${r.out.length} bytes, ${r.status}`,
    );
    assert.ok(await running(b, 'target'), "B's pod still runs");
    assert.is((await getPod(b, 'target')).status.containerStatuses[0].restartCount, 0);
    if (root) {
      assert.not.ok(existsSync(`${IPAM}/${ipA}`), "A's IP claim released");
      assert.equal(claimsOf(b.pid, [ipB]), [ipB], "B's IP claim untouched");
    }
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

test.run();
