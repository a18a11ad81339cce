/**
 * @module bench/lib/floor-proxy
 * Path (f), a floor that is not the simulator: a bare Node.js process that reads the same pods/log
 * and pods/exec / pods/attach streams from the same apiserver over TLS (plain node:https and `ws`,
 * through bench/lib/kube-direct, the client of path b) and writes the payload to a TCP socket. It
 * does no Docker framing at all: the pods/log body is passed on as is, and of each channel message only
 * the leading channel byte is dropped (v5.channel.k8s.io, Kubernetes staging/src/k8s.io/apimachinery/
 * pkg/util/remotecommand/constants.go). What it spends per GiB is
 * the least any Node proxy between an apiserver and a socket can spend (TLS decryption, HTTP
 * chunk or WebSocket frame parsing, socket writes); kuber-api's CPU per GiB is compared with it.
 * Its writes are as cheap as Node allows, by the same means kuber-api uses (bench/RESULTS.md,
 * optimisations 1 and 3): the socket is corked until the end of the event-loop turn, so the
 * records of one read leave in one writev, with a 256 KiB high-water mark before it pauses the
 * upstream.
 *
 * A client sends one JSON line, then reads the payload to its end:
 *   {"op":"log","pod":P,"container":C,"follow":bool,"timestamps":bool}
 *   {"op":"exec","pod":P,"container":C,"command":[...],"tty":bool}
 *   {"op":"attach","pod":P,"container":C,"tty":bool,"stdin":bool}   later client bytes go to stdin
 * A clean end is a FIN after the last byte; a failure (an HTTP error, a non-zero exit code, a
 * WebSocket that closes abnormally) destroys the socket, so the client sees a stream cut short.
 * Backpressure both ways: a full socket pauses the upstream response or WebSocket.
 *
 * `node dist/bench/lib/floor-proxy.js <kubeconfig> <namespace>` prints `ready port=N`.
 */
import { createServer, type Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { CH_STATUS, CH_STDERR, CH_STDIN, CH_STDOUT, KubeDirect, exitCodeOfStatus } from './kube-direct.js';

interface Request {
  op: 'log' | 'exec' | 'attach';
  pod: string;
  container?: string;
  follow?: boolean;
  timestamps?: boolean;
  command?: string[];
  tty?: boolean;
  stdin?: boolean;
}

const kube = await KubeDirect.load(process.argv[2]!, process.argv[3]);

/** Bytes buffered on the client socket before the upstream is paused (kuber-api's bound too). */
const HIGH_WATER = 256 * 1024;

/** A write that corks the socket until the end of this event-loop turn; false when the upstream must pause. */
function corkedWriter(sock: Socket): (b: Buffer) => boolean {
  let corked = false;
  return (b) => {
    if (!corked) {
      corked = true;
      sock.cork();
      setImmediate(() => {
        corked = false;
        sock.uncork();
      });
    }
    return sock.write(b);
  };
}

function fail(sock: Socket, why: string): void {
  process.stderr.write(`floor-proxy: ${why}\n`);
  sock.destroy();
}

async function serveLog(sock: Socket, r: Request): Promise<void> {
  const res = await kube.logStream(r.pod, { container: r.container, follow: r.follow, timestamps: r.timestamps });
  const write = corkedWriter(sock);
  res.on('data', (d: Buffer) => {
    if (!write(d)) {
      res.pause();
      sock.once('drain', () => res.resume());
    }
  });
  res.on('end', () => sock.end());
  res.on('error', (e) => fail(sock, `log: ${e.message}`));
  res.on('aborted', () => fail(sock, 'log: aborted'));
  sock.on('close', () => res.destroy());
}

/** Channel payloads to the socket (stdout and stderr alike: the streams the client asked for). */
function pipeChannels(sock: Socket, ws: WebSocket): void {
  let status = '';
  let paused = false;
  const write = corkedWriter(sock);
  ws.on('message', (m: Buffer) => {
    const ch = m[0];
    if (ch === CH_STDOUT || ch === CH_STDERR) {
      // ws may still emit the messages already parsed from the current read after pause().
      if (m.length > 1 && !write(m.subarray(1)) && !paused) {
        paused = true;
        ws.pause();
        sock.once('drain', () => {
          paused = false;
          ws.resume();
        });
      }
    } else if (ch === CH_STATUS) status += m.toString('utf8', 1);
  });
  ws.once('close', (code: number) => {
    if (code !== 1000 && code !== 1005) return fail(sock, `websocket closed with ${code}`);
    let exit = 0;
    try {
      exit = status ? exitCodeOfStatus(status) : 0;
    } catch (err) {
      return fail(sock, (err as Error).message);
    }
    if (exit !== 0) return fail(sock, `exit code ${exit}`);
    sock.end();
  });
  ws.once('error', (e) => fail(sock, `websocket: ${e.message}`));
  sock.on('close', () => ws.terminate());
  ws.resume(); // KubeDirect hands sessions over paused
}

async function serveChannels(sock: Socket, r: Request, rest: Buffer): Promise<void> {
  const { ws } =
    r.op === 'exec'
      ? await kube.exec(r.pod, r.command ?? [], { container: r.container, tty: r.tty, stdin: r.stdin })
      : await kube.attach(r.pod, { container: r.container, tty: r.tty, stdin: r.stdin });
  pipeChannels(sock, ws);
  if (!r.stdin) return;
  const toStdin = (d: Buffer) => ws.send(Buffer.concat([Buffer.from([CH_STDIN]), d]));
  if (rest.length) toStdin(rest);
  sock.on('data', toStdin);
  sock.resume();
}

function serve(sock: Socket): void {
  sock.setNoDelay(true);
  let buf = Buffer.alloc(0);
  const onData = (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    const nl = buf.indexOf(10);
    if (nl < 0) return;
    sock.off('data', onData);
    sock.pause();
    let r: Request;
    try {
      r = JSON.parse(buf.subarray(0, nl).toString('utf8')) as Request;
    } catch {
      return fail(sock, 'bad request line');
    }
    const rest = buf.subarray(nl + 1);
    const go = r.op === 'log' ? serveLog(sock, r) : serveChannels(sock, r, rest);
    go.catch((err: Error) => fail(sock, `${r.op} ${r.pod}: ${err.message}`));
  };
  sock.on('data', onData);
  sock.on('error', () => sock.destroy());
}

const server = createServer({ allowHalfOpen: true, noDelay: true, highWaterMark: HIGH_WATER }, serve);
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`ready port=${typeof a === 'object' && a ? a.port : 0}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  kube.close();
  process.exit(0);
});
