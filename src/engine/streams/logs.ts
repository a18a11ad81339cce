/**
 * @module engine/streams/logs
 * Docker container logs from pods/log (moby daemon/logs.go; kubernetes pkg/registry/core/pod/rest/log.go), for `GET
 * /containers/{id}/logs` and for the output of an attach made before start.
 *
 * One Pod log becomes one Docker log stream:
 * - TTY container: one `stream=All` body, raw bytes (a terminal has one stream).
 * - Split streams available (gate PodLogsQuerySplitStreams, probed once, kube/pod-log.ts) and both
 *   stdout and stderr wanted: `stream=Stdout` and `stream=Stderr` bodies with timestamps, merged
 *   line by line in timestamp order into stdcopy streams 1 and 2 (src/stream/log-merge.ts).
 * - Split streams available, one wanted: that body alone, framed on its stream.
 * - No split streams: the one merged `All` body, framed as stdout (Kubernetes does not say which
 *   stream a line came from); a stderr-only request gets nothing. Exactly what src/ARCHITECTURE.md
 *   "Stream guarantees" promises.
 *
 * Timestamps are asked of Kubernetes only when needed (`-t`, the merge, `until`, a `since` with a
 * fraction: the apiserver forwards whole seconds): otherwise chunks pass through with no per-line
 * work. `tail` is `tailLines` on an `All` body; with split streams (`tailLines` and a specific
 * `stream` are mutually exclusive) the tail's first timestamp is learnt from one `All` request and
 * the split bodies start there (TailTrim).
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { KubeApiError, type KubeClient } from '../../kube/client.js';
import { LogFramer, pumpLog, type LogPumpEnd } from '../../stream/log-frames.js';
import { mergeLogs, type MergePumpEnd } from '../../stream/log-merge.js';
import { LineSplitter, hasTimestamp, compareTs, lineEnd, timestampKey, TS_LENGTH } from '../../stream/log-lines.js';
import type { Pausable } from '../../stream/backpressure.js';
import type { Emitter } from '../../stream/bridge.js';
import { invalid } from '../../errors.js';
import { mainState, type StreamsHost } from './host.js';
import {
  forgetSplitStreams,
  isStreamFieldRejected,
  openPodLog,
  splitStreamsSupported,
  type PodLogQuery,
} from '../../kube/pod-log.js';
import type { LogsOptions, LogSink, ContainerLogs } from '../backend/streams.js';

/** One Pod log to read. */
export interface PodLogTarget {
  namespace: string;
  pod: string;
  container: string;
  tty: boolean;
}

/** The request's options (`timestamps` keeps the prefix, `docker logs -t`), and how to read them. */
export interface LogReadOptions extends LogsOptions {
  /** follow + merge: how long a quiet stream may hold the other one's lines (ms). */
  holdMs: number;
  signal?: AbortSignal;
}

export type LogEnd = 'end' | 'until' | 'client-closed' | 'stopped' | 'gone' | { error: Error };

/** moby timetypes: 0 (or empty) means unset. */
function timeKey(v: string | undefined, what: string): Buffer | undefined {
  if (v === undefined) return undefined;
  try {
    return timestampKey(v);
  } catch {
    throw invalid(`invalid value for ${what}: failed to parse value as time or duration: "${v}"`);
  }
}

/**
 * A key as `sinceTime`: RFC 3339 with its nanoseconds. A real apiserver forwards whole seconds to
 * the kubelet (metav1.Time), so lines of that second before the key come back and are filtered
 * here; kube-sim keeps the nanoseconds and seeks straight to the key.
 */
function keySeconds(key: Buffer): string {
  return key.toString('latin1');
}

const hasFraction = (key: Buffer) => !/^\.0{9}Z$/.test(key.toString('latin1', 19, 30));

/** Validate Docker's since/until early (a 400 before the response starts). */
export function checkLogTimes(opts: { since?: string; until?: string }): void {
  timeKey(opts.since, 'since');
  timeKey(opts.until, 'until');
}

/**
 * How one Pod log is read, decided before any body is opened (pure: {@link planLog}, then
 * {@link refinePlan} once the tail's start and the streams' emptiness are known).
 */
export interface LogPlan {
  follow: boolean;
  /** Split streams are available (never for a TTY). */
  split: boolean;
  wantOut: boolean;
  wantErr: boolean;
  /** Lines before this key are dropped here (a `since` with a fraction: the apiserver sends whole seconds). */
  sinceKey?: Buffer;
  until?: Buffer;
  sinceTime?: string;
  tailLines?: number;
  /** With split streams: the tail of this many lines starts where one `All` request says (tailStart). */
  tailFromAll?: number;
  trim?: { t0: Buffer; skip: number };
  /** A finished read of both split streams: probe each for emptiness first (two 1-byte requests). */
  probeEmpty: boolean;
}

