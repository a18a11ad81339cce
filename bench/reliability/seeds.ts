/**
 * @module bench/reliability/seeds
 * The seeds of the 100k fuzz: the committed corpus (test/helpers/captured-requests.json) plus
 * connections captured live, through the recording proxy, from real clients driving this
 * kuber-api on kube-sim, so that the seeds carry real container and exec IDs and reach the deep
 * paths: the docker CLI (run with its attach upgrade, attach to a running container, exec, logs -f,
 * cp, ps, network, volume), docker-compose v1 (up -d, down) and dockerode as testcontainers
 * drives it (exec start hijacked with stdin, attach, putArchive, followed logs).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import Docker from 'dockerode';
import { docker, dockerAvailable } from '../../test/helpers/docker-cli.js';
import { recordingProxy, type Captured } from '../../test/helpers/record-proxy.js';
import type { Target } from '../../test/helpers/raw-client.js';
import { onPath } from '../../test/helpers/tools.js';
import { ROOT } from '../lib/procs.js';

export function committedSeeds(): Captured[] {
  const file = join(ROOT, 'test', 'helpers', 'captured-requests.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { requests: Captured[] }).requests;
}

const COMPOSE = `version: "2.4"
services:
  app:
    image: busybox
    command: ["sleep", "30"]
    labels: ["fuzz=1"]
`;

function compose(host: string, file: string, args: string[]): Promise<void> {
  return new Promise((resolve) => {
    execFile(
      'docker-compose',
      ['-p', 'fuzzseed', '-f', file, ...args],
      { env: { PATH: process.env.PATH, HOME: process.env.HOME, DOCKER_HOST: host }, timeout: 120_000 },
      () => resolve(),
    );
  });
}

async function dockerodeSteps(socketPath: string, sleeper: string, finished: string, tag: (w: string) => void) {
  const d = new Docker({ socketPath });
  const steps: [string, () => Promise<unknown>][] = [
    [
      'exec-stdin',
      async () => {
        const e = await d.getContainer(sleeper).exec({ Cmd: ['cat'], AttachStdin: true, AttachStdout: true });
        const s = (await e.start({ hijack: true, stdin: true })) as NodeJS.ReadWriteStream & { destroy(): void };
        s.write('hello from the fuzz seeds\n');
        s.end();
        await new Promise((r) => (s.on('end', r), s.on('close', r), s.on('error', r), s.resume()));
      },
    ],
    [
      'attach',
      async () => {
        const s = (await d.getContainer(sleeper).attach({ stream: true, stdout: true, stderr: true })) as unknown as {
          destroy(): void;
        };
        await new Promise((r) => setTimeout(r, 200));
        s.destroy();
      },
    ],
    ['putArchive', () => d.getContainer(sleeper).putArchive(Buffer.alloc(2048, 0), { path: '/tmp' })],
    ['logs-follow', () => d.getContainer(finished).logs({ follow: true, stdout: true, stderr: true, tail: 10 })],
    ['top', () => d.getContainer(sleeper).top()],
  ];
  for (const [what, fn] of steps) {
    tag(what);
    await fn().catch(() => {});
  }
}

/** Connections captured from real clients against `upstream` (kuber-api), with IDs of live containers. */
export async function liveSeeds(upstream: Target, sleeper: string, finished: string): Promise<Captured[]> {
  const proxy = await recordingProxy(upstream);
  const dir = mkdtempSync(join(tmpdir(), 'kapi-fuzz-seeds-'));
  try {
    if (dockerAvailable()) {
      const file = join(dir, 'payload.txt');
      writeFileSync(file, 'payload for docker cp\n');
      const cli: [string, string[]][] = [
        ['run', ['run', '--rm', 'busybox', 'echo', 'ok']],
        ['run-env', ['run', '--rm', '-e', 'A=B', '--label', 'x=y', 'busybox', 'sh', '-c', 'echo $A; echo e >&2']],
        ['exec', ['exec', sleeper, 'echo', 'hi']],
        ['exec-env', ['exec', '-e', 'X=1', '-w', '/tmp', sleeper, 'sh', '-c', 'echo $X']],
        ['logs-f', ['logs', '-f', '--tail', '5', '-t', finished]],
        ['cp', ['cp', file, `${sleeper}:/tmp/payload.txt`]],
        ['cp-out', ['cp', `${sleeper}:/etc/hostname`, join(dir, 'hostname')]],
        ['ps', ['ps', '-a', '--filter', 'status=running', '--format', '{{.ID}}']],
        ['inspect', ['inspect', sleeper]],
        ['network', ['network', 'create', 'fuzzseed-n1']],
        ['network-rm', ['network', 'rm', 'fuzzseed-n1']],
        ['volume', ['volume', 'create', 'fuzzseed-v1']],
        ['volume-rm', ['volume', 'rm', 'fuzzseed-v1']],
        ['stop', ['stop', '-t', '1', 'nosuch']],
      ];
      for (const [what, args] of cli) {
        proxy.tag('docker-cli', what);
        await docker(proxy.host, args, { timeoutMs: 60_000 });
      }
      // An attach to the running sleeper never ends by itself: its upgrade is a seed every replay
      // can repeat (an exec or a run's attach names an instance that is gone by then).
      proxy.tag('docker-cli', 'attach');
      // --sig-proxy=false: no signal of ours reaches the container; SIGKILL after 3 s, as the CLI
      // outlives a SIGTERM in an attach.
      await docker(proxy.host, ['attach', '--no-stdin', '--sig-proxy=false', sleeper], {
        timeoutMs: 3000,
        killSignal: 'SIGKILL',
      });
    }
    if (onPath('docker-compose')) {
      const file = join(dir, 'compose.yml');
      writeFileSync(file, COMPOSE);
      proxy.tag('compose', 'up');
      await compose(proxy.host, file, ['up', '-d']);
      proxy.tag('compose', 'down');
      await compose(proxy.host, file, ['down', '-v', '-t', '1']);
    }
    await dockerodeSteps(proxy.socketPath, sleeper, finished, (w) => proxy.tag('dockerode', w));
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    await proxy.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return proxy.captured;
}
