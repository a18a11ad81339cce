/**
 * @module test/helpers/streams-env
 * The end-to-end bed of the docker-CLI tests (attach, exec, logs, run, events, networks, faults...):
 * kube-sim in a child process (`spawnSim`, split log streams on or off) or a real cluster
 * (KUBECONFIG), kuber-api in its own child process on a private unix socket (`startKuber`, so its
 * RSS can be measured alone), and the real docker CLI with binary-safe stdout, optional stdin, and
 * a private config dir. `cliSuite` is the whole preamble of a test file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { test } from 'uvu';
import { spawnSim, type SpawnedSim, type SpawnOptions } from './sim.js';
import { startKuber, type Kuber, type KuberOptions } from './kuber.js';
import { docker, dockerAvailable, type CliResult } from './docker-cli.js';
import type { RestRecord } from '../../src/sim/apiserver/server.js';
import { recordName } from '../../src/engine/model/ids.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RunResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export interface RunOptions {
  /** Bytes (or a stream) for the CLI's stdin; without it stdin is /dev/null. */
  stdin?: string | Buffer | Readable;
  timeoutMs?: number;
  /** Receive stdout as it comes instead of buffering it (e.g. md5 of 1 GiB). */
  onStdout?: (chunk: Buffer) => void;
}

let configDir: string | undefined;

/** A private, empty docker CLI config dir (no contexts, no credentials). */
export function dockerConfigDir(): string {
  return (configDir ??= mkdtempSync(join(tmpdir(), 'kapi-docker-config-')));
}

/** The docker CLI against `dockerHost`, with a private config dir. */
export function dockerRun(
  dockerHost: string,
  args: string[],
  opts: RunOptions = {},
): Promise<RunResult> & { child: ChildProcess } {
  const child = spawn('docker', args, {
    stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DOCKER_HOST: dockerHost, DOCKER_CONFIG: dockerConfigDir() },
  });
  const p = new Promise<RunResult>((resolve) => {
    const out: Buffer[] = [];
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (opts.onStdout ? opts.onStdout(d) : out.push(d)));
    child.stderr!.on('data', (d) => (err += d));
    const t = setTimeout(() => {
      err += `\n[test] docker ${args.join(' ')} timed out after ${opts.timeoutMs ?? 60_000} ms`;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.on('close', (code, sig) => {
      clearTimeout(t);
      resolve({ code: code ?? 128 + (sig === 'SIGKILL' ? 9 : 15), stdout: Buffer.concat(out), stderr: err });
    });
    if (opts.stdin !== undefined && child.stdin) {
      child.stdin.on('error', () => {});
      if (typeof opts.stdin === 'string' || Buffer.isBuffer(opts.stdin)) child.stdin.end(opts.stdin);
      else opts.stdin.pipe(child.stdin);
    }
  });
  return Object.assign(p, { child });
}

export interface StreamsEnv {
  /** kube-sim, absent against a real cluster. */
  sim?: SpawnedSim;
  api: Kuber;
  dockerHost: string;
  /** `tcp://127.0.0.1:PORT`, when the env was asked for a TCP listener too. */
  tcpHost?: string;
  kubeconfig: string;
  docker(args: string[], opts?: RunOptions): Promise<RunResult> & { child: ChildProcess };
  /** GET /_sim of kube-sim (objects, watches, open streams). */
  simState(): Promise<{ streams?: Record<string, number>; [k: string]: unknown }>;
  stop(): Promise<void>;
}

export interface EnvOptions {
  /** kube-sim's PodLogsQuerySplitStreams gate (stream=Stdout|Stderr on pods/log). */
  splitStreams?: boolean;
  /** More kube-sim options (nodes, flags). */
  sim?: SpawnOptions;
  /** A real cluster's kubeconfig instead of kube-sim. */
  kubeconfig?: string;
  /** More kuber-api options (flags, namespace, TCP). */
  api?: Omit<KuberOptions, 'kubeconfig'>;
  /** kuber-api listens on a loopback TCP port too (`tcpHost`). */
  tcp?: boolean;
}

