/**
 * The cleanup and inventory paths CI scripts run (issue 10 item 7), with the real docker CLI on
 * kuber-api and kube-sim: `system prune -af [--volumes]`, `system df`, `image history`, `run
 * --user nobody`, `stats --no-stream`. busybox's config comes from the registry test double
 * (kuber-api's Docker Hub mirror), with a history of its own.
 *
 * Differential: where a dockerd-oracle runs (ORACLE_SOCKET, default /run/docker-oracle.sock), the
 * same commands run against it and what can match must match (exit codes, messages, the columns
 * and JSON keys of the CLI's tables). Values that describe the engine's own images differ (the
 * oracle's busybox is imported from busybox-static, ours comes from the test registry), and
 * `system prune -af` is not run on the oracle: it is shared with other test runs, whose images
 * and containers it would remove. See the README's "What is supported".
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { existsSync } from 'node:fs';
import { docker, dockerAvailable } from '../helpers/docker-cli.js';
import { spawnSim, type SpawnedSim } from '../helpers/sim.js';
import { startKuber, type Kuber } from '../helpers/kuber.js';
import { startRegistry, type TestRegistry, type PushedImage } from '../helpers/registry.js';
import { hostPlatform } from '../../src/engine/images/registry/registry.js';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

const ORACLE = process.env.ORACLE_SOCKET ?? '/run/docker-oracle.sock';
const oracleUp =
  existsSync(ORACLE) &&
  (await new Promise<boolean>((resolve) => {
    const s = net.connect(ORACLE);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  }));
const available = dockerAvailable();
if (!available) console.log('SKIP cleanup e2e tests: no `docker` on PATH');
if (available && !oracleUp) console.log(`SKIP the dockerd differential parts: no dockerd-oracle at ${ORACLE}`);
const t = available ? test : test.skip;
const arch = `linux/${hostPlatform().architecture}`;

let sim: SpawnedSim;
let kuber: Kuber;
let reg: TestRegistry;
let busybox: PushedImage;
const tag = randomBytes(3).toString('hex');

const HISTORY = [
  { created: '2024-05-01T12:00:00Z', created_by: '/bin/sh -c #(nop) ADD file:busybox in / ' },
  { created: '2024-05-01T12:00:01Z', created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true },
  {
    created: '2024-05-02T08:30:00Z',
    created_by: 'RUN /bin/sh -c echo cleanup-test # buildkit',
    comment: 'buildkit.dockerfile.v0',
  },
];

test.before(async () => {
  if (!available) return;
  [sim, reg] = await Promise.all([spawnSim(), startRegistry()]);
  busybox = reg.push('library/busybox', 'latest', {
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
    layers: 2,
    extra: { history: HISTORY },
  });
  kuber = await startKuber({ kubeconfig: sim.kubeconfigPath, args: ['--registry-mirror', reg.url] });
});
test.after(async () => {
  await kuber?.stop();
  await Promise.all([sim?.stop(), reg?.close()]);
});

const d = (...args: string[]) => docker(kuber.dockerHost, args, { timeoutMs: 120_000 });
const o = (...args: string[]) => docker(`unix://${ORACLE}`, args, { timeoutMs: 120_000 });
const ok = async (p: ReturnType<typeof docker>) => {
  const r = await p;
  assert.is(r.code, 0, r.stderr);
  return r.stdout.trim();
};
/** The first `n` JSON lines of a streamed GET on the engine's socket (then the request is dropped). */
function streamedLines(socketPath: string, path: string, n: number): Promise<Array<Record<string, any>>> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path }, (res) => {
      let buf = '';
      const lines: Array<Record<string, any>> = [];
      res.on('data', (c: Buffer) => {
        buf += c.toString('utf8');
        for (let i = buf.indexOf('\n'); i >= 0 && lines.length < n; i = buf.indexOf('\n')) {
          lines.push(JSON.parse(buf.slice(0, i)) as Record<string, any>);
          buf = buf.slice(i + 1);
        }
        if (lines.length >= n) {
          req.destroy();
          resolve(lines);
        }
      });
      res.on('end', () => resolve(lines));
    });
    req.on('error', reject);
  });
}

/** The oracle runs with networking off: the CLI warns about it on stderr for every run. */
const oracleStderr = (s: string) =>
  s
    .split('\n')
    .filter((l) => !l.includes('IPv4 forwarding is disabled'))
    .join('\n');
const jsonKeys = (out: string) =>
  out
    .split('\n')
    .filter(Boolean)
    .map((l) =>
      Object.keys(JSON.parse(l) as object)
        .sort()
        .join(','),
    );

