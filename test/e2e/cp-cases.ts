/**
 * @module test/e2e/cp-cases
 * `docker cp` driven by the real docker CLI (and raw HTTP where the CLI hides the wire), as cases
 * that run against kube-sim (cp-cli.test.ts) and a real cluster (cp-cluster.test.ts): copies into
 * a created container that its entrypoint sees at start, into and out of a running one (files,
 * directories, symlinks, modes, -L, tar on stdin and stdout), errors with moby's wording and
 * statuses, the stat header's shape.
 */
import * as assert from 'uvu/assert';
import { request } from 'node:http';
import { execFileSync, spawn } from 'node:child_process';
import {
  mkdtempSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
  chmodSync,
  existsSync,
  lstatSync,
  readlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker } from '../helpers/docker-cli.js';
import { ok, until, type CaseEnv, type Register } from './containers-cases.js';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One request to a DOCKER_HOST (unix://path) with an optional body. */
export function http(
  dockerHost: string,
  method: string,
  path: string,
  body?: Buffer,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: dockerHost.replace(/^unix:\/\//, ''),
        method,
        path,
        headers: { ...headers, ...(body ? { 'Content-Length': String(body.length) } : {}) },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The docker CLI with bytes on stdin and stdout kept as bytes (`docker cp - ctr:/dir`, `docker cp ctr:/p -`). */
export function dockerBytes(
  dockerHost: string,
  args: string[],
  input?: Buffer,
): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  cliConfig ??= mkdtempSync(join(tmpdir(), 'kapi-cp-config-'));
  return new Promise((resolve) => {
    const child = spawn('docker', args, {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DOCKER_HOST: dockerHost, DOCKER_CONFIG: cliConfig },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdin.on('error', () => {});
    child.stdin.end(input);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr: err });
    });
  });
}
let cliConfig: string | undefined;

/** Member names of a tar (GNU tar -t), in order. */
export function tarList(tar: Buffer): string[] {
  return execFileSync('tar', ['-tf', '-'], { input: tar }).toString().split('\n').filter(Boolean);
}

export function decodeStat(h: string | string[] | undefined): Record<string, unknown> {
  assert.type(h, 'string', 'X-Docker-Container-Path-Stat header');
  return JSON.parse(Buffer.from(h as string, 'base64').toString('utf8')) as Record<string, unknown>;
}

const DIR = 2 ** 31;
const SYMLINK = 2 ** 27;
export const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;

