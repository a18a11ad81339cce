/**
 * @module sim/kubelet/exec-session
 * pods/exec after the upgrade (kubelet cri/streaming/remotecommand exec.go + the apiserver's v5
 * translator): the empty "connected" frame, the process's stdout/stderr on channels 1/2 (a TTY's
 * output on 1), client stdin on 0, resizes on 4, v5 stdin close `[255,0]`, exactly one Status on
 * channel 3 with the exit code, then close 1000. Backpressure both ways: a client that does not
 * read pauses the process's pipes (the process blocks in write); a process that does not read
 * its stdin pauses the WebSocket. A client that goes away does not kill the process (as the
 * kubelet): its pipes close, so it sees EOF on stdin and EPIPE on output.
 */
import type { Readable } from 'node:stream';
import type { ContainerInstance } from './container.js';
import type { PodWorker } from './pod-worker.js';
import { SandboxProcess } from './sandbox-process.js';
import { exitStatus, internalStatus, ResizeDecoder, SUCCESS, type ChannelConn } from './ws-channels.js';

export interface StreamFlags {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** The "connection established" notification: an empty frame on the lowest writable channel. */
export function sendConnected(conn: ChannelConn, f: StreamFlags): void {
  conn.send(f.stdout ? 1 : f.stderr ? 2 : 3, Buffer.alloc(0));
}

/** Pump a readable into a channel, pausing it while the WebSocket is over its high-water mark. */
export function pump(src: Readable, conn: ChannelConn, channel: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    src.on('data', (chunk: Buffer) => {
      if (channel === undefined || conn.isClosed) return;
      if (!conn.send(channel, chunk)) {
        src.pause();
        conn.onDrain(() => src.resume());
      }
    });
    src.on('end', resolve);
    src.on('error', () => resolve());
    src.on('close', resolve);
  });
}

export async function serveExec(
  conn: ChannelConn,
  worker: PodWorker,
  inst: ContainerInstance,
  argv: string[],
  f: StreamFlags,
): Promise<void> {
  sendConnected(conn, f);
  const spawned = await worker.spawnExec(inst, argv, { tty: f.tty, stdin: f.stdin });
  if (conn.isClosed) {
    if (spawned instanceof SandboxProcess) spawned.stdin?.end();
    return;
  }
  const cmdText = `[${argv.join(' ')}]`;
  const exitMessage = (code: number) =>
    conn.v5
      ? `command terminated with non-zero exit code: command terminated with exit code ${code}`
      : `command terminated with non-zero exit code: error executing command ${cmdText}, exit code ${code}`;
  if (!(spawned instanceof SandboxProcess)) {
    // runc's exec error goes to the process's stderr (the TTY's output with a terminal), then its exit code.
    if (f.tty ? f.stdout : f.stderr)
      conn.send(f.tty ? 1 : 2, f.tty ? `${spawned.message}\r\n` : `${spawned.message}\n`);
    conn.sendStatus(exitStatus(spawned.code, exitMessage(spawned.code)));
    conn.close();
    return;
  }
  const proc = spawned;
  const outDone = pump(proc.stdout, conn, f.stdout ? 1 : undefined);
  const errDone = pump(proc.stderr, conn, f.stderr && !f.tty ? 2 : f.tty && f.stdout ? 1 : undefined);
  const resize = new ResizeDecoder((rows, cols) => proc.resize(rows, cols));
  conn.onMessage((ch, payload) => {
    if (ch === 0) {
      if (!f.stdin || !proc.stdin || proc.stdin.writableEnded) return;
      if (!proc.stdin.write(payload)) {
        conn.pause();
        proc.stdin.once('drain', () => conn.resume());
      }
    } else if (ch === 4) {
      if (f.tty) resize.push(payload);
    } else if (ch === 255) {
      if (payload[0] === 0) proc.stdin?.end();
    }
  });
  conn.onClose(() => {
    if (!proc.running) return;
    // The client went away: the process keeps running with its stdio closed (kubelet behaviour).
    proc.stdin?.end();
    proc.stdout.destroy();
    proc.stderr.destroy();
  });
  const exit = await proc.exited;
  await Promise.all([outDone, errDone]);
  if (conn.isClosed) return;
  if (exit.setupError && exit.code === 1)
    conn.sendStatus(internalStatus(`error executing command in container: ${exit.setupError}`));
  else if (exit.code === 0) conn.sendStatus(SUCCESS);
  else conn.sendStatus(exitStatus(exit.code, exitMessage(exit.code)));
  conn.close();
}
