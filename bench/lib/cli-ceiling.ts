/**
 * @module bench/lib/cli-ceiling
 * Path (e), the far end: a minimal in-memory Docker Engine API endpoint that answers just what the
 * docker CLI calls for `docker logs`, `docker run` (attach), `docker exec`, inspect, version and
 * _ping, and serves the same bytes as the busybox producer (bench/lib/model) from memory. With the
 * docker CLI as the consumer, it is the CLI's own ceiling: what `docker logs x | wc -c` can take
 * when the server costs nothing. It is not a Docker implementation: containers are entries in a
 * map, "running" the producer means streaming the model, any other command outputs nothing and
 * exits 0.
 *
 * The wire details follow moby's API server: `HEAD|GET /_ping` with the API-Version header
 * (api/server/router/system/system_routes.go), the hijack answer `101 UPGRADED` with `Upgrade:
 * tcp` (api/server/router/container/container_routes.go postContainersAttach, and
 * exec_routes.go postContainerExecStart), stdcopy frames `[stream,0,0,0,len u32 BE]`
 * (pkg/stdcopy), and `POST /containers/{id}/wait` answering 200 at once and the status body when
 * the container exits (container_routes.go postContainersWait).
 *
 * `node dist/bench/lib/cli-ceiling.js [frame-bytes]` prints `ready port=N`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { baseBlock, markerLine, PRODUCER_SCRIPT } from './model.js';

const API_VERSION = '1.45';
/** Payload bytes per stdcopy frame (64 KiB: a few frames per CLI read, as a streaming daemon writes). */
const FRAME = Number(process.argv[2] ?? 65_536);

interface Container {
  id: string;
  name: string;
  cmd: string[];
  tty: boolean;
  autoRemove: boolean;
  state: 'created' | 'running' | 'exited';
  /** Hijacked attach sockets waiting for the start. */
  attached: Socket[];
  /** Wait responses to answer when the container exits. */
  waiters: ServerResponse[];
}

interface Exec {
  id: string;
  container: string;
  cmd: string[];
  tty: boolean;
  running: boolean;
  exitCode: number | null;
}

const containers = new Map<string, Container>();
const execs = new Map<string, Exec>();

/** MiB blocks the producer command writes, or 0 for any other command. */
function blocksOf(cmd: string[]): number {
  const i = cmd.findIndex((a) => a.includes(PRODUCER_SCRIPT));
  return i >= 0 ? Number(cmd[i + 2] ?? 0) : 0;
}

/** The 1 MiB base of every block as stdcopy frames of FRAME bytes, built once. */
let framedBase: Buffer | undefined;
function frames(payload: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let o = 0; o < payload.length; o += FRAME) {
    const p = payload.subarray(o, Math.min(payload.length, o + FRAME));
    const h = Buffer.alloc(8);
    h[0] = 1;
    h.writeUInt32BE(p.length, 4);
    parts.push(h, p);
  }
  return Buffer.concat(parts);
}

/** Write the model stream of `blocks` MiB to `out` (stdcopy-framed unless tty), honouring backpressure. */
async function pump(out: Writable, blocks: number, tty: boolean): Promise<void> {
  const base = tty ? baseBlock(true) : (framedBase ??= frames(baseBlock(false)));
  for (let n = 0; n < blocks; n++) {
    if (out.destroyed) return;
    const marker = markerLine(n, tty);
    out.write(base);
    if (!out.write(tty ? marker : frames(marker))) {
      await new Promise<void>((r) => {
        const go = () => {
          out.off('drain', go);
          out.off('close', go);
          r();
        };
        out.once('drain', go);
        out.once('close', go);
      });
    }
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const data = Buffer.from(JSON.stringify(body) + '\n');
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': data.length,
    'Api-Version': API_VERSION,
  });
  res.end(data);
}

function readBody(req: IncomingMessage): Promise<any> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      try {
        resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {});
      } catch {
        resolve({});
      }
    });
  });
}

function find(ref: string): Container | undefined {
  return containers.get(ref) ?? [...containers.values()].find((c) => c.name === ref || c.id.startsWith(ref));
}

function inspect(c: Container): unknown {
  return {
    Id: c.id,
    Name: `/${c.name}`,
    Created: new Date().toISOString(),
    Path: c.cmd[0] ?? '',
    Args: c.cmd.slice(1),
    State: {
      Status: c.state,
      Running: c.state === 'running',
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: 0,
      ExitCode: 0,
      Error: '',
      StartedAt: new Date().toISOString(),
      FinishedAt: '0001-01-01T00:00:00Z',
    },
    Image: 'sha256:' + '0'.repeat(64),
    Config: {
      Image: 'busybox',
      Cmd: c.cmd,
      Tty: c.tty,
      OpenStdin: false,
      AttachStdin: false,
      AttachStdout: true,
      AttachStderr: true,
      Env: [],
      Labels: {},
    },
    HostConfig: { AutoRemove: c.autoRemove, NetworkMode: 'none' },
    NetworkSettings: { Networks: {} },
    Mounts: [],
  };
}

/** The container's process "runs": its stream goes to every attached socket, then it exits. */
async function run(c: Container): Promise<void> {
  c.state = 'running';
  const blocks = blocksOf(c.cmd);
  await Promise.all(c.attached.map((s) => pump(s, blocks, c.tty)));
  c.state = 'exited';
  for (const s of c.attached) s.end();
  c.attached = [];
  for (const w of c.waiters) w.end(JSON.stringify({ StatusCode: 0, Error: null }) + '\n');
  c.waiters = [];
  if (c.autoRemove) containers.delete(c.id);
}

