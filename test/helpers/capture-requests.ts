/**
 * @module test/helpers/capture-requests
 * A tool, not a test: records the exact bytes the docker CLI and dockerode send, through a
 * recording proxy in front of kuber-api, and writes them to test/helpers/captured-requests.json
 * (the seeds of test/e2e/fuzz.test.ts). Run after `npx tsc -p .`:
 *   node dist/test/helpers/capture-requests.js test/helpers/captured-requests.json
 */
import { writeFileSync } from 'node:fs';
import Docker from 'dockerode';
import { startServer } from './server.js';
import { docker } from './docker-cli.js';
import { recordingProxy } from './record-proxy.js';

const out = process.argv[2] ?? 'test/helpers/captured-requests.json';
const srv = await startServer();
const proxy = await recordingProxy({ path: srv.socketPath });
const host = proxy.host;

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
  proxy.tag('docker-cli', what);
  await docker(host, args, { timeoutMs: 10_000 });
}

const d = new Docker({ socketPath: proxy.socketPath });
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
  proxy.tag('dockerode', what);
  await fn().catch(() => {});
}
await new Promise((r) => setTimeout(r, 300));
await proxy.close(); // records the keep-alive connections dockerode's agent still holds
await srv.close();
writeFileSync(
  out,
  JSON.stringify(
    { note: 'captured by test/helpers/capture-requests.ts (docker CLI 28.2.2, dockerode 4)', requests: proxy.captured },
    null,
    1,
  ) + '\n',
);
console.log(`captured ${proxy.captured.length} connections into ${out}`);
process.exit(0);