t(
  '~> image history: the registry config history, newest first, layer sizes in order; the ID and tag on the newest line',
  async () => {
    await ok(d('pull', 'busybox'));
    const lines = (
      await ok(
        d('image', 'history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Size}}|{{.Comment}}', 'busybox'),
      )
    ).split('\n');
    const id = busybox.platforms[arch]!.config;
    const sizes = busybox.platforms[arch]!.layerSizes;
    assert.equal(lines, [
      `${id}|${HISTORY[2]!.created_by}|${sizes[1]}B|buildkit.dockerfile.v0`,
      `<missing>|${HISTORY[1]!.created_by}|0B|`,
      `<missing>|${HISTORY[0]!.created_by}|${sizes[0]}B|`,
    ]);
    const r = await d('image', 'history', `nosuch-${tag}:1`);
    assert.is(r.code, 1);
    assert.is(r.stderr.trim(), `Error response from daemon: No such image: nosuch-${tag}:1`);
    if (!oracleUp) return;
    // Same JSON keys per line, and the same 404 (the values describe each engine's own busybox).
    assert.equal(
      jsonKeys(await ok(d('image', 'history', '--format', '{{json .}}', 'busybox'))).slice(0, 1),
      jsonKeys(await ok(o('image', 'history', '--format', '{{json .}}', 'busybox'))).slice(0, 1),
    );
    const theirs = await o('image', 'history', `nosuch-${tag}:1`);
    assert.equal([r.code, r.stderr.trim()], [theirs.code, oracleStderr(theirs.stderr).trim()]);
  },
);

t(
  '~> run --user nobody resolves from the image /etc/passwd (65534); an unknown user fails as with dockerd (125, runc message), --rm leaves nothing',
  async () => {
    assert.is(await ok(d('run', '--rm', '--user', 'nobody', 'busybox', 'id', '-u')), '65534');
    assert.is(await ok(d('run', '--rm', '--user', 'nobody:nogroup', 'busybox', 'id', '-g')), '65534');
    const bad = await d('run', '--rm', '--name', `ghost-${tag}`, '--user', 'nobody2', 'busybox', 'id', '-u');
    assert.is(bad.code, 125);
    assert.match(bad.stderr, 'unable to find user nobody2: no matching entries in passwd file');
    assert.is(await ok(d('ps', '-aq', '--filter', `name=ghost-${tag}`)), '');
    if (!oracleUp) return;
    assert.is(await ok(o('run', '--rm', '--user', 'nobody', 'busybox', 'id', '-u')), '65534');
    assert.is(await ok(o('run', '--rm', '--user', 'nobody:nogroup', 'busybox', 'id', '-g')), '65534');
    const theirs = await o('run', '--rm', '--user', 'nobody2', 'busybox', 'id', '-u');
    assert.equal([bad.code, bad.stderr], [theirs.code, oracleStderr(theirs.stderr)]);
  },
);

t(
  '~> stats --no-stream: CPU and memory of a running container from the metrics API (kube-sim serves metrics.k8s.io)',
  async () => {
    await ok(d('run', '-d', '--name', `spin-${tag}`, 'busybox', 'sh', '-c', 'while :; do :; done'));
    try {
      const out = await ok(
        d('stats', '--no-stream', '--format', '{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.MemPerc}}', `spin-${tag}`),
      );
      const [name, cpu, mem] = out.split('|');
      assert.is(name, `spin-${tag}`);
      assert.ok(parseFloat(cpu!) > 1, `a busy loop uses CPU: ${out}`);
      assert.match(mem!, /^[\d.]+(B|KiB|MiB|GiB) \/ [\d.]+(MiB|GiB|TiB)$/);
      assert.ok(parseFloat(mem!) > 0, out);
      // the table form lists the running container
      assert.match(await ok(d('stats', '--no-stream')), `spin-${tag}`);
      // streaming (what `docker stats` without --no-stream reads): one sample per interval, counters growing
      const [a, b] = await streamedLines(kuber.socketPath, `/containers/spin-${tag}/stats`, 2);
      assert.is(a!.name, `/spin-${tag}`);
      assert.ok(b!.cpu_stats.cpu_usage.total_usage > a!.cpu_stats.cpu_usage.total_usage);
      assert.ok(b!.memory_stats.usage > 0);
      if (!oracleUp) return;
      await ok(o('run', '-d', '--name', `spin-${tag}`, 'busybox', 'sleep', '60'));
      try {
        const theirs = await ok(o('stats', '--no-stream', '--format', '{{json .}}', `spin-${tag}`));
        assert.equal(
          jsonKeys(await ok(d('stats', '--no-stream', '--format', '{{json .}}', `spin-${tag}`))),
          jsonKeys(theirs),
        );
      } finally {
        await o('rm', '-f', `spin-${tag}`);
      }
    } finally {
      await d('rm', '-f', `spin-${tag}`);
    }
  },
);

