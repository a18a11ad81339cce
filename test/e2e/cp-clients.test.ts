/**
 * Archives through the npm clients (issue acceptance): dockerode's putArchive/getArchive/infoArchive
 * on a running and on a created container, and testcontainers 11 (`withCopyContentToContainer`,
 * `withCopyFilesToContainer`, `withCopyDirectoriesToContainer`: one PUT of "/" before start;
 * `copyContentToContainer` and `copyArchiveFromContainer` on the started container), the files
 * read back through exec. Ryuk is disabled (TESTCONTAINERS_RYUK_DISABLED: another issue).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import { kubectl, spawnSim, type SpawnedSim } from '../helpers/sim.js';
import { startKuber, type Kuber } from '../helpers/kuber.js';
import { decodeStat, tarList } from './cp-cases.js';

let sim: SpawnedSim;
let kuber: Kuber;
let docker: Docker;

test.before(async () => {
  sim = await spawnSim();
  kuber = await startKuber({ kubeconfig: sim.kubeconfigPath });
  docker = new Docker({ socketPath: kuber.socketPath });
});
test.after(async () => {
  await kuber?.stop();
  await sim?.stop();
});

async function bytes(s: NodeJS.ReadableStream | Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s as AsyncIterable<Buffer>) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

/** Run a command in a container through dockerode's exec; stdout+stderr demuxed into one string. */
async function execText(c: Docker.Container, cmd: string[]): Promise<string> {
  const ex = await c.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await ex.start({ hijack: true, stdin: false });
  const out: Buffer[] = [];
  const sink = { write: (b: Buffer) => out.push(Buffer.from(b)) } as unknown as NodeJS.WritableStream;
  docker.modem.demuxStream(stream, sink, sink);
  await new Promise((r) => stream.on('end', r));
  return Buffer.concat(out).toString().trim();
}

/** The staged-archive chunk objects, as real kubectl lists them. */
async function archiveObjects(): Promise<string> {
  const r = await kubectl('1.33', ['get', 'configmaps', '-l', 'kuber-api.io/kind=archive', '-o', 'name'], {
    kubeconfig: sim.kubeconfigPath,
    cacheDir: kubeCache,
  });
  assert.is(r.code, 0, r.stderr);
  return r.stdout.trim();
}
const kubeCache = mkdtempSync(join(tmpdir(), 'kapi-cpc-kube-'));

const work = () => mkdtempSync(join(tmpdir(), 'kapi-cpc-'));

test('~> dockerode: putArchive, infoArchive (stat header) and getArchive on a running container', async () => {
  const w = work();
  mkdirSync(join(w, 'pkg'));
  writeFileSync(join(w, 'pkg', 'a.txt'), 'alpha\n');
  chmodSync(join(w, 'pkg', 'a.txt'), 0o600);
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '600'], name: 'cpc-run' });
  await c.start();
  await c.putArchive(execFileSync('tar', ['-cf', '-', '-C', w, 'pkg']), { path: '/tmp' });
  assert.is(await execText(c, ['stat', '-c', '%a %s', '/tmp/pkg/a.txt']), '600 6');
  const info = (await c.infoArchive({ path: '/tmp/pkg/a.txt' })) as unknown as {
    headers: Record<string, string>;
    resume(): void;
  };
  info.resume();
  const st = decodeStat(info.headers['x-docker-container-path-stat']);
  assert.equal([st.name, st.size, st.mode], ['a.txt', 6, 0o600]);
  const tar = await bytes((await c.getArchive({ path: '/tmp/pkg' })) as unknown as Readable);
  assert.equal(tarList(tar).sort(), ['pkg/', 'pkg/a.txt']);
  assert.is(execFileSync('tar', ['-xOf', '-', 'pkg/a.txt'], { input: tar }).toString(), 'alpha\n');
  const missing = await c.getArchive({ path: '/nope' }).then(
    () => 0,
    (e: { statusCode?: number }) => e.statusCode,
  );
  assert.is(missing, 404);
  await c.remove({ force: true });
});