/**
 * The plan of a read, or how it ends at once. `now` is the current time as a timestamp key
 * (`--tail 0` with follow starts there).
 */
export function planLog(
  t: PodLogTarget,
  o: LogReadOptions,
  split: boolean,
  now: Buffer,
  nowIso: string,
): LogPlan | 'end' {
  const since = timeKey(o.since, 'since');
  const until = timeKey(o.until, 'until');
  const follow = o.follow && !(until && until.toString('latin1') <= nowIso.slice(0, 19));
  if (!o.stdout && !o.stderr) return 'end';
  const plan: LogPlan = {
    follow,
    split,
    wantOut: t.tty ? true : o.stdout,
    wantErr: t.tty ? false : o.stderr,
    until,
    probeEmpty: false,
  };
  if (!split && !plan.wantOut) return 'end'; // no way to tell stderr lines apart: nothing is stderr
  if (since !== undefined && hasFraction(since)) plan.sinceKey = since;
  if (since) plan.sinceTime = keySeconds(since);
  if (o.tail !== undefined && o.tail >= 0) {
    if (!split) plan.tailLines = o.tail;
    else if (o.tail === 0) {
      // `--tail 0`: nothing of what is there now; with follow, what comes from now on.
      if (!follow) return 'end';
      plan.sinceKey = since && compareTs(since, 0, now, 0) > 0 ? since : now;
      plan.sinceTime = keySeconds(plan.sinceKey);
    } else plan.tailFromAll = o.tail; // tailLines and a specific stream are mutually exclusive (ValidatePodLogOptions)
  }
  // A finished read: when one stream has nothing (the common case: no stderr at all), the other
  // is read alone, without the timestamps and the per-line merge.
  plan.probeEmpty = split && plan.wantOut && plan.wantErr && !follow;
  return plan;
}

/** The plan once the tail's start (`'all'`: fewer lines than asked) and the streams' emptiness are known. */
export function refinePlan(
  plan: LogPlan,
  tail: { t0: Buffer; skip: number } | 'all' | undefined,
  has?: { out: boolean; err: boolean },
): LogPlan | 'end' {
  const p = { ...plan };
  if (tail && tail !== 'all') {
    p.trim = tail;
    p.sinceTime = keySeconds(tail.t0);
  }
  if (has) {
    if (!has.out && !has.err) return 'end';
    if (!has.err) p.wantErr = false;
    else if (!has.out) p.wantOut = false;
  }
  return p;
}

/** The pods/log query of a plan, and whether its lines carry timestamps. */
export function planQuery(
  p: LogPlan,
  container: string,
  keepTimestamps: boolean,
): { base: PodLogQuery; merge: boolean; timestamped: boolean } {
  const merge = p.split && p.wantOut && p.wantErr;
  const timestamped =
    keepTimestamps || merge || p.sinceKey !== undefined || p.until !== undefined || p.trim !== undefined;
  const base: PodLogQuery = { container, follow: p.follow, timestamps: timestamped };
  if (p.sinceTime) base.sinceTime = p.sinceTime;
  if (p.tailLines !== undefined) base.tailLines = p.tailLines;
  return { base, merge, timestamped };
}

/** Not there to read (any more): the Pod or its container is gone, or has not started. */
const isGone = (err: unknown) =>
  err instanceof KubeApiError &&
  (err.status === 404 ||
    (err.status === 400 && /waiting to start|is terminated|not available|not found/.test(err.message)));

/**
 * Read one Pod's log into `sink` (which the caller ends). Resolves with how it ended; 'gone'
 * when the Pod or its container no longer exists (nothing to read).
 */
export async function streamPodLog(
  client: KubeClient,
  t: PodLogTarget,
  o: LogReadOptions,
  sink: LogSink,
): Promise<LogEnd> {
  let split = false;
  if (!t.tty && (o.stdout || o.stderr)) {
    try {
      split = await splitStreamsSupported(client, t.namespace, t.pod, t.container);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return 'gone';
      throw err;
    }
  }
  const nowIso = new Date().toISOString();
  const first = planLog(t, o, split, timestampKey(String(Date.now() / 1000))!, nowIso);
  if (first === 'end') return 'end';
  const tail =
    first.tailFromAll !== undefined
      ? await tailStart(client, t, first.tailFromAll, first.sinceTime, o.signal)
      : undefined;
  let has: { out: boolean; err: boolean } | undefined;
  if (first.probeEmpty) {
    const q = {
      container: t.container,
      ...(tail && tail !== 'all'
        ? { sinceTime: keySeconds(tail.t0) }
        : first.sinceTime
          ? { sinceTime: first.sinceTime }
          : {}),
      limitBytes: 1,
    };
    const [out, err] = await Promise.all([
      nonEmpty(client, t, { ...q, stream: 'Stdout' }, o.signal),
      nonEmpty(client, t, { ...q, stream: 'Stderr' }, o.signal),
    ]);
    has = { out, err };
  }
  const plan = refinePlan(first, tail, has);
  if (plan === 'end') return 'end';
  return readPlanned(client, t, o, plan, sink);
}