t('~> system df: images, containers, local volumes and an empty build cache', async () => {
  await ok(d('create', '--name', `idle-${tag}`, 'busybox', 'true'));
  try {
    const rows = (await ok(d('system', 'df', '--format', '{{.Type}}|{{.TotalCount}}|{{.Active}}'))).split('\n');
    assert.is(rows.length, 4);
    assert.match(rows[0]!, /^Images\|1\|1$/);
    assert.match(rows[1]!, /^Containers\|1\|0$/);
    assert.match(rows[2]!, /^Local Volumes\|\d+\|\d+$/);
    assert.is(rows[3], 'Build Cache|0|0');
    const v = await ok(d('system', 'df', '-v'));
    assert.match(v, `idle-${tag}`);
    assert.match(v, 'Build cache usage: 0B');
    if (!oracleUp) return;
    const theirs = await ok(o('system', 'df', '--format', '{{json .}}'));
    assert.equal(jsonKeys(await ok(d('system', 'df', '--format', '{{json .}}'))), jsonKeys(theirs));
    assert.equal(
      (await ok(d('system', 'df'))).split('\n')[0]!.split(/\s{2,}/),
      (await ok(o('system', 'df'))).split('\n')[0]!.split(/\s{2,}/),
    );
  } finally {
    await d('rm', '-f', `idle-${tag}`);
  }
});

t(
  '~> system df -v: the size of a volume a running container mounts, as dockerd measures it (the kubelet Summary API)',
  async () => {
    // 30 MiB written: the CLI's 4 significant digits hide the directory's own block, which the kubelet
    // counts (allocated blocks, kubernetes pkg/volume/util/fs) and moby does not (file sizes).
    const steps = async (run: typeof d) => {
      const out = [
        await run('volume', 'create', `dfvol-${tag}`),
        await run(
          'run',
          '-d',
          '--name',
          `dfhold-${tag}`,
          '-v',
          `dfvol-${tag}:/d`,
          'busybox',
          'sh',
          '-c',
          'head -c 31457280 /dev/zero > /d/blob && touch /d/done && exec sleep 600',
        ),
      ];
      for (let i = 0; i < 300 && (await run('exec', `dfhold-${tag}`, 'test', '-e', '/d/done')).code !== 0; i++)
        await new Promise((r) => setTimeout(r, 100));
      const df = await run('system', 'df', '-v');
      const row = df.stdout.split('\n').find((l) => l.startsWith(`dfvol-${tag} `));
      out.push({ ...df, stdout: row?.split(/\s+/).join(' ') ?? `no row in: ${df.stdout}` });
      out.push(await run('rm', '-f', `dfhold-${tag}`), await run('volume', 'rm', `dfvol-${tag}`));
      return out.map((r) => ({ code: r.code, stdout: r.stdout.trim().replace(/^[0-9a-f]{64}$/, '<id>') }));
    };
    const ours = await steps(d);
    assert.is(ours[2]!.stdout, `dfvol-${tag} 1 31.46MB`);
    if (!oracleUp) return;
    assert.equal(ours, await steps(o), 'kuber-api and dockerd differ');
  },
);