function hijack(socket: Socket, tty: boolean): void {
  socket.setNoDelay(true);
  socket.write(
    `HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.${tty ? 'raw-stream' : 'multiplexed-stream'}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nApi-Version: ${API_VERSION}\r\n\r\n`,
  );
}

const notFound = (res: ServerResponse, what: string) => json(res, 404, { message: `No such ${what}` });

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const u = new URL(req.url ?? '/', 'http://docker');
  const path = u.pathname.replace(/^\/v\d+\.\d+/, '');
  const m = req.method ?? 'GET';
  let r: RegExpExecArray | null;
  if (path === '/_ping') {
    res.writeHead(200, {
      'Api-Version': API_VERSION,
      Ostype: 'linux',
      'Docker-Experimental': 'false',
      'Cache-Control': 'no-cache, no-store, must-revalidate',
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': 2,
    });
    return void res.end(m === 'HEAD' ? undefined : 'OK');
  }
  if (path === '/version')
    return json(res, 200, {
      Version: '26.1.0-ceiling',
      ApiVersion: API_VERSION,
      MinAPIVersion: '1.24',
      Os: 'linux',
      Arch: 'amd64',
      KernelVersion: '',
      Components: [],
    });
  if (m === 'POST' && path === '/containers/create') {
    const body = await readBody(req);
    const id = randomBytes(32).toString('hex');
    const c: Container = {
      id,
      name: u.searchParams.get('name') || `ceiling_${id.slice(0, 8)}`,
      cmd: body.Cmd ?? [],
      tty: !!body.Tty,
      autoRemove: !!body.HostConfig?.AutoRemove,
      state: 'created',
      attached: [],
      waiters: [],
    };
    containers.set(id, c);
    return json(res, 201, { Id: id, Warnings: [] });
  }
  if (
    (r = /^\/containers\/([^/]+)\/(json|start|wait|logs|exec)$/.exec(path)) ||
    (r = /^\/containers\/([^/]+)$/.exec(path))
  ) {
    const c = find(decodeURIComponent(r[1]!));
    if (!c) return notFound(res, `container: ${r[1]}`);
    const op = r[2] ?? (m === 'DELETE' ? 'delete' : '');
    if (op === 'json') return json(res, 200, inspect(c));
    if (op === 'start') {
      res.writeHead(204, { 'Api-Version': API_VERSION });
      res.end();
      if (c.state === 'created') void run(c);
      return;
    }
    if (op === 'wait') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Api-Version': API_VERSION });
      res.flushHeaders();
      if (c.state === 'exited') return void res.end(JSON.stringify({ StatusCode: 0, Error: null }) + '\n');
      c.waiters.push(res);
      return;
    }
    if (op === 'logs') {
      res.writeHead(200, {
        'Content-Type': `application/vnd.docker.${c.tty ? 'raw-stream' : 'multiplexed-stream'}`,
        'Api-Version': API_VERSION,
      });
      await pump(res, blocksOf(c.cmd), c.tty);
      return void res.end();
    }
    if (op === 'exec' && m === 'POST') {
      const body = await readBody(req);
      const id = randomBytes(32).toString('hex');
      execs.set(id, { id, container: c.id, cmd: body.Cmd ?? [], tty: !!body.Tty, running: false, exitCode: null });
      return json(res, 201, { Id: id });
    }
    if (op === 'delete') {
      containers.delete(c.id);
      res.writeHead(204, { 'Api-Version': API_VERSION });
      return void res.end();
    }
  }
  if ((r = /^\/exec\/([^/]+)\/json$/.exec(path))) {
    const e = execs.get(r[1]!);
    if (!e) return notFound(res, `exec instance: ${r[1]}`);
    return json(res, 200, {
      ID: e.id,
      ContainerID: e.container,
      Running: e.running,
      ExitCode: e.exitCode,
      OpenStdin: false,
      OpenStdout: true,
      OpenStderr: true,
      ProcessConfig: { tty: e.tty, entrypoint: e.cmd[0] ?? '', arguments: e.cmd.slice(1), privileged: false },
      Pid: 0,
    });
  }
  process.stderr.write(`cli-ceiling: unhandled ${m} ${req.url}\n`);
  return json(res, 404, { message: `page not found: ${m} ${path}` });
}

async function upgrade(req: IncomingMessage, socket: Socket): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://docker').pathname.replace(/^\/v\d+\.\d+/, '');
  socket.on('error', () => socket.destroy());
  let r: RegExpExecArray | null;
  if ((r = /^\/containers\/([^/]+)\/attach$/.exec(path))) {
    const c = find(decodeURIComponent(r[1]!));
    if (!c) return void socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    hijack(socket, c.tty);
    if (c.state === 'exited') return void socket.end();
    c.attached.push(socket);
    return;
  }
  if ((r = /^\/exec\/([^/]+)\/start$/.exec(path))) {
    const e = execs.get(r[1]!);
    if (!e) return void socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    hijack(socket, e.tty);
    e.running = true;
    await pump(socket, blocksOf(e.cmd), e.tty);
    e.running = false;
    e.exitCode = 0;
    return void socket.end();
  }
  process.stderr.write(`cli-ceiling: unhandled upgrade ${req.method} ${req.url}\n`);
  socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
}

const server = createServer({ keepAlive: true }, (req, res) => {
  handle(req, res).catch((err: Error) => {
    process.stderr.write(`cli-ceiling: ${err.stack}\n`);
    if (!res.headersSent) json(res, 500, { message: err.message });
    else res.destroy();
  });
});
server.on('upgrade', (req: IncomingMessage, socket: Socket) => void upgrade(req, socket));
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`ready port=${typeof a === 'object' && a ? a.port : 0}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
