/**
 * @module test/helpers/capture-requests
 * A tool, not a test: records the exact bytes the docker CLI and dockerode send, through a
 * recording proxy in front of kuber-api, and writes them to test/helpers/captured-requests.json
 * (the seeds of test/e2e/fuzz.test.ts). Run after `npx tsc -p .`:
 *   node dist/test/helpers/capture-requests.js test/helpers/captured-requests.json
 */
import net from 'node:net';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { startServer } from './server.js';
import { docker } from './docker-cli.js';

const out = process.argv[2] ?? 'test/helpers/captured-requests.json';
const srv = await startServer();
const dir = mkdtempSync(join(tmpdir(), 'kapi-capture-'));
const proxyPath = join(dir, 'proxy.sock');
const captured: { client: string; what: string; bytes: string }[] = [];
let current = { client: '', what: '' };
const live = new Set<() => void>();

const proxy = net.createServer({ allowHalfOpen: true }, (client) => {
  const chunks: Buffer[] = [];
  const tag = { ...current };
  const upstream = net.connect({ path: srv.socketPath, allowHalfOpen: true });
  client.on('data', (d: Buffer) => {
    chunks.push(d);
    upstream.write(d);
  });
  client.on('end', () => upstream.end());
  upstream.on('data', (d) => client.write(d));
  upstream.on('end', () => client.end());
  let recorded = false;
  const done = () => {
    if (recorded) return;
    recorded = true;
    live.delete(done);
    const bytes = Buffer.concat(chunks).subarray(0, 64 * 1024);
    if (bytes.length) captured.push({ ...tag, bytes: bytes.toString('base64') });
  };
  live.add(done);
  client.on('close', done);
  client.on('error', () => {});
  upstream.on('error', () => client.destroy());
});
await new Promise<void>((r) => proxy.listen(proxyPath, r));
const host = `unix://${proxyPath}`;

const cli: [string, string[]][] = [
  ['version', ['version']],
  ['info', ['info']],
  ['ps', ['ps', '-a', '--filter', 'label=com.docker.compose.project=demo', '--filter', 'status=running']],
  ['inspect', ['inspect', 'nosuch']],
  ['run', ['run', '--rm', '-e', 'A=B', '-p', '8080:80', '--label', 'x=y', 'busybox', 'echo', 'hi']],
  ['exec', ['exec', 'nosuch', 'ls', '-l']],
  ['logs', ['logs', '-f', '--tail', '10', '-t', 'nosuch']],
  ['events', ['events', '--since', '1m', '--until', '1s', '--filter', 'type=container']],
  ['network', ['network', 'create', 'n1']],
  ['volume', ['volume', 'create', 'v1']],
  ['rm', ['rm', '-f', 'nosuch']],
];
for (const [what, args] of cli) {
  current = { client: 'docker-cli', what };
  await docker(host, args, { timeoutMs: 10_000 });
}

const d = new Docker({ socketPath: proxyPath });
const steps: [string, () => Promise<unknown>][] = [
  ['ping', () => d.ping()],
  ['version', () => d.version()],
  ['info', () => d.info()],
  [
    'list',
    () =>
      d.listContainers({
        all: true,
        limit: 1,
        filters: { label: ['org.testcontainers.container-hash=abc'], status: ['created', 'running'] },
      }),
  ],
  ['inspect', () => d.getContainer('nosuch').inspect()],
  [
    'create',
    () =>
      d.createContainer({
        Image: 'redis:7',
        Env: Array.from({ length: 50 }, (_, i) => `VAR_${i}=${'v'.repeat(40)}`),
        Labels: { 'org.testcontainers': 'true', 'org.testcontainers.session-id': 'abc' },
        ExposedPorts: { '6379': {} },
        HostConfig: { PortBindings: { '6379': [{ HostPort: '0' }] } },
      }),
  ],
  ['exec-start', () => d.getExec('nosuch').start({ hijack: true, stdin: true })],
  ['logs', () => d.getContainer('nosuch').logs({ follow: true, stdout: true, stderr: true, tail: -1, since: 0 })],
  ['putArchive', () => d.getContainer('nosuch').putArchive(Buffer.alloc(2048, 1), { path: '/' })],
];
for (const [what, fn] of steps) {
  current = { client: 'dockerode', what };
  await fn().catch(() => {});
}
await new Promise((r) => setTimeout(r, 300));
for (const done of [...live]) done(); // keep-alive connections dockerode's agent still holds
proxy.close();
await srv.close();
writeFileSync(
  out,
  JSON.stringify(
    { note: 'captured by test/helpers/capture-requests.ts (docker CLI 28.2.2, dockerode 4)', requests: captured },
    null,
    1,
  ) + '\n',
);
console.log(`captured ${captured.length} connections into ${out}`);
process.exit(0);