export function registerCpCases(reg: Register, env: CaseEnv): void {
  const d = async (...args: string[]) => {
    const t0 = Date.now();
    const r = await docker(env.dockerHost(), args, { timeoutMs: 90_000 });
    if (process.env.CP_TIMING) console.log(`${Date.now() - t0} ms: docker ${args.join(' ')}`);
    return r;
  };
  const n = (s: string) => `${env.prefix}-${s}`;
  const work = () => mkdtempSync(join(tmpdir(), 'kapi-cp-'));

  reg(
    '~> docker cp into a created container: the entrypoint sees the files at start (file, directory, later copy overrides)',
    async () => {
      const w = work();
      writeFileSync(join(w, 'config.txt'), 'first\n');
      mkdirSync(join(w, 'app', 'conf.d'), { recursive: true });
      writeFileSync(join(w, 'app', 'conf.d', 'a.conf'), 'a=1\n');
      writeFileSync(join(w, 'app', 'run.sh'), '#!/bin/sh\necho script-ran\n');
      chmodSync(join(w, 'app', 'run.sh'), 0o750);
      const name = n('created');
      ok(
        await d(
          'create',
          '--name',
          name,
          'busybox',
          'sh',
          '-c',
          'cat /etc/config.txt /tmp/app/conf.d/a.conf; /tmp/app/run.sh; stat -c "%a %U" /tmp/app/run.sh; ls /etc/hostname >/dev/null && echo image-etc-visible',
        ),
      );
      ok(await d('cp', join(w, 'config.txt'), `${name}:/etc/config.txt`), 'cp file');
      ok(
        await d('cp', join(w, 'app'), `${name}:/tmp/`),
        'cp dir into an existing directory (trailing slash: the CLI stats it first)',
      );
      writeFileSync(join(w, 'config.txt'), 'second\n');
      ok(await d('cp', join(w, 'config.txt'), `${name}:/etc/config.txt`), 'cp again');
      const out = ok(await d('start', '-a', name));
      assert.equal(out.split('\n'), ['second', 'a=1', 'script-ran', '750 root', 'image-etc-visible']);
      ok(await d('rm', name));
      // docker cp -a (copyUIDGID): the files belong to the container's user.
      const owned = n('owned');
      ok(
        await d(
          'create',
          '--user',
          '1234:5678',
          '--name',
          owned,
          'busybox',
          'stat',
          '-c',
          '%u %g %a',
          '/tmp/config.txt',
        ),
      );
      ok(await d('cp', '-a', join(w, 'config.txt'), `${owned}:/tmp/`));
      assert.is(ok(await d('start', '-a', owned)), '1234 5678 644');
      ok(await d('rm', owned));
    },
  );

  reg('~> docker cp into and out of a running container: files, directories, -L, stdin/stdout archives', async () => {
    const w = work();
    const name = n('running');
    const since = String(Math.floor(Date.now() / 1000) - 1);
    ok(await d('run', '-d', '--name', name, 'busybox', 'sleep', '600'));
    writeFileSync(join(w, 'in.txt'), 'into the container\n');
    chmodSync(join(w, 'in.txt'), 0o640);
    ok(await d('cp', join(w, 'in.txt'), `${name}:/tmp/`));
    assert.is(ok(await d('exec', name, 'stat', '-c', '%a %s', '/tmp/in.txt')), '640 19');
    ok(await d('cp', join(w, 'in.txt'), `${name}:/tmp/renamed.txt`), 'cp to a new name (the CLI renames the member)');
    assert.is(ok(await d('exec', name, 'cat', '/tmp/renamed.txt')), 'into the container');
    mkdirSync(join(w, 'tree', 'sub'), { recursive: true });
    writeFileSync(join(w, 'tree', 'sub', 'leaf'), 'leaf\n');
    ok(await d('cp', join(w, 'tree'), `${name}:/tmp/tree`));
    assert.is(ok(await d('exec', name, 'cat', '/tmp/tree/sub/leaf')), 'leaf');
    // out: a file, a directory, a symlink with and without -L
    ok(await d('exec', name, 'sh', '-c', 'echo made-inside > /tmp/made.txt && ln -s /tmp/made.txt /tmp/link'));
    ok(await d('cp', `${name}:/tmp/made.txt`, join(w, 'made.txt')));
    assert.is(readFileSync(join(w, 'made.txt'), 'utf8'), 'made-inside\n');
    ok(await d('cp', `${name}:/tmp/tree`, join(w, 'tree-back')));
    assert.is(readFileSync(join(w, 'tree-back', 'sub', 'leaf'), 'utf8'), 'leaf\n');
    ok(await d('cp', `${name}:/tmp/link`, join(w, 'link-raw')));
    assert.ok(lstatSync(join(w, 'link-raw')).isSymbolicLink());
    assert.is(readlinkSync(join(w, 'link-raw')), '/tmp/made.txt');
    ok(await d('cp', '-L', `${name}:/tmp/link`, join(w, 'link-followed')));
    assert.is(readFileSync(join(w, 'link-followed'), 'utf8'), 'made-inside\n');
    // a tar on stdin (`docker cp - ctr:/dir`) and a tar on stdout (`docker cp ctr:/path -`)
    mkdirSync(join(w, 'st', 'd'), { recursive: true });
    writeFileSync(join(w, 'st', 'd', 'x.sh'), 'echo x\n');
    chmodSync(join(w, 'st', 'd', 'x.sh'), 0o755);
    execFileSync('ln', ['-s', 'x.sh', join(w, 'st', 'd', 'y')]);
    const tarIn = execFileSync('tar', ['-cf', '-', '-C', join(w, 'st'), 'd']);
    const sin = await dockerBytes(env.dockerHost(), ['cp', '-', `${name}:/tmp`], tarIn);
    assert.is(sin.code, 0, sin.stderr);
    assert.is(ok(await d('exec', name, 'sh', '-c', 'stat -c "%a" /tmp/d/x.sh; readlink /tmp/d/y')), '755\nx.sh');
    const sout = await dockerBytes(env.dockerHost(), ['cp', `${name}:/tmp/d`, '-']);
    assert.is(sout.code, 0, sout.stderr);
    assert.equal(tarList(sout.stdout).sort(), ['d/', 'd/x.sh', 'd/y']);
    // a directory's contents with a trailing "/." (members "./...")
    const dot = await dockerBytes(env.dockerHost(), ['cp', `${name}:/tmp/d/.`, '-']);
    assert.equal(tarList(dot.stdout).sort(), ['./', './x.sh', './y']);
    const sdest = await dockerBytes(env.dockerHost(), ['cp', '-', `${name}:/tmp/made.txt`], tarIn);
    assert.is.not(sdest.code, 0);
    assert.match(sdest.stderr, /must be a directory/);
    // missing path: moby's 404 text
    const miss = await d('cp', `${name}:/nope/x`, join(w, 'x'));
    assert.is.not(miss.code, 0);
    assert.match(miss.stderr, new RegExp(`Could not find the file /nope/x in container ${name}`));
    assert.not.ok(existsSync(join(w, 'x')));
    // moby's events for copies: extract-to-dir (PUT) and archive-path (GET)
    const ev = ok(
      await d(
        'events',
        '--since',
        since,
        '--until',
        String(Math.ceil(Date.now() / 1000) + 1),
        '--filter',
        `container=${name}`,
        '--format',
        '{{.Action}}',
      ),
    );
    const actions = new Set(ev.split('\n'));
    assert.ok(actions.has('extract-to-dir') && actions.has('archive-path'), `events: ${[...actions].join(' ')}`);
    ok(await d('rm', '-f', name));
  });

  reg(
    '~> HEAD stat header: base64 JSON {name,size,mode,mtime,linkTarget} with Go FileMode bits; 404 and 400 as moby',
    async () => {
      const name = n('stat');
      ok(
        await d(
          'run',
          '-d',
          '--name',
          name,
          'busybox',
          'sh',
          '-c',
          'mkdir -p /tmp/d && chmod 1777 /tmp/d && printf 12345 > /tmp/f && chmod 640 /tmp/f && ln -s /tmp/f /tmp/l && sleep 600',
        ),
      );
      const head = (p: string) =>
        http(env.dockerHost(), 'HEAD', `/v1.45/containers/${name}/archive?path=${encodeURIComponent(p)}`);
      await until(
        async () => ((await head('/tmp/l')).status === 200 ? true : undefined),
        20_000,
        'the container made its files',
      );
      const rf = await head('/tmp/f');
      assert.is(rf.status, 200);
      const f = decodeStat(rf.headers['x-docker-container-path-stat']);
      assert.equal(Object.keys(f), ['name', 'size', 'mode', 'mtime', 'linkTarget']);
      assert.equal([f.name, f.size, f.mode, f.linkTarget], ['f', 5, 0o640, '']);
      assert.match(String(f.mtime), RFC3339);
      const dd = decodeStat((await head('/tmp/d/')).headers['x-docker-container-path-stat']);
      assert.equal(
        [dd.name, dd.mode],
        ['d', DIR + 2 ** 20 + 0o777],
        'a directory with the sticky bit: ModeDir|ModeSticky|0777',
      );
      const l = decodeStat((await head('/tmp/l')).headers['x-docker-container-path-stat']);
      assert.equal([l.name, l.mode, l.linkTarget], ['l', SYMLINK + 0o777, '/tmp/f']);
      const miss = await http(env.dockerHost(), 'GET', `/v1.45/containers/${name}/archive?path=/missing`);
      assert.is(miss.status, 404);
      assert.equal(JSON.parse(miss.body.toString()), {
        message: `Could not find the file /missing in container ${name}`,
      });
      const noPath = await http(env.dockerHost(), 'GET', `/v1.45/containers/${name}/archive`);
      assert.is(noPath.status, 400);
      assert.equal(JSON.parse(noPath.body.toString()), { message: 'bad parameter: pathcannot be empty' });
      const notDir = await http(env.dockerHost(), 'GET', `/v1.45/containers/${name}/archive?path=/tmp/f/`);
      assert.is(notDir.status, 500);
      assert.match(notDir.body.toString(), /not a directory/);
      const emptyTar = Buffer.alloc(1024);
      const intoFile = await http(env.dockerHost(), 'PUT', `/v1.45/containers/${name}/archive?path=/tmp/f`, emptyTar);
      assert.equal(
        [intoFile.status, JSON.parse(intoFile.body.toString())],
        [400, { message: 'extraction point is not a directory' }],
      );
      const intoMissing = await http(
        env.dockerHost(),
        'PUT',
        `/v1.45/containers/${name}/archive?path=/no/where`,
        emptyTar,
      );
      assert.equal(
        [intoMissing.status, JSON.parse(intoMissing.body.toString())],
        [404, { message: `Could not find the file /no/where in container ${name}` }],
      );
      const noCtr = await http(env.dockerHost(), 'HEAD', `/v1.45/containers/${name}-nope/archive?path=/`);
      assert.is(noCtr.status, 404);
      // --read-only: moby refuses copies outside volumes (400) before reading the archive.
      const ro = n('readonly');
      ok(await d('create', '--read-only', '--name', ro, 'busybox', 'true'));
      const roPut = await http(env.dockerHost(), 'PUT', `/v1.45/containers/${ro}/archive?path=/tmp`, emptyTar);
      assert.equal(
        [roPut.status, JSON.parse(roPut.body.toString())],
        [400, { message: 'container rootfs is marked read-only' }],
      );
      ok(await d('rm', ro));
      ok(await d('rm', '-f', name));
    },
  );

  reg(
    '~> docker cp out of a created container reads the image (and what was copied in) through an inspector pod',
    async () => {
      const w = work();
      const name = n('inspect');
      ok(await d('create', '--name', name, 'busybox', 'true'));
      writeFileSync(join(w, 'note'), 'staged\n');
      // The image has no /srv: dockerd refuses the extraction point, and so does kuber-api (it asks the image).
      const noDir = await d('cp', join(w, 'note'), `${name}:/srv/note`);
      assert.is.not(noDir.code, 0);
      assert.match(noDir.stderr, new RegExp(`Could not find the file /srv in container ${name}`));
      ok(await d('cp', join(w, 'note'), `${name}:/tmp/note`));
      ok(await d('cp', `${name}:/tmp/note`, join(w, 'note-back')));
      assert.is(readFileSync(join(w, 'note-back'), 'utf8'), 'staged\n');
      ok(await d('cp', `${name}:/etc/passwd`, join(w, 'passwd')));
      assert.match(readFileSync(join(w, 'passwd'), 'utf8'), /^root:/);
      // Once it has run and stopped, the filesystem is gone with the Pod: a clear error.
      ok(await d('start', '-a', name));
      const r = await d('cp', `${name}:/etc/passwd`, join(w, 'passwd2'));
      assert.is.not(r.code, 0);
      assert.match(r.stderr, /stopped.*filesystem goes away with its Pod/);
      const raw = await http(env.dockerHost(), 'HEAD', `/v1.45/containers/${name}/archive?path=/etc/passwd`);
      assert.is(raw.status, 501);
      ok(await d('rm', name));
    },
  );
}
