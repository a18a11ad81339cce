/**
 * @module sim/kubelet/log-serve
 * pods/log: the apiserver's option validation (PodLogOptions, 422 Invalid; the
 * PodLogsQuerySplitStreams gate decides whether `stream` is allowed), its container selection
 * (400 BadRequest), the kubelet's choice of container instance (validateContainerLogStatus: running,
 * terminated, previous, or "waiting to start" errors) and the CRI log reader's options (tailLines,
 * sinceTime/sinceSeconds, timestamps at each line start, limitBytes cutting mid-line, follow until
 * that container instance ends). 200 text/plain, chunked, with backpressure: no file read while
 * the socket's write buffer is full.
 */
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultRegistry } from '../faults.js';
import { badRequest, StatusError, writeStatus } from '../status.js';
import type { KObject } from '../types.js';
import type { ContainerInstance } from './container.js';
import {
  formatTs,
  nowNs,
  RECORD_OVERHEAD,
  RecordReader,
  tailStart,
  type LogFile,
  type LogRecord,
} from './log-store.js';
import type { PodWorker } from './pod-worker.js';
import { validateContainer } from './validate.js';

type Obj = Record<string, any>;

export interface LogOptions {
  container: string;
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  limitBytes?: number;
  sinceSeconds?: number;
  sinceTime?: string;
  stream?: string;
}

/** Convert_Slice_string_To_bool: absent false; "false"/"0" false; anything else (even "") true. */
export function queryBool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null) return false;
  return !(v.toLowerCase() === 'false' || v === '0');
}

function queryInt(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^[+-]?\d+$/.test(v)) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
}

const fieldErr = (field: string, type: string, detail: string) => ({ field, type, detail });

/** validation.ValidatePodLogOptions (pkg/apis/core/validation) with the split-streams gate. */
export function parseLogOptions(q: URLSearchParams, podName: string, splitStreams: boolean): LogOptions {
  const opts: LogOptions = {
    container: q.get('container') ?? '',
    follow: queryBool(q, 'follow'),
    previous: queryBool(q, 'previous'),
    timestamps: queryBool(q, 'timestamps'),
    tailLines: queryInt(q, 'tailLines'),
    limitBytes: queryInt(q, 'limitBytes'),
    sinceSeconds: queryInt(q, 'sinceSeconds'),
    sinceTime: q.get('sinceTime') ?? undefined,
    stream: q.get('stream') ?? undefined,
  };
  if (opts.sinceTime !== undefined && Number.isNaN(Date.parse(opts.sinceTime))) {
    throw badRequest(
      `parsing time ${JSON.stringify(opts.sinceTime)} as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(opts.sinceTime)} as "2006"`,
    );
  }
  if (splitStreams && opts.stream === undefined) opts.stream = 'All';
  const errs: Array<{ field: string; type: string; detail: string }> = [];
  if (opts.tailLines !== undefined && opts.tailLines < 0)
    errs.push(fieldErr('tailLines', `Invalid value: ${opts.tailLines}`, 'must be greater than or equal to 0'));
  if (opts.limitBytes !== undefined && opts.limitBytes < 1)
    errs.push(fieldErr('limitBytes', `Invalid value: ${opts.limitBytes}`, 'must be greater than 0'));
  if (opts.sinceSeconds !== undefined && opts.sinceTime !== undefined)
    errs.push(fieldErr('', 'Forbidden', 'at most one of `sinceTime` or `sinceSeconds` may be specified'));
  else if (opts.sinceSeconds !== undefined && opts.sinceSeconds < 1)
    errs.push(fieldErr('sinceSeconds', `Invalid value: ${opts.sinceSeconds}`, 'must be greater than 0'));
  if (splitStreams) {
    if (!['All', 'Stdout', 'Stderr'].includes(opts.stream!))
      errs.push(
        fieldErr(
          'stream',
          `Unsupported value: ${JSON.stringify(opts.stream)}`,
          'supported values: "All", "Stderr", "Stdout"',
        ),
      );
    else if (opts.stream !== 'All' && opts.tailLines !== undefined)
      errs.push(fieldErr('', 'Forbidden', '`tailLines` and specific `stream` are mutually exclusive for now'));
  } else if (opts.stream !== undefined) errs.push(fieldErr('stream', 'Forbidden', 'may not be specified'));
  if (errs.length) {
    const text = errs.map((e) => `${e.field}: ${e.type}: ${e.detail}`);
    const reasonOf = (t: string) =>
      t === 'Forbidden'
        ? 'FieldValueForbidden'
        : t.startsWith('Unsupported')
          ? 'FieldValueNotSupported'
          : 'FieldValueInvalid';
    throw new StatusError(
      422,
      'Invalid',
      `PodLogOptions "${podName}" is invalid: ${text.length === 1 ? text[0] : `[${text.join(', ')}]`}`,
      {
        name: podName,
        kind: 'PodLogOptions',
        causes: errs.map((e) => ({ reason: reasonOf(e.type), message: `${e.type}: ${e.detail}`, field: e.field })),
      },
    );
  }
  return opts;
}