export async function streamsEnv(opts: EnvOptions = {}): Promise<StreamsEnv> {
  const simOpts: SpawnOptions = { ...opts.sim };
  if (opts.splitStreams !== undefined)
    simOpts.featureGates = { ...simOpts.featureGates, PodLogsQuerySplitStreams: opts.splitStreams };
  const sim = opts.kubeconfig ? undefined : await spawnSim(simOpts);
  const kubeconfig = opts.kubeconfig ?? sim!.kubeconfigPath;
  let api: Kuber;
  try {
    api = await startKuber({ ...opts.api, ...(opts.tcp ? { tcp: true } : {}), kubeconfig });
  } catch (err) {
    await sim?.stop();
    throw err;
  }
  return {
    sim,
    api,
    dockerHost: api.dockerHost,
    ...(api.tcpHost ? { tcpHost: api.tcpHost } : {}),
    kubeconfig,
    docker: (args, o) => dockerRun(api.dockerHost, args, o),
    simState: () => (sim ? simGet(sim) : Promise.resolve({})),
    async stop() {
      await api.stop();
      await sim?.stop();
    },
  };
}

export interface CliSuite {
  /** The docker CLI is on PATH (else the suite's tests are skipped). */
  available: boolean;
  /** `test`, or `test.skip` when the docker CLI is not on PATH. */
  t: typeof test | typeof test.skip;
  /** The bed, once `test.before` has run. */
  env(): StreamsEnv;
  /** kube-sim of the bed. */
  sim(): SpawnedSim;
  /** The docker CLI against the bed's kuber-api, text in and out. */
  d(...args: string[]): Promise<CliResult>;
}

/**
 * The preamble of the docker-CLI e2e files: a {@link streamsEnv} started in `test.before` and
 * stopped in `test.after` of the file's suite, and its tests skipped (`SKIP <what>: ...`) without
 * the docker CLI.
 */
export function cliSuite(what: string, opts: EnvOptions & { timeoutMs?: number } = {}): CliSuite {
  const available = dockerAvailable();
  if (!available) console.log(`SKIP ${what}: no \`docker\` on PATH`);
  let env: StreamsEnv | undefined;
  test.before(async () => {
    if (available) env = await streamsEnv(opts);
  });
  test.after(async () => {
    await env?.stop();
  });
  const bed = () => {
    if (!env) throw new Error('the bed is not started (test.before has not run)');
    return env;
  };
  return {
    available,
    t: available ? test : test.skip,
    env: bed,
    sim: () => {
      const { sim } = bed();
      if (!sim) throw new Error('the bed runs on a real cluster, not kube-sim');
      return sim;
    },
    d: (...args) => docker(bed().dockerHost, args, { timeoutMs: opts.timeoutMs }),
  };
}

function simGet(sim: SpawnedSim): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    const u = new URL('/_sim', sim.url);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      { ca: sim.caPem, headers: sim.token ? { authorization: `Bearer ${sim.token}` } : {} },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(JSON.parse(body))
            : reject(new Error(`GET /_sim: ${res.statusCode} ${body}`)),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** kuber-api's resident memory now and at its peak (kB), from /proc/<pid>/status. */
export async function rss(pid: number): Promise<{ rssKb: number; hwmKb: number }> {
  const { readFile } = await import('node:fs/promises');
  const s = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

/** kuber-api's open file descriptors (sockets, pipes, files) from /proc/<pid>/fd: the handles a leak would grow. */
export async function openFds(pid: number): Promise<number> {
  const { readdir } = await import('node:fs/promises');
  return (await readdir(`/proc/${pid}/fd`)).length;
}

/**
 * The bound of a client's disconnect reaching the apiserver's stream (issue 14: "closes the upstream
 * within 1 s"). The path is one socket close in kuber-api, one WebSocket/HTTP close to kube-sim, and
 * kube-sim's close event: a few ms on an idle machine (2-16 ms measured), ~100 ms on a loaded one.
 * 1.5 s leaves half a second over the issue's second for a CI runner whose 2 cores are shared by
 * several test processes, while a path that waited on a timer or a keep-alive fails it.
 */
export const UPSTREAM_CLOSE_BOUND_MS = 1500;

/**
 * After the client dropped at `droppedAt` (Date.now()): wait until kube-sim has no `kind` stream
 * open, and return how long after the drop its last one closed, by kube-sim's own clock of the
 * close (GET /_sim `streamsClosedAt`), not by how often the test polls.
 */
export async function upstreamCloseMs(env: StreamsEnv, kind: string, droppedAt: number): Promise<number> {
  await eventually(
    async () => ((await env.simState()).streams?.[kind] ?? 0) === 0,
    15_000,
    `no ${kind} stream left open in kube-sim`,
  );
  const closedAt = ((await env.simState()).streamsClosedAt as Record<string, number> | undefined)?.[kind] ?? 0;
  return closedAt - droppedAt;
}

/** Poll `check` until it returns a truthy value (or throw after `timeoutMs`). */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(100);
  }
}

