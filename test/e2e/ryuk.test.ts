/**
 * Ryuk played in process by kuber-api (engine/ryuk), against kube-sim with real clients:
 * - a testcontainers 11 session with its DEFAULT settings (Ryuk enabled) in a child process
 *   (test/e2e/ryuk-session.ts): exposed port + default wait, log-message and health-check waits,
 *   exec, copy before start and copy out, a Network with aliases; once the process exits,
 *   everything it made is gone within the reconnection timeout (10 s) + 5 s, with destroy events;
 *   two such processes at once share one Ryuk (testcontainers finds it with `docker ps`);
 * - the raw protocol with the docker CLI's Ryuk: split lines, CRLF, empty lines, several
 *   connections, a reconnection within the timeout keeps everything, then the reap (containers,
 *   networks) in Ryuk's order; logs, inspect, exit code;
 * - the old log flavour (ryuk < 0.10: `... Started!`) and the connection timeout;
 * - a kuber-api restart: the persisted filters are reaped once the timeout passes;
 * - stop (SIGTERM prunes at once with no client), kill (137), the line limit.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliSuite } from '../helpers/streams-env.js';
import { ok, until } from './containers-cases.js';

const { t, d, env } = cliSuite('ryuk tests', { timeoutMs: 60_000 });
const here = dirname(fileURLToPath(import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const RYUK = 'testcontainers/ryuk:0.14.0';

/** A client connection to a Ryuk port that counts the ACKs it gets. */
async function connect(port: number): Promise<{ sock: net.Socket; acks: () => number; closed: Promise<void> }> {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
  let text = '';
  sock.on('data', (b: Buffer) => (text += b.toString()));
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  return { sock, acks: () => text.split('ACK\n').length - 1, closed };
}

async function hostPort(name: string): Promise<number> {
  const line = ok(await d('port', name, '8080/tcp')).split('\n')[0]!;
  return Number(line.slice(line.lastIndexOf(':') + 1));
}

const exists = async (kind: 'container' | 'network', name: string) => (await d(kind, 'inspect', name)).code === 0;