/** The kubelet's validateContainerLogStatus on its own view of the container. */
export function pickInstance(
  worker: PodWorker | undefined,
  pod: KObject,
  container: string,
  previous: boolean,
): ContainerInstance {
  const podName = pod.metadata.name;
  const cs = worker?.container(container);
  if (!worker || !cs) throw badRequest(`container "${container}" in pod "${podName}" is not available`);
  const snap = worker.snapshot(cs);
  const byId = (id: string | undefined) => cs.instances.find((i) => i.containerID === id);
  const fail = (m: string) => badRequest(m);
  if (previous) {
    const inst = snap.lastTerminated?.containerID ? byId(snap.lastTerminated.containerID) : undefined;
    if (!inst) throw fail(`previous terminated container "${container}" in pod "${podName}" not found`);
    return inst;
  }
  let id: string | undefined;
  // An instance whose process ran and has just exited, before its termination is recorded: the
  // runtime has it (the kubelet serves it as terminated), it is not "waiting to start".
  const cur = cs.current;
  if (!snap.running && !snap.terminated && cur?.proc && cur.startedAt && !cur.running) return cur;
  if (snap.running) id = snap.containerID;
  else if (snap.terminated) id = snap.terminated.containerID || snap.lastTerminated?.containerID;
  else if (snap.lastTerminated) id = snap.lastTerminated.containerID;
  else if (snap.waiting) {
    const r = snap.waiting.reason;
    if (r === 'ErrImagePull')
      throw fail(`container "${container}" in pod "${podName}" is waiting to start: image can't be pulled`);
    if (r === 'ImagePullBackOff')
      throw fail(`container "${container}" in pod "${podName}" is waiting to start: trying and failing to pull image`);
    throw fail(`container "${container}" in pod "${podName}" is waiting to start: ${r}`);
  }
  const inst = byId(id);
  if (!inst) throw fail(`container "${container}" in pod "${podName}" is terminated`);
  return inst;
}

/** RFC 3339 to ns since the epoch, keeping up to 9 fractional digits (metav1.Time parses them). */
export function rfc3339Ns(s: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(.*)$/.exec(s);
  if (!m) return BigInt(Date.parse(s)) * 1_000_000n;
  const whole = BigInt(Date.parse(`${m[1]}${m[3]}`)) * 1_000_000n;
  return whole + BigInt((m[2] ?? '').slice(0, 9).padEnd(9, '0') || '0');
}

/** Wait for more committed log data (or its end, or the client leaving). */
function waitMore(file: LogFile, size: number, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    if (file.size > size || file.ended || res.destroyed) return resolve();
    const unsub = file.subscribe(() => {
      unsub();
      res.off('close', onClose);
      resolve();
    });
    const onClose = () => {
      unsub();
      resolve();
    };
    res.once('close', onClose);
  });
}

