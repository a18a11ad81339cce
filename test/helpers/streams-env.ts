/**
 * @module test/helpers/streams-env
 * The end-to-end bed of the streaming tests (attach, exec, logs, run): kube-sim in a child process
 * (`spawnSim`, split log streams on or off) or a real cluster (KUBECONFIG), kuber-api in its own
 * child process on a private unix socket (so its RSS can be measured alone), and the real docker
 * CLI with binary-safe stdout, optional stdin, and a private config dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { spawnSim, type SpawnedSim } from './sim.js';
import { kuberApiCli } from './kuber.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ApiProcess {
  pid: number;
  child: ChildProcess;
  socketPath: string;
  dockerHost: string;
  /** kuber-api's stderr/stdout so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** Start `node dist/src/cli.js` against a kubeconfig on a private unix socket; resolves once /_ping answers. */
export async function spawnApi(
  kubeconfig: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<ApiProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'kapi-e2e-'));
  const socketPath = join(dir, 'docker.sock');
  // Its own instance ID and state dir: containers of different test files never meet, even on a real cluster.
  const instance = `t-${randomBytes(4).toString('hex')}`;
  const child = spawn(
    process.execPath,
    [
      kuberApiCli(),
      '-H',
      `unix://${socketPath}`,
      '--kubeconfig',
      kubeconfig,
      '--instance-id',
      instance,
      '--state-dir',
      join(dir, 'state'),
      '--log-level',
      process.env.TEST_LOG ?? 'warn',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  if (process.env.TEST_LOG) {
    child.stdout!.pipe(process.stderr);
    child.stderr!.pipe(process.stderr);
  }
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`kuber-api exited with ${child.exitCode}: ${out}`);
    if (await ping(socketPath)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`kuber-api did not answer /_ping within 30 s: ${out}`);
    }
    await sleep(100);
  }
  let stopped: Promise<void> | undefined;
  return {
    pid: child.pid!,
    child,
    socketPath,
    dockerHost: `unix://${socketPath}`,
    output: () => out,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        const done = () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null) return done();
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(t);
          done();
        });
        child.kill('SIGTERM');
      })),
  };
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(socketPath);
    s.once('error', () => resolve(false));
    s.once('connect', () => s.end('GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n'));
    let data = '';
    s.on('data', (d) => (data += d));
    s.on('close', () => resolve(/^HTTP\/1\.1 200/.test(data)));
  });
}

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
  api: ApiProcess;
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
  /** A real cluster's kubeconfig instead of kube-sim. */
  kubeconfig?: string;
  apiArgs?: string[];
  /** kuber-api listens on a loopback TCP port too (`tcpHost`). */
  tcp?: boolean;
}

/** A loopback TCP port free a moment ago (kuber-api binds it next; a clash fails its start loudly). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function streamsEnv(opts: EnvOptions = {}): Promise<StreamsEnv> {
  const sim = opts.kubeconfig
    ? undefined
    : await spawnSim({ featureGates: { PodLogsQuerySplitStreams: !!opts.splitStreams } });
  const kubeconfig = opts.kubeconfig ?? sim!.kubeconfigPath;
  let api: ApiProcess;
  const tcpHost = opts.tcp ? `tcp://127.0.0.1:${await freePort()}` : undefined;
  try {
    api = await spawnApi(kubeconfig, [...(tcpHost ? ['-H', tcpHost] : []), ...(opts.apiArgs ?? [])]);
  } catch (err) {
    await sim?.stop();
    throw err;
  }
  return {
    sim,
    api,
    dockerHost: api.dockerHost,
    ...(tcpHost ? { tcpHost } : {}),
    kubeconfig,
    docker: (args, o) => dockerRun(api.dockerHost, args, o),
    simState: () => (sim ? simGet(sim) : Promise.resolve({})),
    async stop() {
      await api.stop();
      await sim?.stop();
    },
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