/** kube-sim's record of the recent REST requests it received (method, path, outcome). */
export async function simRest(env: StreamsEnv): Promise<RestRecord[]> {
  return ((await env.simState()).rest as RestRecord[] | undefined) ?? [];
}

/**
 * kube-sim saw kuber-api cut its `method path` request (the first one is `abandoned`: its
 * connection closed before the answer), and no retry of it arrived within `settleMs` after.
 */
export async function expectCutNotRetried(
  env: StreamsEnv,
  method: string,
  path: string,
  settleMs: number,
): Promise<void> {
  const seen = async () => (await simRest(env)).filter((r) => r.method === method && r.path === path);
  await eventually(
    async () => (await seen())[0]?.outcome === 'abandoned',
    15_000,
    `kube-sim to see the ${method} abandoned`,
  );
  await sleep(settleMs);
  const all = await seen();
  if (all.length !== 1) throw new Error(`expected one ${method} ${path} at kube-sim, saw ${JSON.stringify(all)}`);
}

/** File descriptors kuber-api may hold above a count taken before (a keep-alive socket a call opened meanwhile). */
export const FD_SLACK = 2;

/**
 * The cancelled-call scenario: a created container whose `docker rm` finds its record's DELETE
 * held back `holdMs` by kube-sim, then refused with a retryable 503 as often as asked. `cancel(id)`
 * sends DELETE /containers/{id} and makes kuber-api give it up (its client leaves, or its deadline
 * passes). Then kube-sim saw that DELETE cut and never retried, the container is as it was and
 * removable, and kuber-api's file descriptors come back to their count.
 */
export async function cancelledRemoval(
  env: StreamsEnv,
  holdMs: number,
  cancel: (id: string, deleteSeen: () => Promise<boolean>) => Promise<void>,
): Promise<void> {
  const cli = async (args: string[]) => {
    const r = await dockerRun(env.dockerHost, args);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.toString().trim();
  };
  const id = await cli(['create', '--name', uniqueName('cancel'), 'busybox', 'true']);
  const record = recordName(id);
  const path = `/api/v1/namespaces/default/configmaps/${record}`;
  const fds = await openFds(env.api.pid);
  await env.sim!.setFaults({
    delayMs: { ms: holdMs, pathContains: record },
    failRequests: { status: 503, count: 100, method: 'DELETE', pathContains: record },
  });
  try {
    await cancel(id, async () => (await simRest(env)).some((r) => r.method === 'DELETE' && r.path === path));
    // Past the held-back answer and a first backoff: a retry would have arrived by then.
    await expectCutNotRetried(env, 'DELETE', path, holdMs + 500);
  } finally {
    await env.sim!.clearFaults();
  }
  const status = await cli(['inspect', '-f', '{{.State.Status}}', id]);
  if (status !== 'created') throw new Error(`the container is ${status}, not as it was (created)`);
  await cli(['rm', id]);
  await eventually(async () => (await openFds(env.api.pid)) <= fds + FD_SLACK, 15_000, 'file descriptors back');
}

/** A unique container name for a test. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A deterministic 1 GiB producer for busybox awk: 16384 lines of ~64 KiB, each starting with its number. */
export const GIB_AWK = 'BEGIN{b=""; for(i=1;i<=12000;i++) b=b " " i; for(i=0;i<16384;i++) print i b}';

/** md5 and size of {@link GIB_AWK}'s output, produced locally by the same busybox. */
export function localAwkMd5(program: string): Promise<{ md5: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const h = createHash('md5');
    let bytes = 0;
    const p = spawn('/bin/busybox', ['awk', program], { stdio: ['ignore', 'pipe', 'inherit'] });
    p.stdout!.on('data', (d: Buffer) => {
      h.update(d);
      bytes += d.length;
    });
    p.on('error', reject);
    p.on('close', () => resolve({ md5: h.digest('hex'), bytes }));
  });
}