async function events(
  since: string,
  filters: string[],
): Promise<Array<{ Type: string; Action: string; Actor: { ID: string; Attributes: Record<string, string> } }>> {
  const until = String(Date.now() / 1000);
  const out = ok(
    await d(
      'events',
      '--since',
      since,
      '--until',
      until,
      ...filters.flatMap((f) => ['--filter', f]),
      '--format',
      '{{json .}}',
    ),
  );
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

t(
  '~> raw protocol: split lines, CRLF, several connections; a reconnection within the timeout keeps everything; then containers and networks are reaped, with destroy events',
  async () => {
    const since = String(Date.now() / 1000);
    ok(await d('network', 'create', '--label', 'raw=1', 'ryuk-rawnet'));
    ok(
      await d(
        'run',
        '-d',
        '--name',
        'ryuk-victim',
        '--label',
        'raw=1',
        '--network',
        'ryuk-rawnet',
        'busybox',
        'sleep',
        '600',
      ),
    );
    ok(await d('run', '-d', '--name', 'ryuk-bystander', '--label', 'raw=2', 'busybox', 'sleep', '600'));
    ok(await d('run', '-d', '--name', 'ryuk-raw', '-p', '127.0.0.1::8080', '-e', 'RYUK_RECONNECTION_TIMEOUT=2s', RYUK));
    const ps = ok(await d('ps', '--filter', 'name=ryuk-raw', '--format', '{{.Status}} {{.Ports}} {{.Labels}}'));
    assert.match(ps, /^Up .*127\.0\.0\.1:\d+->8080\/tcp/);
    assert.match(ps, 'org.testcontainers.ryuk=true');
    const port = await hostPort('ryuk-raw');
    await sleep(1100); // Ryuk leaves alone what was created within a second of its check (RYUK_RETRY_OFFSET)
    const a = await connect(port);
    const b = await connect(port);
    a.sock.write('label=ra');
    await sleep(50);
    a.sock.write('w=1\r\n\r\nlabel=raw=1&label=');
    await sleep(50);
    a.sock.write('nope=0\n');
    b.sock.write('label=raw=1\n');
    await until(async () => (a.acks() === 2 && b.acks() === 1 ? true : undefined), 10_000, 'the ACKs');
    a.sock.end();
    b.sock.end();
    await Promise.all([a.closed, b.closed]);
    const c = await connect(port); // reconnects within the 2 s
    await sleep(3000);
    assert.ok(await exists('container', 'ryuk-victim'), 'kept while a client is connected');
    assert.equal(JSON.parse(ok(await d('inspect', 'ryuk-raw')))[0].State.Status, 'running');
    c.sock.end();
    await c.closed;
    const t0 = Date.now();
    await until(
      async () =>
        !(await exists('container', 'ryuk-victim')) && !(await exists('network', 'ryuk-rawnet')) ? true : undefined,
      2000 + 5000 + 5000,
      'the reap',
    );
    console.log(
      `    raw protocol: reaped ${Date.now() - t0} ms after the last client left (reconnection timeout 2000 ms)`,
    );
    assert.ok(Date.now() - t0 < 2000 + 5000, `reaped ${Date.now() - t0} ms after the last client left`);
    assert.ok(await exists('container', 'ryuk-bystander'), 'a container no filter matches stays');
    const st = await until(
      async () => {
        const s = JSON.parse(ok(await d('inspect', 'ryuk-raw')))[0].State;
        return s.Status === 'exited' ? s : undefined;
      },
      10_000,
      'ryuk exited',
    );
    assert.is(st.ExitCode, 0);
    const logs = await d('logs', 'ryuk-raw');
    assert.match(logs.stdout, /level=INFO msg=Started address=\[::\]:8080/);
    assert.match(logs.stdout, 'msg="adding filter" type=label values="[raw=1]"');
    assert.match(logs.stdout, /msg="client connected" address=127\.0\.0\.1:\d+ clients=2/);
    assert.match(logs.stdout, 'level=INFO msg=removed containers=1 networks=1 volumes=0 images=0');
    assert.match(logs.stdout, 'level=INFO msg=done');
    const evs = await events(since, ['type=container', 'type=network']);
    const victimId = evs.find((e) => e.Actor.Attributes.name === 'ryuk-victim')?.Actor.ID;
    assert.ok(
      evs.some((e) => e.Type === 'container' && e.Action === 'destroy' && e.Actor.ID === victimId),
      'destroy of the victim',
    );
    assert.ok(
      evs.some((e) => e.Type === 'network' && e.Action === 'destroy' && e.Actor.Attributes.name === 'ryuk-rawnet'),
      'destroy of the network',
    );
    assert.ok(
      evs.some(
        (e) =>
          e.Type === 'container' &&
          e.Action === 'die' &&
          e.Actor.Attributes.name === 'ryuk-raw' &&
          e.Actor.Attributes.exitCode === '0',
      ),
      'die of ryuk',
    );
    ok(await d('rm', '-f', 'ryuk-raw', 'ryuk-bystander'));
  },
);

t(
  '~> Ryuk < 0.10 logs "... Started!" (Go log, stderr); with nobody connecting it exits after RYUK_CONNECTION_TIMEOUT',
  async () => {
    ok(
      await d(
        'run',
        '-d',
        '--name',
        'ryuk-old',
        '-p',
        '127.0.0.1::8080',
        '-e',
        'RYUK_CONNECTION_TIMEOUT=1s',
        'testcontainers/ryuk:0.8.1',
      ),
    );
    const st = await until(
      async () => {
        const s = JSON.parse(ok(await d('inspect', 'ryuk-old')))[0].State;
        return s.Status === 'exited' ? s : undefined;
      },
      15_000,
      'ryuk exited',
    );
    assert.is(st.ExitCode, 0);
    const logs = await d('logs', 'ryuk-old');
    assert.is(logs.stdout, '');
    assert.match(logs.stderr, /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d Started!$/m);
    assert.match(logs.stderr, /Timeout waiting for connection\n/);
    assert.match(logs.stderr, 'Removed 0 container(s), 0 network(s), 0 volume(s) 0 image(s)');
    ok(await d('rm', 'ryuk-old'));
  },
);

t(
  '~> docker run --rm in the foreground prints what Ryuk prints and exits 0 (attach before start); a bad RYUK_ variable exits 1 as Ryuk does',
  async () => {
    const r = await d(
      'run',
      '--rm',
      '--name',
      'ryuk-fg',
      '-p',
      '127.0.0.1::8080',
      '-e',
      'RYUK_CONNECTION_TIMEOUT=1s',
      RYUK,
    );
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /^time=\S+ level=INFO msg=starting connection_timeout=1s reconnection_timeout=10s /);
    assert.match(r.stdout, 'msg=Started address=[::]:8080\n');
    assert.match(r.stdout, /msg=done\n$/);
    await until(async () => (!(await exists('container', 'ryuk-fg')) ? true : undefined), 10_000, 'AutoRemove');
    const bad = await d('run', '--name', 'ryuk-bad', '-e', 'RYUK_RECONNECTION_TIMEOUT=10', RYUK);
    assert.is(bad.code, 1);
    assert.match(
      bad.stdout,
      'level=ERROR msg=run error="new reaper: load config: parse env: env: parse error on field \\"ReconnectionTimeout\\" of type \\"time.Duration\\": unable to parse duration: time: missing unit in duration \\"10\\""',
    );
    ok(await d('rm', 'ryuk-bad'));
  },
);

