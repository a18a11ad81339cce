/**
 * @module bench/lib/procs
 * The processes of a benchmark run, each a child of the harness so that none shares an event loop
 * with another: kube-sim (`dist/src/cli.js sim`), kuber-api (`dist/src/cli.js`), the raw producer,
 * the raw TCP pass-through (bench/lib/raw-*.ts), the Node floor (path f) and the docker CLI's
 * in-memory ceiling (path e). Also what the harness reads from /proc about
 * them: RSS (VmRSS, and the peak VmHWM, reset through clear_refs) and CPU time (utime + stime).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is dist/bench/lib/procs.js). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli.js');
/**
 * The kuber-api that path (a) runs: the build the image runs (dist/bundle/cli.js, made by `npm run
 * build`: build/bundle.mjs), else the tsc tree. Same code; the bundle starts with less memory.
 */
export const KUBER_CLI = existsSync(join(ROOT, 'dist', 'bundle', 'cli.js'))
  ? join(ROOT, 'dist', 'bundle', 'cli.js')
  : CLI;

export interface Proc {
  name: string;
  pid: number;
  child: ChildProcess;
  /** The last lines of its stderr/stdout, for error messages. */
  tail(): string;
  stop(): Promise<void>;
}

export interface NodeFlags {
  /** Extra node flags (e.g. --cpu-prof --cpu-prof-dir D). */
  nodeArgs?: string[];
}

function launch(
  name: string,
  args: string[],
  ready: RegExp,
  opts: NodeFlags & { env?: NodeJS.ProcessEnv; timeoutMs?: number; cleanup?: () => void } = {},
): Promise<{ proc: Proc; match: RegExpExecArray }> {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  let tail = '';
  const keep = (d: Buffer) => {
    tail = (tail + d.toString('utf8')).slice(-8000);
  };
  child.stderr!.on('data', keep);
  let stopped: Promise<void> | undefined;
  const proc: Proc = {
    name,
    pid: child.pid!,
    child,
    tail: () => tail,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        const done = () => {
          opts.cleanup?.();
          resolve();
        };
        if (child.exitCode !== null || child.signalCode !== null) return done();
        // SIGTERM: graceful, so that --cpu-prof profiles get written; SIGKILL after 20 s.
        const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.once('exit', () => {
          clearTimeout(t);
          done();
        });
        child.kill('SIGTERM');
      })),
  };
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} was not ready within ${opts.timeoutMs ?? 60_000} ms:\n${tail}`));
    }, opts.timeoutMs ?? 60_000);
    const onData = (d: Buffer) => {
      keep(d);
      out += d.toString('utf8');
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.on('data', keep);
        resolve({ proc, match: m });
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? sig}) before it was ready:\n${tail}`));
    });
  });
}

export interface SimProc extends Proc {
  url: string;
  kubeconfigPath: string;
}