/** The executor: open the bodies the plan names and pump them into `sink` (merged or framed). */
async function readPlanned(
  client: KubeClient,
  t: PodLogTarget,
  o: LogReadOptions,
  plan: LogPlan,
  sink: LogSink,
): Promise<LogEnd> {
  const { base, merge, timestamped } = planQuery(plan, t.container, o.timestamps);
  const sources: IncomingMessage[] = [];
  let stopPump: (() => void) | undefined;
  const close = () => {
    for (const s of sources) s.destroy();
  };
  const onAbort = () => {
    stopPump?.();
    close();
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const open = async (stream: PodLogQuery['stream']) => {
    try {
      const res = await openPodLog(
        client,
        t.namespace,
        t.pod,
        { ...base, ...(stream ? { stream } : {}) },
        { signal: o.signal },
      );
      sources.push(res);
      return res;
    } catch (err) {
      if (stream && isStreamFieldRejected(err)) forgetSplitStreams(client); // the gate changed under us
      throw err;
    }
  };
  // The trim listens for 'data' as soon as it is made, which sets a body flowing: it is made only
  // when its consumer attaches in the same tick (made in open(), the first body of a merge flowed
  // into a TailTrim nobody listened to while the second was still opening, and its lines were lost).
  const trimmed = (res: IncomingMessage) => (plan.trim ? new TailTrim(res, plan.trim.t0, plan.trim.skip) : res);
  try {
    let pump: { stop: () => void; done: Promise<LogPumpEnd | MergePumpEnd> };
    if (merge) {
      const [outRes, errRes] = await Promise.all([open('Stdout'), open('Stderr')]);
      if (o.signal?.aborted) return 'stopped';
      const [out, err] = [trimmed(outRes), trimmed(errRes)];
      pump = mergeLogs(out, err, sink, {
        keepTimestamps: o.timestamps,
        since: plan.sinceKey,
        until: plan.until,
        holdMs: plan.follow ? o.holdMs : 0,
      });
    } else {
      const res = await open(plan.split ? (plan.wantOut ? 'Stdout' : 'Stderr') : undefined);
      const framer = new LogFramer(sink, {
        stream: plan.wantOut ? 1 : 2,
        tty: t.tty,
        timestamped,
        keepTimestamps: o.timestamps,
        since: plan.sinceKey,
        until: plan.until,
      });
      if (o.signal?.aborted) return 'stopped';
      pump = pumpLog(trimmed(res), sink, framer);
    }
    stopPump = pump.stop;
    return await pump.done;
  } catch (err) {
    if (isGone(err)) return 'gone';
    throw err;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    close();
  }
}

/**
 * Where a tail of `n` lines starts, with split streams (`tailLines` and a specific `stream` are
 * mutually exclusive): one `stream=All&tailLines=n&timestamps=true` request gives the first tail
 * line's timestamp t0 and how many tail lines carry exactly t0 (lines read in one chunk share
 * it); one `sinceTime=t0` request counts every line stamped t0. The split bodies then start at t0
 * and skip the difference. 'all' when the log has fewer than `n` lines.
 */
async function tailStart(
  client: KubeClient,
  t: PodLogTarget,
  n: number,
  sinceTime: string | undefined,
  signal?: AbortSignal,
): Promise<{ t0: Buffer; skip: number } | 'all'> {
  const q: PodLogQuery = { container: t.container, tailLines: n, timestamps: true };
  if (sinceTime) q.sinceTime = sinceTime;
  const body = await readAll(await openPodLog(client, t.namespace, t.pod, q, { signal }));
  const starts: number[] = [];
  for (let i = 0; i < body.length; i = lineEnd(body, i)) if (hasTimestamp(body, i, lineEnd(body, i))) starts.push(i);
  if (starts.length < n) return 'all';
  const t0 = Buffer.from(body.subarray(starts[0]!, starts[0]! + TS_LENGTH));
  let inTail = 0;
  for (const s of starts) if (compareTs(body, s, t0, 0) === 0) inTail++;
  // Every line stamped t0: read from t0 until the first later line.
  const res = await openPodLog(
    client,
    t.namespace,
    t.pod,
    { container: t.container, timestamps: true, sinceTime: t0.toString('latin1') },
    { signal },
  );
  let total = 0;
  await new Promise<void>((resolve) => {
    const split = new LineSplitter();
    let done = false;
    const seg = (b: Buffer) => {
      for (let i = 0; i < b.length && !done; i = lineEnd(b, i)) {
        if (!hasTimestamp(b, i, lineEnd(b, i))) continue;
        const c = compareTs(b, i, t0, 0);
        if (c === 0) total++;
        else if (c > 0) done = true;
      }
      if (done) {
        res.destroy();
        resolve();
      }
    };
    res.on('data', (c: Buffer) => split.push(c, seg));
    res.on('end', () => {
      split.end(seg);
      resolve();
    });
    res.on('error', () => resolve());
    res.on('close', () => resolve());
  });
  return { t0, skip: Math.max(0, total - inTail) };
}

/** Whether a pods/log request (with limitBytes: 1) returns anything. */
async function nonEmpty(client: KubeClient, t: PodLogTarget, q: PodLogQuery, signal?: AbortSignal): Promise<boolean> {
  try {
    return (await readAll(await openPodLog(client, t.namespace, t.pod, q, { signal }))).length > 0;
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 400) return false; // waiting to start: nothing yet
    throw err;
  }
}