t(
  '~> docker stop prunes at once with no client (SIGTERM), docker kill ends it with 137; a line past the scanner limit ends the connection',
  async () => {
    ok(await d('run', '-d', '--name', 'ryuk-stop', '-p', '127.0.0.1::8080', RYUK));
    const port = await hostPort('ryuk-stop');
    const long = await connect(port);
    long.sock.write(Buffer.alloc(70_000, 0x61));
    await long.closed;
    const c = await connect(port);
    c.sock.write('label=stop-test=1\n');
    await until(async () => (c.acks() === 1 ? true : undefined), 10_000, 'the ACK');
    c.sock.end();
    await c.closed;
    ok(await d('stop', 'ryuk-stop'));
    const s = JSON.parse(ok(await d('inspect', 'ryuk-stop')))[0].State;
    assert.equal([s.Status, s.ExitCode], ['exited', 0]);
    const logs = ok(await d('logs', 'ryuk-stop'));
    assert.match(logs, 'msg=scan');
    assert.match(logs, 'bufio.Scanner: token too long');
    assert.match(logs, 'msg="signal received" clients=0 shutdown_timeout=10m0s');
    ok(await d('start', 'ryuk-stop'));
    assert.is(JSON.parse(ok(await d('inspect', 'ryuk-stop')))[0].State.Status, 'running');
    ok(await d('kill', 'ryuk-stop'));
    const k = JSON.parse(ok(await d('inspect', 'ryuk-stop')))[0].State;
    assert.equal([k.Status, k.ExitCode], ['exited', 137]);
    ok(await d('rm', 'ryuk-stop'));
  },
);

t(
  '~> a kuber-api restart keeps a running Ryuk: its filters are reaped once the reconnection timeout passes',
  async () => {
    ok(await d('run', '-d', '--name', 'ryuk-restart-victim', '--label', 'rs=1', 'busybox', 'sleep', '600'));
    ok(
      await d(
        'run',
        '-d',
        '--name',
        'ryuk-restart',
        '-p',
        '127.0.0.1::8080',
        '-e',
        'RYUK_RECONNECTION_TIMEOUT=3s',
        RYUK,
      ),
    );
    await sleep(1100);
    const c = await connect(await hostPort('ryuk-restart'));
    c.sock.write('label=rs=1\n');
    await until(async () => (c.acks() === 1 ? true : undefined), 10_000, 'the ACK');
    await env().api.restart();
    await c.closed; // the restart cut it
    const t0 = Date.now();
    assert.is(JSON.parse(ok(await d('inspect', 'ryuk-restart')))[0].State.Status, 'running');
    assert.match(ok(await d('logs', 'ryuk-restart')), 'msg=Started');
    await until(
      async () => (!(await exists('container', 'ryuk-restart-victim')) ? true : undefined),
      3000 + 5000 + 5000,
      'the reap after the restart',
    );
    console.log(`    restart: reaped ${Date.now() - t0} ms after kuber-api was back (reconnection timeout 3000 ms)`);
    assert.ok(Date.now() - t0 < 3000 + 5000, `reaped ${Date.now() - t0} ms after the restart`);
    ok(await d('rm', '-f', 'ryuk-restart'));
  },
);