export async function startSim(o: NodeFlags & { tls: boolean; splitStreams: boolean }): Promise<SimProc> {
  const dir = mkdtempSync(join(tmpdir(), 'kapi-bench-sim-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  const args = [
    CLI,
    'sim',
    '--kubeconfig',
    kubeconfigPath,
    '--state-dir',
    join(dir, 'state'),
    o.tls ? '--tls' : '--no-tls',
  ];
  if (o.splitStreams) args.push('--feature-gates', 'PodLogsQuerySplitStreams=true');
  const { proc, match } = await launch('kube-sim', args, /kube-sim ready url=(\S+)/, {
    ...o,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  });
  return { ...proc, url: match[1]!, kubeconfigPath };
}

export interface KuberProc extends Proc {
  dockerHost: string;
  instance: string;
}

export async function startKuber(
  o: NodeFlags & {
    kubeconfig: string;
    namespace?: string;
    unix: boolean;
    args?: string[];
    cli?: string;
    env?: NodeJS.ProcessEnv;
  },
): Promise<KuberProc> {
  const dir = mkdtempSync(join(tmpdir(), 'kapi-bench-kuber-'));
  const instance = `bench-${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
  const host = o.unix ? `unix://${join(dir, 'docker.sock')}` : 'tcp://127.0.0.1:0';
  const args = [
    o.cli ?? KUBER_CLI,
    '-H',
    host,
    '--kubeconfig',
    o.kubeconfig,
    '--instance-id',
    instance,
    '--state-dir',
    join(dir, 'state'),
    '--log-level',
    'info',
  ];
  if (o.namespace) args.push('--namespace', o.namespace);
  args.push(...(o.args ?? []));
  const { proc, match } = await launch('kuber-api', args, /listening on ((?:tcp|unix):\/\/[^"\s]+)/, {
    ...o,
    env: { KUBECONFIG: '', ...o.env },
    timeoutMs: 120_000,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  });
  return { ...proc, dockerHost: match[1]!, instance };
}

const RAW = join(ROOT, 'dist', 'bench', 'lib');

export interface RawProc extends Proc {
  port: number;
}

export async function startProducer(o: NodeFlags = {}): Promise<RawProc> {
  const { proc, match } = await launch('raw producer', [join(RAW, 'raw-producer.js')], /ready port=(\d+)/, o);
  return { ...proc, port: Number(match[1]) };
}

export async function startProxy(target: number, o: NodeFlags = {}): Promise<RawProc> {
  const { proc, match } = await launch('raw proxy', [join(RAW, 'raw-proxy.js'), String(target)], /ready port=(\d+)/, o);
  return { ...proc, port: Number(match[1]) };
}

/** Path (f): the bare Node floor between the apiserver of `kubeconfig` and a socket (bench/lib/floor-proxy). */
export async function startFloor(kubeconfig: string, namespace: string, o: NodeFlags = {}): Promise<RawProc> {
  const { proc, match } = await launch(
    'node floor',
    [join(RAW, 'floor-proxy.js'), kubeconfig, namespace],
    /ready port=(\d+)/,
    { ...o, env: { KUBECONFIG: '' } },
  );
  return { ...proc, port: Number(match[1]) };
}

/** A bare node:http server answering every request with `[]`: the startup baseline of a Node sidecar. */
export async function startBareHttp(): Promise<RawProc> {
  const script =
    "const s=require('node:http').createServer((q,r)=>{r.writeHead(200,{'Content-Type':'application/json'});r.end('[]')});s.listen(0,'127.0.0.1',()=>console.log('ready port='+s.address().port));process.on('SIGTERM',()=>process.exit(0))";
  const { proc, match } = await launch('bare node', ['-e', script], /ready port=(\d+)/);
  return { ...proc, port: Number(match[1]) };
}

/** Path (e)'s far end: the in-memory Engine API endpoint, the docker CLI's ceiling (bench/lib/cli-ceiling). */
export async function startCeiling(o: NodeFlags = {}): Promise<RawProc> {
  const { proc, match } = await launch('CLI ceiling', [join(RAW, 'cli-ceiling.js')], /ready port=(\d+)/, o);
  return { ...proc, port: Number(match[1]) };
}

// ---- /proc ----

export interface MemStatus {
  rssKiB: number;
  hwmKiB: number;
}

export function memStatus(pid: number): MemStatus | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    return { rssKiB: Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0), hwmKiB: Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0) };
  } catch {
    return undefined;
  }
}

/** Reset VmHWM to the current RSS (Linux ≥ 4.0: "5" > clear_refs). */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

const TICK = 100; // sysconf(_SC_CLK_TCK) on Linux x86-64 and arm64

/** User + system CPU seconds of a process (its own threads, not its children). */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICK;
  } catch {
    return undefined;
  }
}

/** CPU seconds of a process and all its live descendants (kube-sim's sandboxed producers). */
export function treeCpuSeconds(pid: number): number {
  let total = 0;
  const seen = new Set<number>();
  const walk = (p: number) => {
    if (seen.has(p)) return;
    seen.add(p);
    try {
      const s = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      // utime stime cutime cstime: the reaped children's time is in cutime/cstime.
      total += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICK;
    } catch {
      return;
    }
    let kids = '';
    try {
      kids = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8');
    } catch {
      /* no children file */
    }
    for (const k of kids.split(' ')) if (k.trim()) walk(Number(k));
  };
  walk(pid);
  return total;
}

/**
 * CPU seconds of this process's children that have exited and been reaped (cutime + cstime of
 * /proc/self/stat): the docker CLI runs of path (e), which are the only children that end while
 * scenarios run.
 */
export function reapedChildrenCpuSeconds(): number {
  try {
    const s = readFileSync('/proc/self/stat', 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[13]) + Number(f[14])) / TICK;
  } catch {
    return 0;
  }
}

/** CPU seconds the whole machine spent busy (all cores, every process: ours and everyone else's). */
export function machineBusySeconds(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    return (f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!) / TICK;
  } catch {
    return 0;
  }
}

/** /proc/loadavg's first three fields. */
export function loadAverage(): number[] {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  } catch {
    return [];
  }
}