async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * A timestamped log body from `t0` on: lines before `t0` are dropped, then the first `skip` lines
 * stamped exactly `t0` (they share the tail's first timestamp but precede the tail); from the
 * first line kept on, the body passes through untouched. Pause/resume reach the body.
 */
export class TailTrim extends EventEmitter implements Pausable {
  private readonly splitter = new LineSplitter();
  private passing = false;
  /** The last stamped line against t0 (an unstamped line continues it). */
  private last = -1;

  constructor(
    private readonly src: Pausable & Emitter,
    private readonly t0: Buffer,
    private skip: number,
  ) {
    super();
    src.on('data', (c: Buffer) => this.data(c));
    src.on('end', () => {
      this.splitter.end((seg) => this.lines(seg));
      this.emit('end');
    });
    src.on('error', (e: Error) => this.emit('error', e));
  }

  pause(): this {
    this.src.pause();
    return this;
  }

  resume(): this {
    this.src.resume();
    return this;
  }

  private data(chunk: Buffer): void {
    // Once passing, chunks go straight on, but only after an unfinished line the splitter holds.
    if (this.passing && this.splitter.pending === 0) this.emit('data', chunk);
    else this.splitter.push(chunk, (seg) => this.lines(seg));
  }

  private lines(seg: Buffer): void {
    if (this.passing) {
      this.emit('data', seg);
      return;
    }
    for (let i = 0; i < seg.length;) {
      const e = lineEnd(seg, i);
      const c = hasTimestamp(seg, i, e) ? Math.sign(compareTs(seg, i, this.t0, 0)) : this.last;
      this.last = c;
      if (c > 0 || (c === 0 && this.skip === 0)) {
        this.passing = true;
        // What the splitter still holds (an unfinished line) follows in order through lines().
        this.emit('data', i === 0 ? seg : seg.subarray(i));
        return;
      }
      if (c === 0) this.skip--;
      i = e;
    }
  }
}

export interface LogsHostOptions {
  holdMs: number;
}

/**
 * Resolve a container for `docker logs` (404 before any byte is sent) and say how to stream it:
 * a created container has an empty log; a run that is still coming up is waited for when
 * following (the response head is already sent, as moby's logs route sends it first), and read as it is otherwise; the
 * current run's Pod is read until its container ends (moby: follow ends when the container stops).
 */
export function containerLogs(
  host: StreamsHost,
  nameOrId: string,
  opts: LogsOptions,
  ho: LogsHostOptions,
): ContainerLogs {
  if (!opts.stdout && !opts.stderr) throw invalid('Bad parameters: you must choose at least one stream');
  checkLogTimes(opts);
  const t = host.target(nameOrId);
  const tty = !!t.config.Tty;
  return {
    tty,
    run: async (sink, signal) => {
      if (t.run === 0 || !t.podName) return; // created, never started: an empty log
      const rec = host.index.get(t.id);
      if (!rec) return;
      if (opts.follow) {
        // A run that is still starting (Pending, ContainerCreating) keeps a follow open until it runs.
        const ready = await host.index
          .when(
            () => {
              const r = host.index.get(t.id);
              if (!r || r.state.run !== t.run) return 'gone' as const;
              const st = mainState(host.index.currentPod(r), t.containerName);
              return st === 'running' || st === 'terminated'
                ? ('ok' as const)
                : st === 'absent'
                  ? ('gone' as const)
                  : undefined;
            },
            { signal },
          )
          .catch(() => 'gone' as const);
        if (ready === 'gone') return;
      }
      await streamPodLog(
        host.kube.client,
        { namespace: t.namespace, pod: t.podName, container: t.containerName, tty },
        { ...opts, holdMs: ho.holdMs, signal },
        sink,
      );
    },
  };
}
