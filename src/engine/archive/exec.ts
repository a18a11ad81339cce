/**
 * @module engine/archive/exec
 * Archives through pods/exec (the channel protocol, read by stream/channel-reader.ts): `tar -x` fed from a request body, `tar -c` read
 * into a response, `stat` for the path header. One WebSocket per operation, with backpressure
 * both ways: stdout is a Readable whose consumer's pace pauses the WebSocket (`ws.pause()`), and
 * stdin is written only while `ws.bufferedAmount` is below a high-water mark. The end of stdin is
 * the v5 CLOSE signal (`[255, 0]`); on v4 (apiservers before 1.30) stdin cannot be closed, so the
 * archive is followed by zero blocks, which tar reads as its end.
 */
import { Readable } from 'node:stream';
import type { WebSocket } from 'ws';
import type { WsDialer } from '../../kube/ws-dialer.js';
import {
  CHANNEL_STDOUT,
  canCloseStdin,
  closeStdinMessage,
  stdinMessage,
  type ChannelStatus,
} from '../../stream/k8s-channel.js';
import { readChannels } from '../../stream/channel-reader.js';

/** stderr kept for the error message: the last lines of a failing tar or stat are what matter. */
const MAX_STDERR = 64 * 1024;
/** stdin goes out in WebSocket messages of at most this size (one channel-0 message each). */
const STDIN_MESSAGE_BYTES = 256 * 1024;
/** tar's end of archive: two 512-byte zero blocks; 20 blocks fill busybox's default record. */
const TAR_EOF_PAD = 20 * 512;

export interface ExecTarget {
  dialer: WsDialer;
  namespace: string;
  pod: string;
  container: string;
  /** How to run a script: default `sh -c` from the image; the inspector brings its own busybox. */
  shell?: { argv: string[]; prefix: string };
  /** Archive bytes buffered on the WebSocket before feeding waits (--archive-exec-high-water-bytes). */
  highWaterBytes: number;
}

/** The argv running `script` with positional `args` ($1...) in the target's shell. */
export function scriptArgv(t: ExecTarget, script: string, args: string[]): string[] {
  const sh = t.shell ?? { argv: ['sh', '-c'], prefix: '' };
  return [...sh.argv, sh.prefix + script, 'kapi', ...args];
}

export interface ExecOutcome {
  status: ChannelStatus;
  stderr: string;
}

/** One exec session: stdout as a Readable (backpressured), stderr collected, the final status. */
export class ExecChannel {
  readonly stdout: Readable;
  private stderrText = '';
  private stderrWaiters: Array<() => void> = [];
  readonly done: Promise<ExecOutcome>;
  private closed = false;

  private constructor(
    readonly ws: WebSocket,
    readonly protocol: string,
    private readonly highWaterBytes: number,
  ) {
    this.stdout = new Readable({ read: () => ws.resume() });
    this.done = new Promise<ExecOutcome>((resolve) => {
      readChannels(
        ws,
        (ch, payload) => {
          if (ch === CHANNEL_STDOUT) {
            if (!this.stdout.push(payload)) ws.pause();
            return;
          }
          if (this.stderrText.length < MAX_STDERR) this.stderrText += payload.toString('utf8');
          for (const w of this.stderrWaiters.splice(0)) w();
        },
        (end) => {
          if (end.reason === 'error')
            this.destroy(); // a protocol error: close our side too
          else if (end.closeCode === undefined) this.destroy(); // the whole status came first: ours to close
          this.closed = true;
          this.stdout.push(null);
          for (const w of this.stderrWaiters.splice(0)) w();
          const status: ChannelStatus =
            end.reason === 'closed' ? end.status : { kind: 'error', message: end.error.message };
          resolve({ status, stderr: this.stderrText });
        },
      );
    });
  }

  static async open(
    t: ExecTarget,
    command: string[],
    opts: { stdin?: boolean; signal?: AbortSignal } = {},
  ): Promise<ExecChannel> {
    const { ws, protocol } = await t.dialer.exec(
      t.namespace,
      t.pod,
      { container: t.container, command, stdin: !!opts.stdin, stdout: true, stderr: true },
      { signal: opts.signal },
    );
    const ch = new ExecChannel(ws, protocol, t.highWaterBytes);
    opts.signal?.addEventListener('abort', () => ch.destroy(), { once: true });
    return ch;
  }

  get stderr(): string {
    return this.stderrText;
  }

  /** Resolves once stderr contains `marker` (or the session ended): what came before it. */
  async stderrUntil(marker: string): Promise<string | undefined> {
    for (;;) {
      const i = this.stderrText.indexOf(marker);
      if (i >= 0) return this.stderrText.slice(0, i);
      if (this.closed) return undefined;
      await new Promise<void>((r) => this.stderrWaiters.push(r));
    }
  }

  /** Feed `source` to stdin, then close stdin (v5) or pad with zero blocks (v4). */
  async feed(source: AsyncIterable<Buffer>): Promise<void> {
    const ws = this.ws;
    const send = (b: Buffer) =>
      new Promise<void>((resolve, reject) => {
        if (this.closed) return reject(new Error('the exec session ended before the archive was sent'));
        ws.send(b, (err) => (err ? reject(err) : resolve()));
      });
    let pending: Promise<void>[] = [];
    for await (const chunk of source) {
      if (this.closed) throw new Error('the exec session ended before the archive was sent');
      for (let off = 0; off < chunk.length; off += STDIN_MESSAGE_BYTES)
        pending.push(send(stdinMessage(chunk.subarray(off, off + STDIN_MESSAGE_BYTES))));
      // ws has no 'drain': wait for sends to flush while its buffer is above the mark.
      if (ws.bufferedAmount > this.highWaterBytes) {
        await Promise.all(pending);
        pending = [];
      }
      if (pending.length > 64) pending = [Promise.all(pending).then(() => {})];
    }
    await Promise.all(pending);
    if (canCloseStdin(this.protocol)) await send(closeStdinMessage());
    else await send(stdinMessage(Buffer.alloc(TAR_EOF_PAD)));
  }

  /** Close the session now (the process sees its stdio close). */
  destroy(): void {
    if (this.closed) return;
    try {
      if (this.ws.readyState === this.ws.OPEN) this.ws.close(1000);
      else this.ws.terminate();
    } catch {
      /* already gone */
    }
  }
}

/**
 * The exec error as a short reason for the client: the runtime's message when the program could
 * not start (no shell, no tar), else the command's stderr.
 */
export function execFailure(o: ExecOutcome): string {
  if (o.status.kind === 'error') return o.status.message;
  const err = o.stderr
    .trim()
    .split('\n')
    .filter((l) => l && !l.startsWith('kapi:'))
    .slice(-3)
    .join('; ');
  return err || `exit code ${o.status.exitCode}`;
}