/** Stream one container instance's log with the CRI reader's semantics. */
export async function streamLog(
  res: ServerResponse,
  file: LogFile,
  opts: LogOptions,
  faults: FaultRegistry,
): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await fsp.open(file.path, 'r');
  } catch {
    res.end();
    return;
  }
  try {
    const want = opts.stream === 'Stdout' ? 1 : opts.stream === 'Stderr' ? 2 : 0;
    let since: bigint | undefined;
    if (opts.sinceSeconds !== undefined) since = nowNs() - BigInt(opts.sinceSeconds) * 1_000_000_000n;
    else if (opts.sinceTime !== undefined) since = rfc3339Ns(opts.sinceTime);
    let start = 0;
    let skip = 0;
    if (opts.tailLines !== undefined) ({ offset: start, skip } = await tailStart(fh, file.size, opts.tailLines));
    else if (since !== undefined) start = file.seekHint(since);
    const reader = new RecordReader(fh, start);
    let limit = opts.limitBytes ?? Infinity;
    const drop = faults.current.dropStreamsAfterBytes;
    let sent = 0;
    let stop = false;
    const atLineStart = [true, true, true];

    /** One record -> the bytes to send (filters, skip, timestamps, limitBytes); sets `stop`. */
    const render = (rec: LogRecord): Buffer | undefined => {
      let payload = rec.payload;
      if (skip) {
        payload = payload.subarray(skip);
        skip = 0;
      }
      if ((want && rec.stream !== want) || (since !== undefined && rec.ts < since) || !payload.length) return undefined;
      let out: Buffer;
      if (opts.timestamps) {
        const parts: Buffer[] = [];
        const ts = formatTs(rec.ts);
        let pos = 0;
        while (pos < payload.length) {
          const nl = payload.indexOf(0x0a, pos);
          const end = nl < 0 ? payload.length : nl + 1;
          if (atLineStart[rec.stream]) parts.push(ts);
          parts.push(payload.subarray(pos, end));
          atLineStart[rec.stream] = nl >= 0;
          pos = end;
        }
        out = Buffer.concat(parts);
      } else out = payload;
      if (out.length > limit) out = out.subarray(0, limit);
      limit -= out.length;
      sent += out.length;
      if (limit <= 0) stop = true;
      if (drop !== undefined && sent >= drop) {
        stop = true;
        res.destroy();
      }
      return out.length ? out : undefined;
    };

    /**
     * Caught up with everything appended: take new records from memory as the container writes
     * them. Returns when the instance ended, the client left, `stop`, or the socket is full (the
     * caller then waits for 'drain' and goes back to reading the file).
     */
    const live = () =>
      new Promise<Promise<void> | undefined>((resolve) => {
        let done = false;
        const finish = (wait?: Promise<void>) => {
          if (done) return;
          done = true;
          unTail();
          unSub();
          res.off('close', onClose);
          resolve(wait);
        };
        const onClose = () => finish();
        const unTail = file.tail((rec) => {
          if (done) return;
          if (rec.offset !== reader.offset) return finish();
          reader.offset = rec.offset + rec.payload.length + RECORD_OVERHEAD;
          const out = render(rec);
          // Wait for 'drain' from here: it may be emitted before the caller's continuation runs.
          if (out && !res.write(out)) finish(drained(res));
          else if (stop) finish();
        });
        const unSub = file.subscribe(() => file.ended && finish());
        res.once('close', onClose);
        if (file.ended || res.destroyed) finish();
      });

    // Without follow: what is on disk now (the reader stops at EOF). With follow: until the instance ends.
    const endAtStart = file.size;
    // Records already read from disk are written in one synchronous batch under cork(): one
    // writev for many chunks instead of a syscall per record.
    let corked = false;
    const uncork = () => {
      if (corked) {
        corked = false;
        res.uncork();
      }
    };
    while (!stop) {
      if (res.destroyed) return;
      const size = opts.follow ? file.size : endAtStart;
      let rec = reader.nextBuffered(size);
      if (!rec) {
        uncork();
        rec = await reader.next(size);
      }
      if (rec) {
        const out = render(rec);
        if (!out) continue;
        if (!corked) {
          corked = true;
          res.cork();
        }
        if (!res.write(out)) {
          uncork();
          await drained(res);
        }
        continue;
      }
      uncork();
      if (!opts.follow) break;
      if (file.ended) {
        if (file.size > reader.offset) continue; // committed just before the end
        break;
      }
      if (reader.offset === file.appendedSize) {
        const full = await live();
        if (full) await full;
        continue;
      }
      await waitMore(file, size, res);
    }
    uncork();
    if (!res.destroyed) res.end();
  } finally {
    await fh.close().catch(() => {});
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export async function handleLog(
  req: IncomingMessage,
  res: ServerResponse,
  pod: KObject,
  worker: PodWorker | undefined,
  opts: { splitStreams: boolean; faults: FaultRegistry },
): Promise<void> {
  try {
    const q = new URL(req.url ?? '/', 'http://kube-sim').searchParams;
    const lo = parseLogOptions(q, pod.metadata.name ?? '', opts.splitStreams);
    const container = validateContainer(lo.container, pod);
    if (!(pod as Obj).spec?.nodeName) {
      // LogLocation: a pod without a host has no log location: an empty body.
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end();
      return;
    }
    const inst = pickInstance(worker, pod, container, lo.previous);
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    await streamLog(res, inst.log, lo, opts.faults);
  } catch (err) {
    if (err instanceof StatusError) writeStatus(res, err);
    else if (!res.headersSent) writeStatus(res, new StatusError(500, 'InternalError', String(err)));
    else res.destroy();
  }
}
