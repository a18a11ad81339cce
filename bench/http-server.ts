/**
 * bench/http-server: the front door's request rate, against a raw node:http server giving the
 * same answers (the baseline) and, when running, a real dockerd (dockerd-oracle). The server runs
 * in a child process; the same raw-socket client drives every target: C keep-alive connections,
 * each sending one request at a time (as the docker CLI and dockerode do), or pipelining P.
 *
 *   node dist/bench/http-server.js [seconds=3] [connections=16] [pipeline=1]
 */
import net from 'node:net';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine, table } from './micro/util.js';
import { oracleSocket } from '../test/helpers/tools.js';

const REQUESTS: Record<string, string> = {
  'GET /_ping': 'GET /_ping HTTP/1.1\r\nHost: api.moby.localhost\r\nUser-Agent: Docker-Client/28.2.2 (linux)\r\n\r\n',
  'GET /containers/json':
    'GET /v1.50/containers/json?all=1 HTTP/1.1\r\nHost: api.moby.localhost\r\nUser-Agent: Docker-Client/28.2.2 (linux)\r\n\r\n',
  'GET /nosuch/json (404)': 'GET /v1.50/containers/nosuch/json HTTP/1.1\r\nHost: api.moby.localhost\r\n\r\n',
};

async function serve(kind: string, path: string): Promise<void> {
  if (kind === 'kuber') {
    const { loadOptions } = await import('../src/config.js');
    const { serve: start } = await import('../src/main.js');
    const { NoClusterBackend } = await import('../src/engine/backend/no-cluster.js');
    const { pino } = await import('pino');
    await start(loadOptions([], {}, { hosts: [`unix://${path}`] }), new NoClusterBackend(), {
      log: pino({ level: 'silent' }),
    });
  } else {
    // node:http with the same answers and headers (the baseline)
    const headers = {
      'Api-Version': '1.51',
      Ostype: 'linux',
      Server: 'Docker/28.3.3 (linux)',
      'Docker-Experimental': 'false',
    };
    const server = http.createServer({ maxHeaderSize: 1 << 20 }, (req, res) => {
      if (req.url === '/_ping') {
        res.writeHead(200, {
          ...headers,
          'Content-Type': 'text/plain; charset=utf-8',
          'Builder-Version': '1',
          Swarm: 'inactive',
          'Cache-Control': 'no-cache, no-store, must-revalidate',
          Pragma: 'no-cache',
        });
        res.end('OK');
      } else if (req.url?.startsWith('/v1.50/containers/json')) {
        res.writeHead(200, { ...headers, 'Content-Type': 'application/json' });
        res.end('[]\n');
      } else {
        res.writeHead(404, { ...headers, 'Content-Type': 'application/json' });
        res.end('{"message":"No such container: nosuch"}\n');
      }
    });
    server.keepAliveTimeout = 300_000;
    await new Promise<void>((r) => server.listen(path, r));
  }
  process.send?.('ready');
}

/** Learn the response length (fixed per request: the Date header has a fixed width). */
function responseLength(path: string, req: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.connect(path);
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const he = buf.indexOf('\r\n\r\n');
      if (he < 0) return;
      const head = buf.subarray(0, he).toString('latin1');
      const cl = /content-length: (\d+)/i.exec(head);
      if (cl && buf.length >= he + 4 + Number(cl[1])) {
        s.destroy();
        resolve(he + 4 + Number(cl[1]));
      } else if (/transfer-encoding: chunked/i.test(head) && buf.subarray(he).includes('\r\n0\r\n\r\n')) {
        s.destroy();
        resolve(buf.length);
      }
    });
    s.on('error', reject);
    s.write(req);
  });
}

async function load(path: string, req: string, seconds: number, conns: number, pipeline: number): Promise<number> {
  const len = await responseLength(path, req);
  const batch = Buffer.from(req.repeat(pipeline));
  let done = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from(
      { length: conns },
      () =>
        new Promise<void>((resolve) => {
          const s = net.connect(path);
          let got = 0;
          s.on('connect', () => s.write(batch));
          s.on('data', (d: Buffer) => {
            got += d.length;
            while (got >= len * pipeline) {
              got -= len * pipeline;
              done += pipeline;
              if (Date.now() >= until) {
                s.destroy();
                return resolve();
              }
              s.write(batch);
            }
          });
          s.on('error', () => resolve());
        }),
    ),
  );
  return done / seconds;
}

async function main() {
  if (process.argv[2] === '--serve') return serve(process.argv[3]!, process.argv[4]!);
  const seconds = Number(process.argv[2] ?? 3);
  const conns = Number(process.argv[3] ?? 16);
  const pipeline = Number(process.argv[4] ?? 1);
  const dir = mkdtempSync(join(tmpdir(), 'kapi-bench-'));
  const targets: [string, string][] = [];
  const children = [];
  for (const kind of ['kuber', 'node-http']) {
    const path = join(dir, `${kind}.sock`);
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', kind, path], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    await new Promise((r) => child.once('message', r));
    targets.push([kind === 'kuber' ? 'kuber-api' : 'node:http (baseline)', path]);
  }
  const oracle = oracleSocket();
  if (oracle && existsSync(oracle)) targets.push(['dockerd (oracle)', oracle]);
  console.log(machine());
  console.log(
    `${conns} connections, ${pipeline === 1 ? 'one request at a time' : `pipelining ${pipeline}`}, ${seconds} s per cell, requests/s over a unix socket\n`,
  );
  const rows: (string | number)[][] = [['request', ...targets.map((t) => t[0])]];
  for (const [name, req] of Object.entries(REQUESTS)) {
    const row: (string | number)[] = [name];
    for (const [, path] of targets) row.push(Math.round(await load(path, req, seconds, conns, pipeline)));
    rows.push(row);
  }
  console.log(table(rows));
  for (const c of children) c.kill();
}

await main();
