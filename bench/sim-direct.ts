/**
 * bench/sim-direct: kube-sim's own streaming throughput, with no kuber-api in between — the ceiling
 * kuber-api's benchmarks run under. kube-sim runs as its own process (spawnSim, as the bench and
 * e2e tests start it); this process is the client: `ws` for pods/exec and pods/attach
 * (v5.channel.k8s.io), node:http(s) for pods/log. Every byte is counted and MD5-checked.
 *
 *   node dist/bench/sim-direct.js [--size MiB=1024] [--reps 3] [--no-tls] [--tls-only]
 *
 * Prints one row per scenario and transport: the median of `reps` runs in MiB/s.
 */
import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { cpus, loadavg } from 'node:os';
import { WebSocket } from 'ws';
import { spawnSim, type SpawnedSim } from '../test/helpers/sim.js';

const args = process.argv.slice(2);
const flag = (name: string, d: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : d;
};
const SIZE_MIB = Number(flag('size', '1024'));
const REPS = Number(flag('reps', '3'));
const modes = args.includes('--no-tls') ? [false] : args.includes('--tls-only') ? [true] : [false, true];
const COUNT = SIZE_MIB * 16; // 64 KiB blocks
const PRODUCER = `dd if=/dev/zero bs=64k count=${COUNT} 2>/dev/null`;

interface Api {
  sim: SpawnedSim;
  base: URL;
  headers: Record<string, string>;
  ca?: string;
}

