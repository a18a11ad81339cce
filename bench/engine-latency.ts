/**
 * bench/engine-latency: how fast the container model is against kube-sim (child processes, so the
 * numbers include real HTTP/TLS hops):
 * - create + start (what `docker run -d` waits for: the Pod created and seen running by watch);
 * - GET /containers/json?all=1 (`docker ps -a`) with N containers;
 * - stop (a TERM-handling process) and remove.
 *
 *   node dist/bench/engine-latency.js [runs=20] [listN=300]
 */
import http from 'node:http';
import { spawnSim } from '../test/helpers/sim.js';
import { startKuber } from '../test/helpers/kuber.js';

const runs = Number(process.argv[2] ?? 20);
const listN = Number(process.argv[3] ?? 300);

function call(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        socketPath,
        method,
        path,
        headers: data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {},
      },
      (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: b }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;
const fmt = (label: string, xs: number[]) =>
  `${label.padEnd(34)} n=${String(xs.length).padStart(4)}  median ${pct(xs, 50).toFixed(1)} ms  p90 ${pct(xs, 90).toFixed(1)} ms  max ${Math.max(...xs).toFixed(1)} ms`;

const sim = await spawnSim();
const kuber = await startKuber({ kubeconfig: sim.kubeconfigPath });
const s = kuber.socketPath;
try {
  const createStart: number[] = [],
    create: number[] = [],
    stop: number[] = [],
    remove: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const c = await call(s, 'POST', '/v1.51/containers/create', {
      Image: 'busybox',
      Cmd: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done'],
    });
    const t1 = performance.now();
    const id = JSON.parse(c.body).Id;
    const st = await call(s, 'POST', `/v1.51/containers/${id}/start`);
    if (st.status !== 204) throw new Error(`start: ${st.status} ${st.body}`);
    const t2 = performance.now();
    create.push(t1 - t0);
    createStart.push(t2 - t0);
    await call(s, 'POST', `/v1.51/containers/${id}/stop`);
    const t3 = performance.now();
    await call(s, 'DELETE', `/v1.51/containers/${id}`);
    stop.push(t3 - t2);
    remove.push(performance.now() - t3);
  }
  console.log(fmt('create', create));
  console.log(fmt('create + start (until running)', createStart));
  console.log(fmt('stop (TERM handled at once)', stop));
  console.log(fmt('rm (stopped)', remove));

  for (let i = 0; i < listN; i++)
    await call(s, 'POST', '/v1.51/containers/create', { Image: 'busybox', Labels: { bench: 'list' } });
  const list: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    const r = await call(s, 'GET', '/v1.51/containers/json?all=1');
    list.push(performance.now() - t0);
    if (JSON.parse(r.body).length < listN) throw new Error('short list');
  }
  console.log(fmt(`docker ps -a with ${listN} containers`, list));
  const inspect: number[] = [];
  const one = JSON.parse((await call(s, 'GET', '/v1.51/containers/json?all=1&limit=1')).body)[0].Id;
  for (let i = 0; i < 100; i++) {
    const t0 = performance.now();
    await call(s, 'GET', `/v1.51/containers/${one}/json`);
    inspect.push(performance.now() - t0);
  }
  console.log(fmt('inspect', inspect));
} finally {
  await kuber.stop();
  await sim.stop();
}
