/**
 * @module sim/kubelet/portforward
 * pods/portforward over the legacy WebSocket protocol (kubelet cri/streaming/portforward/websocket.go),
 * as client-node uses it: for the i-th requested port, data on channel 2i and errors on 2i+1; the
 * port as a 2-byte little-endian prefix first on both channels; then the TCP conversation with
 * localhost:<port> inside the pod's network namespace (as containerd's port forwarder dials it),
 * or an "error forwarding port" message on the error channel. One connection per port per
 * WebSocket; the WebSocket closes when every pair is done.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { HOST_BUSYBOX } from './sandbox.js';
import type { ChannelConn } from './ws-channels.js';

export interface ForwardTarget {
  /** /proc/<pid>/ns/net of the pod sandbox, or undefined on the host network. */
  netnsPath?: string;
  /** For the error message: the pod sandbox id as the runtime names it. */
  sandboxId: string;
}

/** Parse `ports` (repeated and/or comma-separated) as the apiserver/kubelet do. */
export function parsePorts(values: string[]): number[] {
  const out: number[] = [];
  for (const v of values) {
    for (const s of v.split(',')) {
      const t = s.trim();
      if (!t) continue;
      if (!/^\d+$/.test(t) || Number(t) > 65535)
        throw new Error(`unable to parse "${t}" as a port: strconv.ParseUint: parsing "${t}": invalid syntax`);
      if (Number(t) < 1) throw new Error(`port "${t}" must be > 0`);
      out.push(Number(t));
    }
  }
  return out;
}

interface Pipe {
  input: Writable;
  output: Readable;
  stop(): void;
  /** Resolves with an error text when the connection failed, or undefined when it ended normally. */
  done: Promise<string | undefined>;
}

function dial(target: ForwardTarget, port: number): Pipe {
  if (!target.netnsPath) {
    const s = connect({ host: '127.0.0.1', port });
    return {
      input: s,
      output: s,
      stop: () => s.destroy(),
      done: new Promise((resolve) => {
        s.on('error', (e: NodeJS.ErrnoException) =>
          resolve(
            `dial tcp4 127.0.0.1:${port}: connect: ${e.code === 'ECONNREFUSED' ? 'connection refused' : e.message}`,
          ),
        );
        s.on('close', () => resolve(undefined));
      }),
    };
  }
  // The host's static busybox nc, run inside the pod's network namespace: dials the pod's localhost.
  const p = spawn(
    'setpriv',
    [
      '--pdeathsig',
      'KILL',
      '--',
      'nsenter',
      `--net=${target.netnsPath}`,
      '--',
      HOST_BUSYBOX,
      'nc',
      '127.0.0.1',
      String(port),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  p.stdin.on('error', () => {});
  return {
    input: p.stdin,
    output: p.stdout,
    stop: () => p.kill('SIGKILL'),
    done: new Promise((resolve) => {
      p.on('error', (e) => resolve(String(e)));
      p.on('close', (code) => {
        if (code === 0 || code === null) return resolve(undefined);
        const refused = /refused/i.test(err);
        resolve(
          refused
            ? `dial tcp4 127.0.0.1:${port}: connect: connection refused IPv6 dial tcp6 [::1]:${port}: connect: connection refused`
            : err.trim().replace(/^nc: /, '') || `exit status ${code}`,
        );
      });
    }),
  };
}

export async function servePortForward(conn: ChannelConn, target: ForwardTarget, ports: number[]): Promise<void> {
  const pipes: Pipe[] = [];
  for (let i = 0; i < ports.length; i++) {
    const prefix = Buffer.from([ports[i]! & 0xff, ports[i]! >> 8]);
    conn.send(2 * i, prefix);
    conn.send(2 * i + 1, prefix);
  }
  const finished = ports.map((port, i) => {
    const pipe = dial(target, port);
    pipes.push(pipe);
    pipe.output.on('data', (chunk: Buffer) => {
      if (!conn.send(2 * i, chunk)) {
        pipe.output.pause();
        conn.onDrain(() => pipe.output.resume());
      }
    });
    return pipe.done.then((err) => {
      if (err && !conn.isClosed) {
        const ns = target.netnsPath ?? 'host';
        conn.send(
          2 * i + 1,
          `error forwarding port ${port} to pod ${target.sandboxId}, uid : failed to execute portforward in network namespace "${ns}": failed to connect to localhost:${port} inside namespace "${target.sandboxId}", IPv4: ${err}`,
        );
      }
    });
  });
  conn.onMessage((ch, payload) => {
    if (ch % 2 !== 0) return; // nothing to read on error channels
    const pipe = pipes[ch / 2];
    if (!pipe) return;
    if (!pipe.input.write(payload)) {
      conn.pause();
      pipe.input.once('drain', () => conn.resume());
    }
  });
  conn.onClose(() => {
    for (const p of pipes) p.stop();
  });
  await Promise.all(finished);
  conn.close();
}