/** Run test/e2e/ryuk-session.js with testcontainers' defaults (no TESTCONTAINERS_* or RYUK_* variable). */
async function session(
  args: string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string; exitedAt: number }> {
  const childEnv: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('TESTCONTAINERS_') && !k.startsWith('RYUK_')) childEnv[k] = v;
  childEnv.DOCKER_HOST = env().api.dockerHost;
  const child = spawn(process.execPath, [join(here, 'ryuk-session.js'), ...args], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  return { code, stdout, stderr, exitedAt: Date.now() };
}

t(
  '~> two testcontainers processes at once share one Ryuk (the second finds it in ps and connects); both sessions are reaped once the last exits',
  async () => {
    const since = String(Date.now() / 1000);
    const [a, b] = await Promise.all([session(['small']), session(['small'])]);
    assert.is(a.code, 0, a.stderr);
    assert.is(b.code, 0, b.stderr);
    const last = Math.max(a.exitedAt, b.exitedAt);
    await until(
      async () => (ok(await d('ps', '-aq', '--filter', 'label=org.testcontainers=true')) === '' ? true : undefined),
      10_000 + 5_000 + 10_000,
      'everything gone',
    );
    assert.ok(Date.now() - last < 10_000 + 5_000, `gone ${Date.now() - last} ms after the last session exited`);
    const creates = (await events(since, ['type=container', 'event=create'])).map((e) => e.Actor.Attributes.image);
    assert.is(creates.filter((i) => i.startsWith('testcontainers/ryuk')).length, 1, JSON.stringify(creates));
    assert.is(creates.filter((i) => i.startsWith('busybox')).length, 2, JSON.stringify(creates));
  },
);

t(
  '~> testcontainers with its defaults (Ryuk on): the session works, and when its process exits everything it made is gone within 10 s + 5 s',
  async () => {
    const since = String(Date.now() / 1000);
    const { code, stdout, stderr, exitedAt } = await session();
    assert.is(code, 0, `session failed:\n${stderr}\n${stdout}`);
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!);
    assert.is(out.http, 'hello-ryuk\n');
    assert.equal(out.exec, { exitCode: 0, stdout: 'copied before start\n', stderr: 'to-stderr\n' });
    assert.is(out.copyOut, true);
    assert.is(out.healthy, true);
    assert.equal(out.alias, { exitCode: 0, output: 'hello-alias\n' });
    const left = async () => {
      const containers = ok(await d('ps', '-aq', '--filter', 'label=org.testcontainers=true'))
        .split('\n')
        .filter(Boolean);
      const networks = ok(await d('network', 'ls', '-q', '--filter', `name=${out.network}`))
        .split('\n')
        .filter(Boolean);
      return containers.length + networks.length;
    };
    await until(async () => ((await left()) === 0 ? true : undefined), 10_000 + 5_000 + 10_000, 'everything gone');
    const took = Date.now() - exitedAt;
    console.log(
      `    testcontainers session: everything gone ${took} ms after its process exited (reconnection timeout 10000 ms)`,
    );
    assert.ok(took < 10_000 + 5_000, `gone ${took} ms after the session exited`);
    const evs = await events(since, ['event=destroy']);
    const containers = evs.filter((e) => e.Type === 'container').map((e) => e.Actor.Attributes.image);
    assert.is(
      containers.filter((i) => i === 'busybox' || i === 'busybox:latest').length,
      5,
      JSON.stringify(containers),
    );
    assert.ok(
      containers.some((i) => i.startsWith('testcontainers/ryuk')),
      'Ryuk itself is removed (AutoRemove)',
    );
    assert.ok(
      evs.some((e) => e.Type === 'network' && e.Actor.Attributes.name === out.network),
      'network destroy',
    );
  },
);

test.run();