function call(api: Api, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = (api.base.protocol === 'https:' ? httpsRequest : httpRequest)(
      new URL(path, api.base),
      {
        method,
        ca: api.ca,
        headers: {
          ...api.headers,
          Accept: 'application/json',
          ...(data ? { 'Content-Type': 'application/json' } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

async function podPhase(api: Api, name: string): Promise<string> {
  return (await call(api, 'GET', `/api/v1/namespaces/default/pods/${name}`)).json?.status?.phase ?? '';
}

async function waitPhase(api: Api, name: string, phases: string[]): Promise<void> {
  const end = Date.now() + 60_000;
  while (!phases.includes(await podPhase(api, name))) {
    if (Date.now() > end) throw new Error(`${name} never reached ${phases.join('/')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function createPod(
  api: Api,
  name: string,
  command: string[],
  extra: Record<string, unknown> = {},
): Promise<void> {
  const r = await call(api, 'POST', '/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'c', image: 'busybox', command, ...extra }],
    },
  });
  if (r.status !== 201) throw new Error(`create ${name}: ${r.status} ${JSON.stringify(r.json)}`);
}

async function deletePod(api: Api, name: string): Promise<void> {
  await call(api, 'DELETE', `/api/v1/namespaces/default/pods/${name}?gracePeriodSeconds=0`);
}

/** Receive one channel of a WebSocket session; returns bytes, md5, and the status text. */
function wsReceive(
  api: Api,
  path: string,
  channel: number,
  onOpen?: (ws: WebSocket) => void,
): Promise<{ bytes: number; md5: string; status: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, api.base);
    url.protocol = api.base.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url, ['v5.channel.k8s.io'], {
      headers: api.headers,
      ca: api.ca,
      perMessageDeflate: false,
      maxPayload: 64 << 20,
    });
    const md5 = createHash('md5');
    let bytes = 0;
    let status = '';
    ws.on('open', () => onOpen?.(ws));
    ws.on('message', (d: Buffer) => {
      if (d[0] === channel) {
        bytes += d.length - 1;
        md5.update(d.subarray(1));
      } else if (d[0] === 3) status += d.subarray(1).toString();
    });
    ws.on('close', () => resolve({ bytes, md5: md5.digest('hex'), status }));
    ws.on('error', reject);
  });
}

function httpReceive(api: Api, path: string): Promise<{ bytes: number; md5: string }> {
  return new Promise((resolve, reject) => {
    const req = (api.base.protocol === 'https:' ? httpsRequest : httpRequest)(
      new URL(path, api.base),
      { headers: api.headers, ca: api.ca },
      (res: IncomingMessage) => {
        const md5 = createHash('md5');
        let bytes = 0;
        res.on('data', (d: Buffer) => {
          bytes += d.length;
          md5.update(d);
        });
        res.on('end', () => resolve({ bytes, md5: md5.digest('hex') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const zeroMd5 = (() => {
  const h = createHash('md5');
  const z = Buffer.alloc(64 << 10);
  for (let i = 0; i < COUNT; i++) h.update(z);
  return h.digest('hex');
})();
const TOTAL = COUNT * (64 << 10);

function check(what: string, r: { bytes: number; md5: string }): void {
  if (r.bytes !== TOTAL || r.md5 !== zeroMd5)
    throw new Error(`${what}: got ${r.bytes} bytes (md5 ${r.md5}), want ${TOTAL} (md5 ${zeroMd5})`);
}

type Scenario = { name: string; run: (api: Api, rep: number) => Promise<number> };

const scenarios: Scenario[] = [
  {
    name: 'exec stdout (ws v5)',
    run: async (api) => {
      const t0 = performance.now();
      const r = await wsReceive(
        api,
        `/api/v1/namespaces/default/pods/runner/exec?command=sh&command=-c&command=${encodeURIComponent(PRODUCER)}&stdout=true&stderr=true`,
        1,
      );
      const ms = performance.now() - t0;
      check('exec', r);
      return ms;
    },
  },
  {
    name: 'exec stdin (ws v5)',
    run: async (api) => {
      const chunk = Buffer.concat([Buffer.from([0]), Buffer.alloc(1 << 20)]);
      const t0 = performance.now();
      let out = '';
      await new Promise<void>((resolve, reject) => {
        const url = new URL(
          `/api/v1/namespaces/default/pods/runner/exec?command=sh&command=-c&command=${encodeURIComponent('dd of=/dev/null bs=64k iflag=fullblock 2>&1 | tail -n1')}&stdin=true&stdout=true`,
          api.base,
        );
        url.protocol = api.base.protocol === 'https:' ? 'wss:' : 'ws:';
        const ws = new WebSocket(url, ['v5.channel.k8s.io'], {
          headers: api.headers,
          ca: api.ca,
          perMessageDeflate: false,
        });
        // Keep at most 8 MiB in flight: each send's callback (data handed to the socket) frees a slot.
        let sent = 0;
        let inflight = 0;
        const pump = () => {
          while (sent < SIZE_MIB && inflight < 8) {
            sent++;
            inflight++;
            ws.send(chunk, () => {
              inflight--;
              pump();
            });
          }
          if (sent === SIZE_MIB && inflight === 0) {
            sent++;
            ws.send(Buffer.from([255, 0]));
          }
        };
        ws.on('open', pump);
        ws.on('message', (d: Buffer) => d[0] === 1 && (out += d.subarray(1).toString()));
        ws.on('close', () => resolve());
        ws.on('error', reject);
      });
      const ms = performance.now() - t0;
      // busybox dd's "N+0 records out" in full 64 KiB blocks (busybox wc -c reads 4 KiB at a time: too slow to count with).
      if (out.trim() !== `${COUNT}+0 records out`) throw new Error(`stdin: the process counted: ${out.trim()}`);
      return ms;
    },
  },
  {
    name: 'attach stdout (ws v5)',
    run: async (api, rep) => {
      const name = `att-${rep}`;
      await createPod(api, name, ['sh', '-c', `read go; ${PRODUCER}`], { stdin: true, stdinOnce: true });
      await waitPhase(api, name, ['Running']);
      const t0 = performance.now();
      const r = await wsReceive(
        api,
        `/api/v1/namespaces/default/pods/${name}/attach?stdin=true&stdout=true&stderr=true`,
        1,
        (ws) => ws.send(Buffer.from([0, ...Buffer.from('go\n')])),
      );
      const ms = performance.now() - t0;
      check('attach', r);
      await deletePod(api, name);
      return ms;
    },
  },
  {
    name: 'pods/log follow, while written',
    run: async (api, rep) => {
      const name = `log-${rep}`;
      await createPod(api, name, ['sh', '-c', `sleep 0.2; ${PRODUCER}`]);
      await waitPhase(api, name, ['Running', 'Succeeded']);
      const t0 = performance.now();
      const r = await httpReceive(api, `/api/v1/namespaces/default/pods/${name}/log?follow=true`);
      const ms = performance.now() - t0;
      check('log follow', r);
      return ms;
    },
  },
  {
    name: 'pods/log, finished container',
    run: async (api, rep) => {
      const name = `log-${rep}`;
      await waitPhase(api, name, ['Succeeded']);
      const t0 = performance.now();
      const r = await httpReceive(api, `/api/v1/namespaces/default/pods/${name}/log`);
      const ms = performance.now() - t0;
      check('log', r);
      await deletePod(api, name);
      return ms;
    },
  },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: string[][] = [];
console.error(
  `kube-sim direct throughput: ${SIZE_MIB} MiB per run, ${REPS} reps, ${cpus().length} CPUs, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
for (const tls of modes) {
  const sim = await spawnSim({ tls });
  const api: Api = {
    sim,
    base: new URL(sim.url),
    headers: sim.token ? { Authorization: `Bearer ${sim.token}` } : {},
    ca: sim.caPem,
  };
  try {
    await createPod(api, 'runner', ['sleep', '3600']);
    await waitPhase(api, 'runner', ['Running']);
    for (const s of scenarios) {
      const times: number[] = [];
      for (let rep = 0; rep < REPS; rep++) times.push(await s.run(api, rep));
      const ms = median(times);
      const rate = SIZE_MIB / (ms / 1000);
      rows.push([
        s.name,
        tls ? 'https' : 'http',
        `${SIZE_MIB}`,
        (ms / 1000).toFixed(2),
        rate.toFixed(0),
        times.map((t) => (SIZE_MIB / (t / 1000)).toFixed(0)).join(' '),
      ]);
      console.error(`  ${s.name} (${tls ? 'https' : 'http'}): ${rate.toFixed(0)} MiB/s`);
    }
  } finally {
    await sim.stop();
  }
}
const head = ['scenario', 'transport', 'MiB', 'median s', 'MiB/s', 'each run MiB/s'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => r.map((c, i) => (i >= 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
console.log(line(head));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