test('~> dockerode: putArchive into a created container (an archive over several chunk objects); the command sees the files at start', async () => {
  const w = work();
  writeFileSync(join(w, 'seed.txt'), 'seeded before start\n');
  // 2.5 MiB of random bytes: the staged archive spans three ConfigMaps (1016 KiB each), reassembled in order.
  const blob = randomBytes(2.5 * 1024 * 1024);
  writeFileSync(join(w, 'blob.bin'), blob);
  const sum = createHash('sha256').update(blob).digest('hex');
  const c = await docker.createContainer({
    Image: 'busybox',
    Cmd: ['sh', '-c', 'cat /tmp/seed.txt; sha256sum /tmp/blob.bin'],
    name: 'cpc-created',
  });
  await c.putArchive(execFileSync('tar', ['-cf', '-', '-C', w, 'seed.txt', 'blob.bin'], { maxBuffer: 16 << 20 }), {
    path: '/tmp',
  });
  const chunks = (await archiveObjects()).split('\n');
  assert.is(chunks.length, 3, `chunk objects: ${chunks.join(' ')}`);
  await c.start();
  assert.equal(await c.wait(), { StatusCode: 0 });
  const logs = (await c.logs({ stdout: true, stderr: true })) as unknown as Buffer;
  assert.match(logs.toString(), 'seeded before start');
  assert.match(logs.toString(), `${sum}  /tmp/blob.bin`);
  await c.remove();
  // The chunks go with the container (garbage collection by owner).
  for (let i = 0; i < 100; i++) {
    const left = await archiveObjects();
    if (!left) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.unreachable('the staged chunks were not collected with the container');
});

test('~> testcontainers: copy content, files and directories before start, read back with exec; copy in and out after start', async () => {
  process.env.DOCKER_HOST = kuber.dockerHost;
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  // This machine is itself a container (/.dockerenv), which makes testcontainers look for the
  // bridge network's gateway (GET /networks/bridge: the networks work); the host is known here.
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';
  const { GenericContainer } = await import('testcontainers');
  const w = work();
  writeFileSync(join(w, 'app.conf'), 'port=8080\n');
  mkdirSync(join(w, 'data', 'sub'), { recursive: true });
  writeFileSync(join(w, 'data', 'sub', 'row.csv'), '1,2,3\n');
  const started = await new GenericContainer('busybox')
    .withCommand(['sleep', '600'])
    .withCopyContentToContainer([{ content: 'hello from testcontainers', target: '/tmp/hello.txt', mode: 0o640 }])
    .withCopyFilesToContainer([{ source: join(w, 'app.conf'), target: '/etc/app.conf' }])
    .withCopyDirectoriesToContainer([{ source: join(w, 'data'), target: '/opt/data' }])
    .start();
  try {
    const r = await started.exec([
      'sh',
      '-c',
      'cat /tmp/hello.txt; echo; stat -c %a /tmp/hello.txt; cat /etc/app.conf /opt/data/sub/row.csv; ls /etc/passwd',
    ]);
    assert.is(r.exitCode, 0, r.output);
    assert.equal(r.output.trim().split('\n'), [
      'hello from testcontainers',
      '640',
      'port=8080',
      '1,2,3',
      '/etc/passwd',
    ]);
    await started.copyContentToContainer([{ content: 'after start', target: '/tmp/later.txt' }]);
    assert.is((await started.exec(['cat', '/tmp/later.txt'])).output, 'after start');
    const tar = await bytes(await started.copyArchiveFromContainer('/opt/data'));
    assert.is(execFileSync('tar', ['-xOf', '-', 'data/sub/row.csv'], { input: tar }).toString(), '1,2,3\n');
  } finally {
    await started.stop();
  }
});

test.run();