t(
  '~> system prune -af --volumes --filter label=: the same deletions, listing and exit codes as dockerd (named volumes stay)',
  async () => {
    // Scoped by a label of this run, so that the shared oracle's other objects (and its busybox, which
    // has no such label) are left alone; a named volume is not pruned by `system prune`, an anonymous one is.
    const label = `kapi-prune=${tag}`;
    const steps = async (run: typeof d) => [
      await run('create', '--label', label, '--name', `pruned-${tag}`, 'busybox', 'true'),
      await run('network', 'create', '--label', label, `pnet-${tag}`),
      await run('volume', 'create', '--label', label, `pvol-${tag}`),
      await run('volume', 'create', '--label', label, '--label', 'com.docker.volume.anonymous='),
      await run('system', 'prune', '-af', '--volumes', '--filter', `label=${label}`),
      await run('volume', 'ls', '-q', '--filter', `label=${label}`),
      await run('ps', '-aq', '--filter', `label=${label}`),
      await run('system', 'prune', '-af', '--volumes', '--filter', `label=${label}`),
      await run('volume', 'rm', `pvol-${tag}`),
    ];
    const norm = (rs: Awaited<ReturnType<typeof docker>>[]) =>
      rs.map((r) => ({
        code: r.code,
        stdout: r.stdout.trim().replace(/[0-9a-f]{64}/g, '<id>'),
        stderr: oracleStderr(r.stderr).trim(),
      }));
    const ours = norm(await steps(d));
    assert.is(
      ours[4]!.stdout,
      `Deleted Containers:\n<id>\n\nDeleted Networks:\npnet-${tag}\n\nDeleted Volumes:\n<id>\n\nTotal reclaimed space: 0B`,
    );
    assert.is(ours[5]!.stdout, `pvol-${tag}`);
    assert.is(ours[6]!.stdout, '');
    assert.is(ours[7]!.stdout, 'Total reclaimed space: 0B');
    if (!oracleUp) return;
    assert.equal(ours, norm(await steps(o)), 'kuber-api and dockerd differ');
  },
);

t(
  '~> system prune -af [--volumes]: stopped containers, unused networks and images go; the build cache answers as an empty one',
  async () => {
    await ok(d('create', '--name', `stopped-${tag}`, 'busybox', 'true'));
    await ok(d('network', 'create', `net-${tag}`));
    await ok(d('volume', 'create', `unused-${tag}`));
    const anon = await ok(d('volume', 'create', '--label', 'com.docker.volume.anonymous='));
    const out = await ok(d('system', 'prune', '-af', '--volumes'));
    assert.match(out, 'Deleted Containers:');
    assert.match(out, 'Deleted Networks:');
    assert.match(out, `net-${tag}`);
    // system prune --volumes takes the anonymous volumes only, as with dockerd: docker/cli
    // cli/command/system/prune.go prunes volumes without --all (named ones stay).
    assert.match(out, `Deleted Volumes:\n${anon}\n`);
    assert.is(await ok(d('volume', 'ls', '-q')), `unused-${tag}`);
    await ok(d('volume', 'rm', `unused-${tag}`));
    assert.match(out, /Total reclaimed space: \S+/);
    assert.is(await ok(d('ps', '-aq')), '');
    assert.is(await ok(d('images', '-q')), '');
    assert.not.match(await ok(d('network', 'ls')), `net-${tag}`);
    // again: nothing left to prune
    assert.is(await ok(d('system', 'prune', '-af')), 'Total reclaimed space: 0B');
    const b = await d('builder', 'prune', '-af');
    assert.is(b.code, 0, b.stderr);
    assert.is(b.stdout.trim(), 'Total reclaimed space: 0B');
    if (!oracleUp) return;
    const theirs = await o('builder', 'prune', '-af');
    assert.equal([b.code, b.stdout], [theirs.code, theirs.stdout]);
  },
);

/** POST a JSON object to the simulator's API (its kubeconfig's CA and token). */
function simPost(path: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, sim.url);
    const data = JSON.stringify(body);
    const req = (u.protocol === 'https:' ? https : http).request(
      u,
      {
        method: 'POST',
        ...(sim.caPem ? { ca: sim.caPem } : {}),
        headers: { 'content-type': 'application/json', ...(sim.token ? { authorization: `Bearer ${sim.token}` } : {}) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

t(
  '~> a namespace enforcing the restricted Pod Security level: --user nobody runs with the numbers in the Pod; root is refused with the reason',
  async () => {
    const ns = `psa-${tag}`;
    assert.is(
      await simPost('/api/v1/namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: ns, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
      }),
      201,
    );
    // kuber-api reads the namespace's enforce label (engine/security) and shapes every Pod to it; the
    // user name must become numbers first, or the restricted level's runAsNonRoot cannot be checked.
    const k = await startKuber({ kubeconfig: sim.kubeconfigPath, namespace: ns, args: ['--registry-mirror', reg.url] });
    try {
      const s = (...args: string[]) => docker(k.dockerHost, args, { timeoutMs: 120_000 });
      assert.is(await ok(s('run', '--rm', '--user', 'nobody', 'busybox', 'id', '-u')), '65534');
      const root = await s('run', '--rm', 'busybox', 'id', '-u');
      assert.not.equal(root.code, 0);
      assert.match(root.stderr, /restricted|runAsNonRoot|non-root/, root.stderr);
    } finally {
      await k.stop();
    }
  },
);

test.run();
