/**
 * @module bench/lib/consume
 * Reading a stream to its end on each path, verifying every byte, at full speed or at a fixed
 * slow rate. Sources are wrapped as {@link Source} (data, end, pause/resume): a node Readable
 * (a socket or an HTTP response) or a Kubernetes channel WebSocket. The rate limiter pauses the
 * source when the reader is ahead of `rate` bytes/s and resumes it when the schedule catches up,
 * so the backpressure reaches the producer through every hop in between.
 */
import type { Readable } from 'node:stream';
import type { WebSocket } from 'ws';
import { StdcopyDemuxer } from './demux.js';
import { Verifier } from './model.js';
import { CH_STATUS, CH_STDERR, CH_STDOUT, exitCodeOfStatus } from './kube-direct.js';

export interface Source {
  onData(cb: (b: Buffer) => void): void;
  /** Bytes that arrived on stderr (k8s channel 2), when the source keeps them apart. */
  onStderr?(cb: (b: Buffer) => void): void;
  /** `err` when the source failed; `exitCode` when the source reports one (k8s channel 3). */
  onEnd(cb: (err?: Error, exitCode?: number) => void): void;
  pause(): void;
  resume(): void;
  destroy(): void;
}

export function readableSource(r: Readable, head?: Buffer): Source {
  let ended = false;
  return {
    onData(cb) {
      if (head?.length) cb(head);
      r.on('data', cb);
    },
    onEnd(cb) {
      const fin = (err?: Error) => {
        if (ended) return;
        ended = true;
        cb(err);
      };
      r.once('end', () => fin());
      r.once('error', (e) => fin(e));
      r.once('close', () => fin(r.readableEnded ? undefined : new Error('closed before the end of the stream')));
    },
    pause: () => r.pause(),
    resume: () => r.resume(),
    destroy: () => r.destroy(),
  };
}

/**
 * A k8s channel WebSocket (v4/v5): channel 1 is the data, channel 2 is counted as stderr (the
 * caller passes `onStderr`), channel 3 carries the Status (exit code). The end is the WS close.
 */
export function channelSource(ws: WebSocket): Source {
  let dataCb: (b: Buffer) => void = () => {};
  let onStderr: (b: Buffer) => void = () => {};
  let status = '';
  return {
    onStderr(cb) {
      onStderr = cb;
    },
    onData(cb) {
      dataCb = cb;
      ws.on('message', (m: Buffer) => {
        const ch = m[0];
        if (ch === CH_STDOUT) dataCb(m.subarray(1));
        else if (ch === CH_STDERR) onStderr(m.subarray(1));
        else if (ch === CH_STATUS) status += m.toString('utf8', 1);
      });
      ws.resume(); // KubeDirect hands sessions over paused
    },
    onEnd(cb) {
      let done = false;
      ws.once('close', (code: number) => {
        if (done) return;
        done = true;
        if (code !== 1000 && code !== 1005) return cb(new Error(`websocket closed with ${code}`));
        try {
          cb(undefined, status ? exitCodeOfStatus(status) : 0);
        } catch (err) {
          cb(err as Error);
        }
      });
      ws.once('error', (e) => {
        if (done) return;
        done = true;
        cb(e);
      });
    },
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    destroy: () => ws.terminate(),
  };
}

export interface ReadResult {
  bytes: number;
  seconds: number;
  ttfbMs: number;
  ok: boolean;
  error?: string;
  stderrBytes: number;
  exitCode?: number;
  /** Reads (data events) it took: bytes/reads is the size the client saw arrive. */
  reads: number;
}

export interface ReadOptions {
  /** Decode Docker's stdcopy frames first (non-TTY attach/exec/logs through a Docker API). */
  stdcopy?: boolean;
  /** Bytes per second; absent: as fast as possible. */
  rate?: number;
  /** Fail (and destroy the source) after this long. */
  timeoutMs: number;
  /** Called every ~250 ms with the bytes so far (progress line). */
  onProgress?: (bytes: number) => void;
  /** Start time (default: now), e.g. before the request was sent. */
  t0?: number;
}

/** Read `src` to its end through `verifier`; resolves with what happened (never rejects). */
export function readAll(src: Source, verifier: Verifier, o: ReadOptions): Promise<ReadResult> {
  const t0 = o.t0 ?? performance.now();
  let first = 0;
  let stderrBytes = 0;
  let bytes = 0;
  let lastProgress = t0;
  let reads = 0;
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let resumeTimer: NodeJS.Timeout | undefined;
    const finish = (err?: Error, exitCode?: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(resumeTimer);
      const seconds = (performance.now() - t0) / 1000;
      let error = err?.message;
      if (!error && demux && !demux.clean) error = demux.error ?? 'the stream ended inside a stdcopy frame';
      const verified = verifier.end();
      if (!error && !verified) error = verifier.error;
      if (!error && stderrBytes) error = `${stderrBytes} unexpected bytes on stderr`;
      resolve({
        bytes: verifier.bytes,
        seconds,
        ttfbMs: first ? first - t0 : NaN,
        ok: !error,
        error,
        stderrBytes,
        exitCode,
        reads,
      });
    };
    timer = setTimeout(() => {
      src.destroy();
      finish(new Error(`timeout after ${o.timeoutMs} ms (${bytes} bytes read)`));
    }, o.timeoutMs);
    const data = (b: Buffer) => {
      verifier.push(b);
      bytes += b.length;
    };
    const demux = o.stdcopy ? new StdcopyDemuxer(data, (b) => (stderrBytes += b.length)) : undefined;
    src.onStderr?.((b) => (stderrBytes += b.length));
    const rate = o.rate;
    let paused = false;
    src.onData((chunk) => {
      const now = performance.now();
      reads++;
      if (!first) first = now;
      if (demux) demux.push(chunk);
      else data(chunk);
      if (o.onProgress && now - lastProgress > 250) {
        lastProgress = now;
        o.onProgress(bytes);
      }
      if (rate && !paused) {
        // Ahead of schedule: stop reading until the schedule catches up.
        const due = t0 + (bytes / rate) * 1000;
        if (due > now + 5) {
          paused = true;
          src.pause();
          resumeTimer = setTimeout(() => {
            paused = false;
            src.resume();
          }, due - now);
        }
      }
    });
    src.onEnd((err, exitCode) => finish(err, exitCode));
  });
}

/** Run `fn` with a timeout; the result is `{ ok:false }` data, never an exception. */
export async function timed<T>(ms: number, what: string, fn: () => Promise<T>): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      fn(),
      new Promise<never>((_, rej) => (t = setTimeout(() => rej(new Error(`${what}: timeout after ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(t);
  }
}
