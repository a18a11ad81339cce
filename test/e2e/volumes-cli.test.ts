/**
 * Volumes and bind mounts with the real docker CLI against kuber-api on a three-node kube-sim
 * (issue 10 items 1-5): the volume API's statuses and messages, a volume shared by containers
 * (co-scheduled on one node), 409 for a volume in use, anonymous volumes and `rm -v`/`--rm`,
 * copy-up (and nocopy), `--mount` (volume, bind, tmpfs, readonly), read-only and writable binds
 * (copied back to the source), dockerd's bind errors, the size limit (413), prune, events, and
 * volumes surviving a kuber-api restart. The CLI cases that a dockerd can run are also run against
 * the dockerd oracle (ORACLE_SOCKET, default /run/docker-oracle.sock, skipped when absent): exit
 * codes and outputs must match, with the container IDs and the oracle's IPv4-forwarding warning
 * taken out.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectl } from '../helpers/sim.js';
import { startKuber } from '../helpers/kuber.js';
import { docker, type CliResult } from '../helpers/docker-cli.js';
import { cliSuite } from '../helpers/streams-env.js';
import { httpRequest } from '../helpers/raw-client.js';
import { ok, until } from './containers-cases.js';

const ORACLE = process.env.ORACLE_SOCKET ?? '/run/docker-oracle.sock';
// Split log streams, so that a container's stderr reaches the CLI's stderr as with dockerd.
const { available, t, d, env, sim } = cliSuite('docker CLI volume tests', {
  sim: { args: ['--nodes', '3'], featureGates: { PodLogsQuerySplitStreams: true } },
  timeoutMs: 90_000,
});
const oracleUp = existsSync(ORACLE);
if (available && !oracleUp)
  console.log(`SKIP the dockerd comparisons of the volume tests: no dockerd oracle at ${ORACLE}`);
const work = mkdtempSync(join(tmpdir(), 'kapi-vol-cli-'));
const tag = `v${process.pid}`;
const o = (...args: string[]) => docker(`unix://${ORACLE}`, args, { timeoutMs: 90_000 });
const k = async (...args: string[]) => {
  const r = await kubectl('1.33', args, { kubeconfig: sim().kubeconfigPath });
  return { ...r, code: r.code ?? 1 };
};
const api = async (method: string, path: string, body?: unknown) => {
  const r = await httpRequest(
    { path: env().api.socketPath },
    method,
    `/v1.51${path}`,
    body === undefined ? {} : { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) },
  );
  return { status: r.status, json: r.body.length ? JSON.parse(r.body.toString()) : undefined };
};
/** What must match dockerd: the exit code, stdout, and stderr without IDs and the oracle's network warning. */
const norm = (r: CliResult) => ({
  code: r.code,
  stdout: r.stdout.trim().replace(/^[0-9a-f]{64}$/gm, '<id>'),
  stderr: r.stderr
    .split('\n')
    .filter((l) => !l.startsWith('WARNING: IPv4 forwarding'))
    .join('\n')
    .replace(/[0-9a-f]{64}/g, '<id>')
    .trim(),
});
/** Run the same CLI steps on kuber-api and (when it runs) on the dockerd oracle; the results must be equal. */
async function differential(
  steps: (run: (...args: string[]) => Promise<CliResult>) => Promise<CliResult[]>,
): Promise<ReturnType<typeof norm>[]> {
  const ours = (await steps(d)).map(norm);
  if (oracleUp) {
    const theirs = (await steps(o)).map(norm);
    assert.equal(ours, theirs, 'kuber-api and dockerd differ');
  }
  return ours;
}

t('~> volume create/ls/inspect/rm: dockerd statuses, messages, labels and filters', async () => {
  const since = Math.floor(Date.now() / 1000);
  const name = `${tag}-api`;
  assert.is(ok(await d('volume', 'create', '--label', 'team=a', name)), name);
  assert.is(ok(await d('volume', 'create', name)), name, 'an existing name answers the existing volume');
  const j = JSON.parse(ok(await d('volume', 'inspect', name)))[0];
  assert.equal([j.Name, j.Driver, j.Scope, j.Labels], [name, 'local', 'local', { team: 'a' }]);
  assert.match(j.Status.PersistentVolumeClaim, /^kapi-vol-[0-9a-f]{20}$/);
  assert.ok(
    ok(await k('get', 'pvc', j.Status.PersistentVolumeClaim, '-o', 'name')).includes(j.Status.PersistentVolumeClaim),
  );
  assert.is(ok(await d('volume', 'ls', '-q', '--filter', 'label=team=a')), name);
  assert.is(ok(await d('volume', 'ls', '-q', '--filter', `name=${tag}-ap`)), name);
  assert.is(ok(await d('volume', 'ls', '-q', '--filter', 'driver=local', '--filter', `name=${name}`)), name);
  assert.is(ok(await d('volume', 'ls', '-q', '--filter', 'dangling=true', '--filter', `name=${name}`)), name);
  assert.is(ok(await d('volume', 'ls', '-q', '--filter', 'dangling=false', '--filter', `name=${name}`)), '');
  const missing = await api('GET', `/volumes/${tag}-nope`);
  assert.equal([missing.status, missing.json.message], [404, `get ${tag}-nope: no such volume`]);
  const bad = await api('GET', `/volumes?filters=${encodeURIComponent(JSON.stringify({ colour: ['red'] }))}`);
  assert.equal([bad.status, bad.json.message], [400, "invalid filter 'colour'"]);
  const driver = await api('POST', '/volumes/create', { Name: `${tag}-x`, Driver: 'nfs' });
  assert.is(driver.status, 501);
  const created = await api('POST', '/volumes/create', {});
  assert.is(created.status, 201);
  assert.match(created.json.Name, /^[0-9a-f]{64}$/);
  assert.is((await api('DELETE', `/volumes/${created.json.Name}`)).status, 204);
  assert.is(ok(await d('volume', 'rm', name)), name);
  assert.is((await api('DELETE', `/volumes/${name}?force=1`)).status, 204, 'rm -f of a missing volume succeeds');
  await until(
    async () => ((await k('get', 'pvc', j.Status.PersistentVolumeClaim)).code !== 0 ? true : undefined),
    20_000,
    'claim deleted',
  );
  const ev = ok(
    await d(
      'events',
      '--since',
      String(since),
      '--until',
      String(Math.floor(Date.now() / 1000) + 1),
      '--filter',
      'type=volume',
      '--filter',
      `volume=${name}`,
      '--format',
      '{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.driver}}',
    ),
  );
  assert.equal(ev.split('\n'), [`create ${name} local`, `destroy ${name} local`]);
});

t(
  '~> the volume CLI errors match dockerd: inspect and rm of a missing volume, rm of a volume in use (409)',
  async () => {
    const name = `${tag}-diff`;
    const out = await differential(async (run) => [
      await run('volume', 'inspect', `${tag}-missing`),
      await run('volume', 'rm', `${tag}-missing`),
      await run('volume', 'rm', '-f', `${tag}-missing`),
      await run('volume', 'create', name),
      await run('create', '--name', `${tag}-holder`, '-v', `${name}:/data`, 'busybox', 'true'),
      await run('volume', 'rm', name),
      await run('rm', `${tag}-holder`),
      await run('volume', 'rm', name),
    ]);
    assert.match(out[0]!.stderr, `get ${tag}-missing: no such volume`);
    assert.is(out[2]!.code, 0);
    assert.is(out[5]!.code, 1);
    assert.match(out[5]!.stderr, `remove ${name}: volume is in use - [<id>]`);
    assert.is(out[7]!.stdout, name);
    const http409 = await (async () => {
      ok(await d('volume', 'create', name));
      const id = ok(await d('create', '-v', `${name}:/data`, 'busybox', 'true'));
      const r = await api('DELETE', `/volumes/${name}`);
      ok(await d('rm', id));
      ok(await d('volume', 'rm', name));
      return { r, id };
    })();
    assert.equal(
      [http409.r.status, http409.r.json.message],
      [409, `remove ${name}: volume is in use - [${http409.id}]`],
    );
  },
);

t('~> a file written by one container is read by a second, while the first runs, on one of three nodes', async () => {
  const name = `${tag}-share`;
  const out = await differential(async (run) => [
    await run('volume', 'create', name),
    await run('run', '--rm', '-v', `${name}:/data`, 'busybox', 'sh', '-c', 'echo shared-data > /data/f'),
    await run('run', '--rm', '-v', `${name}:/data:ro`, 'busybox', 'cat', '/data/f'),
    await run('run', '--rm', '-v', `${name}:/data:ro`, 'busybox', 'sh', '-c', 'echo x > /data/g'),
    await run('volume', 'rm', name),
  ]);
  assert.is(out[2]!.stdout, 'shared-data');
  assert.is(out[3]!.code, 1);
  assert.match(out[3]!.stderr, 'Read-only file system');
  // Several running users of one ReadWriteOnce claim: co-scheduled by pod affinity on its first user's node.
  const many = `${tag}-many`;
  ok(await d('volume', 'create', many));
  const ids: string[] = [];
  for (let i = 0; i < 3; i++)
    ids.push(ok(await d('run', '-d', '-v', `${many}:/s`, 'busybox', 'sh', '-c', `echo ${i} >> /s/log; sleep 600`)));
  const nodes = await until(
    async () => {
      const r = ok(
        await k(
          'get',
          'pods',
          '-l',
          'kuber-api.io/kind=container',
          '-o',
          'jsonpath={range .items[*]}{.metadata.labels.kuber-api\\.io/container} {.spec.nodeName} {.status.phase}{"\\n"}{end}',
        ),
      );
      const mine = r.split('\n').filter((l) => ids.some((id) => l.startsWith(id.slice(0, 12))));
      return mine.length === 3 && mine.every((l) => l.endsWith('Running'))
        ? mine.map((l) => l.split(' ')[1])
        : undefined;
    },
    60_000,
    'three running users',
  );
  assert.is(new Set(nodes).size, 1, `users on ${nodes.join(', ')}`);
  assert.equal(ok(await d('exec', ids[2]!, 'sort', '/s/log')).split('\n'), ['0', '1', '2']);
  ok(await d('rm', '-f', ...ids));
  ok(await d('volume', 'rm', many));
});

t(
  '~> ReadWriteOnce users of an Immediate class are co-scheduled (pod affinity) where a spread would hit Multi-Attach',
  async () => {
    const sc = `${tag}-imm`.toLowerCase();
    const apply = await kubectl('1.33', ['apply', '-f', '-'], {
      kubeconfig: sim().kubeconfigPath,
      stdin: `apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: ${sc}}\nprovisioner: kube-sim.io/local-path\nvolumeBindingMode: Immediate\n`,
    });
    ok({ ...apply, code: apply.code ?? 1 });
    const name = `${tag}-immv`;
    ok(await d('volume', 'create', '-o', `storageclass=${sc}`, name));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(ok(await d('run', '-d', '-v', `${name}:/s`, 'busybox', 'sh', '-c', `echo ${i} >> /s/log; sleep 600`)));
    const pods = ok(await k('get', 'pods', '-l', 'kuber-api.io/kind=container', '-o', 'json'));
    const mine = JSON.parse(pods).items.filter((p: { metadata: { labels: Record<string, string> } }) =>
      ids.some((id) => id.startsWith(p.metadata.labels['kuber-api.io/container']!)),
    );
    assert.is(mine.length, 3);
    for (const p of mine)
      assert.ok(
        p.spec.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length,
        'pod affinity to the volume users',
      );
    assert.is(new Set(mine.map((p: { spec: { nodeName: string } }) => p.spec.nodeName)).size, 1);
    assert.equal(ok(await d('exec', ids[0]!, 'sort', '/s/log')).split('\n'), ['0', '1', '2']);
    ok(await d('rm', '-f', ...ids));
    ok(await d('volume', 'rm', name));
  },
);

t(
  "~> bind mounts: read-only (cannot write), files and directories, dockerd's missing-source message, a created -v source",
  async () => {
    const dir = join(work, 'ro');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'conf.txt'), 'from-the-client\n');
    const missing = join(work, 'does-not-exist');
    const out = await differential(async (run) => [
      await run('run', '--rm', '-v', `${dir}:/d:ro`, 'busybox', 'cat', '/d/conf.txt'),
      await run('run', '--rm', '-v', `${dir}:/d:ro`, 'busybox', 'sh', '-c', 'echo x > /d/new'),
      await run(
        'run',
        '--rm',
        '--mount',
        `type=bind,src=${dir}/conf.txt,dst=/etc/conf.txt,readonly`,
        'busybox',
        'cat',
        '/etc/conf.txt',
      ),
      await run('run', '--rm', '--mount', `type=bind,src=${missing},dst=/d`, 'busybox', 'true'),
    ]);
    assert.is(out[0]!.stdout, 'from-the-client');
    assert.is(out[1]!.code, 1);
    assert.match(out[1]!.stderr, 'Read-only file system');
    assert.is(out[2]!.stdout, 'from-the-client');
    assert.is(out[3]!.code, 125);
    assert.match(out[3]!.stderr, `invalid mount config for type "bind": bind source path does not exist: ${missing}`);
    assert.ok(!existsSync(join(dir, 'new')));
    // `-v` with a missing source creates it as a directory, as dockerd does.
    const made = join(work, 'made-by-v');
    ok(await d('run', '--rm', '-v', `${made}:/m`, 'busybox', 'true'));
    assert.ok(existsSync(made));
    const sock = await d('run', '--rm', '-v', '/var/run/docker.sock:/var/run/docker.sock', 'busybox', 'true');
    assert.is(sock.code, 125);
    assert.match(
      sock.stderr,
      /bind-mounting the Docker socket \(\/var\/run\/docker\.sock\) is not supported by kuber-api: the container runs in a Kubernetes Pod/,
    );
  },
);

t(
  '~> a writable bind is copied back to the source when the container ends (run, stop past its timeout, rm -f)',
  async () => {
    const dir = join(work, 'rw');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'in.txt'), 'input\n');
    ok(
      await d(
        'run',
        '--rm',
        '-v',
        `${dir}:/out`,
        'busybox',
        'sh',
        '-c',
        'mkdir -p /out/sub && cat /out/in.txt > /out/sub/report.txt && echo done >> /out/sub/report.txt',
      ),
    );
    assert.is(readFileSync(join(dir, 'sub', 'report.txt'), 'utf8'), 'input\ndone\n');
    const id = ok(
      await d('run', '-d', '-v', `${dir}:/out`, 'busybox', 'sh', '-c', 'echo late > /out/late.txt; sleep 600'),
    );
    await until(
      async () => (ok(await d('exec', id, 'cat', '/out/late.txt')) === 'late' ? true : undefined),
      30_000,
      'the container wrote',
    );
    ok(await d('stop', '-t', '1', id));
    assert.is(readFileSync(join(dir, 'late.txt'), 'utf8'), 'late\n');
    ok(await d('rm', id));
    // rm -f of a running container: what it wrote so far comes back too.
    const forced = ok(
      await d('run', '-d', '-v', `${dir}:/out`, 'busybox', 'sh', '-c', 'echo forced > /out/forced.txt; sleep 600'),
    );
    await until(
      async () => (ok(await d('exec', forced, 'cat', '/out/forced.txt')) === 'forced' ? true : undefined),
      30_000,
      'the container wrote',
    );
    ok(await d('rm', '-f', forced));
    assert.is(readFileSync(join(dir, 'forced.txt'), 'utf8'), 'forced\n');
  },
);

t(
  '~> anonymous volumes: -v /data and --mount without a source, removed by rm -v and --rm; copy-up of image content, nocopy',
  async () => {
    const id = ok(await d('create', '-v', '/data', 'busybox', 'true'));
    const mounts = JSON.parse(ok(await d('inspect', '--format', '{{json .Mounts}}', id)));
    assert.is(mounts.length, 1);
    assert.equal([mounts[0].Type, mounts[0].Destination, mounts[0].RW], ['volume', '/data', true]);
    assert.match(mounts[0].Name, /^[0-9a-f]{64}$/);
    const v = JSON.parse(ok(await d('volume', 'inspect', mounts[0].Name)))[0];
    assert.equal(v.Labels, { 'com.docker.volume.anonymous': '' });
    // --volumes-from shares it (":ro" makes it read-only); --rm of those containers leaves it to its owner.
    ok(await d('run', '--rm', '--volumes-from', id, 'busybox', 'sh', '-c', 'echo vf > /data/vf'));
    assert.is(
      ok(
        await d(
          'run',
          '--rm',
          '--volumes-from',
          `${id}:ro`,
          'busybox',
          'sh',
          '-c',
          'cat /data/vf; touch /data/x 2>/dev/null || echo ro',
        ),
      ),
      'vf\nro',
    );
    assert.match(ok(await d('volume', 'ls', '-q')), mounts[0].Name);
    ok(await d('rm', '-v', id));
    assert.match((await d('volume', 'inspect', mounts[0].Name)).stderr, 'no such volume');
    // --rm removes the anonymous volume too; a named one stays.
    const before = ok(await d('volume', 'ls', '-q'))
      .split('\n')
      .filter(Boolean).length;
    ok(await d('run', '--rm', '--mount', 'type=volume,dst=/anon', '-v', `${tag}-named:/named`, 'busybox', 'true'));
    const after = ok(await d('volume', 'ls', '-q'))
      .split('\n')
      .filter(Boolean);
    assert.is(after.length, before + 1);
    assert.ok(after.includes(`${tag}-named`));
    ok(await d('volume', 'rm', `${tag}-named`));
    // Copy-up: a new empty volume over image content gets it (busybox's /etc has passwd); nocopy leaves it empty.
    const out = await differential(async (run) => [
      await run('run', '--rm', '-v', `${tag}-cu:/etc`, 'busybox', 'sh', '-c', 'grep -c ^root: /etc/passwd'),
      await run('run', '--rm', '-v', `${tag}-cu:/etc`, 'busybox', 'sh', '-c', 'grep -c ^root: /etc/passwd'),
      await run(
        'run',
        '--rm',
        '-v',
        `${tag}-nocopy:/etc:nocopy`,
        'busybox',
        'sh',
        '-c',
        'test -e /etc/passwd || echo none',
      ),
      await run('volume', 'rm', `${tag}-cu`, `${tag}-nocopy`),
    ]);
    assert.equal(
      out.slice(0, 3).map((r) => r.stdout),
      ['1', '1', 'none'],
    );
  },
);

t(
  '~> --mount: volume with readonly and volume-opt size, tmpfs; bind-propagation is ignored with a warning',
  async () => {
    const name = `${tag}-mnt`;
    const r = await d(
      'run',
      '--rm',
      '--mount',
      `type=volume,src=${name},dst=/v,volume-opt=size=2Gi`,
      '--mount',
      'type=tmpfs,dst=/t,tmpfs-size=1048576',
      'busybox',
      'sh',
      '-c',
      'echo a > /v/a && echo b > /t/b && cat /v/a /t/b',
    );
    assert.is(ok(r), 'a\nb');
    const v = JSON.parse(ok(await d('volume', 'inspect', name)))[0];
    assert.equal([v.Options, v.Status.Requested], [{ size: '2Gi' }, '2Gi']);
    const ro = await d(
      'run',
      '--rm',
      '--mount',
      `type=volume,src=${name},dst=/v,readonly`,
      'busybox',
      'sh',
      '-c',
      'cat /v/a; echo x > /v/b',
    );
    assert.is(ro.code, 1);
    assert.is(ro.stdout.trim(), 'a');
    const body = {
      Image: 'busybox',
      Cmd: ['true'],
      HostConfig: { Mounts: [{ Type: 'bind', Source: work, Target: '/w', BindOptions: { Propagation: 'rshared' } }] },
    };
    const created = await api('POST', '/containers/create', body);
    assert.is(created.status, 201);
    assert.ok(
      created.json.Warnings.some((w: string) => w.includes('bind propagation "rshared" of /w is ignored')),
      JSON.stringify(created.json),
    );
    ok(await d('rm', created.json.Id));
    ok(await d('volume', 'rm', name));
  },
);

t(
  "~> a volume at a path the host lacks below a host directory on a host-root image (as postgres's /var/lib/postgresql/data): anonymous and named",
  async () => {
    // A path no host has (postgres's own would exist where the machine runs postgres).
    const path = `/var/lib/kapi-${tag}/data`;
    assert.is(
      ok(await d('run', '--rm', '-v', path, 'debian:12', 'sh', '-c', `echo anon > ${path}/f && cat ${path}/f`)),
      'anon',
    );
    const name = `${tag}-pgdata`;
    ok(await d('volume', 'create', name));
    ok(await d('run', '--rm', '-v', `${name}:${path}`, 'debian:12', 'sh', '-c', `echo kept > ${path}/g`));
    assert.is(ok(await d('run', '--rm', '-v', `${name}:${path}:ro`, 'debian:12', 'cat', `${path}/g`)), 'kept');
    ok(await d('volume', 'rm', name));
  },
);

t('~> prune: unused anonymous volumes, or every unused one with all=true', async () => {
  const anon = ok(await d('create', '-v', '/p', 'busybox', 'true'));
  const anonName = JSON.parse(ok(await d('inspect', '--format', '{{json .Mounts}}', anon)))[0].Name;
  ok(await d('rm', anon));
  ok(await d('volume', 'create', `${tag}-keep`));
  const pruned = await api('POST', '/volumes/prune');
  assert.is(pruned.status, 200);
  assert.ok(pruned.json.VolumesDeleted.includes(anonName));
  assert.ok(!pruned.json.VolumesDeleted.includes(`${tag}-keep`));
  const all = await api('POST', `/volumes/prune?filters=${encodeURIComponent(JSON.stringify({ all: ['true'] }))}`);
  assert.ok(all.json.VolumesDeleted.includes(`${tag}-keep`));
  assert.is(ok(await d('volume', 'ls', '-q', '--filter', `name=${tag}-keep`)), '');
});

t('~> data survives container removal and a kuber-api restart, until the volume is removed', async () => {
  const name = `${tag}-durable`;
  ok(await d('run', '--rm', '-v', `${name}:/d`, 'busybox', 'sh', '-c', 'echo kept > /d/f'));
  const holder = ok(await d('create', '--name', `${tag}-durable-c`, '-v', `${name}:/d`, 'busybox', 'cat', '/d/f'));
  await env().api.restart();
  assert.is(ok(await d('volume', 'ls', '-q', '--filter', `name=${name}`)), name);
  assert.is(ok(await d('start', '-a', holder)), 'kept');
  assert.match((await d('volume', 'rm', name)).stderr, `remove ${name}: volume is in use - [${holder}]`);
  ok(await d('rm', holder));
  ok(await d('volume', 'rm', name));
});

t('~> a bind source over --bind-max-bytes is a 413 naming the option', async () => {
  const small = await startKuber({ kubeconfig: sim().kubeconfigPath, args: ['--bind-max-bytes', '4096'] });
  try {
    const dir = join(work, 'big');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'blob'), Buffer.alloc(64 * 1024, 1));
    const r = await docker(small.dockerHost, ['run', '--rm', '-v', `${dir}:/b:ro`, 'busybox', 'true'], {
      timeoutMs: 60_000,
    });
    assert.is(r.code, 125);
    assert.match(
      r.stderr,
      /bind source .* more than kuber-api copies into a container at start \(4096 bytes in all, --bind-max-bytes\)/,
    );
    const id = (await docker(small.dockerHost, ['create', '-v', `${dir}:/b:ro`, 'busybox', 'true'])).stdout.trim();
    const res = await httpRequest({ path: small.socketPath }, 'POST', `/v1.51/containers/${id}/start`, {});
    assert.is(res.status, 413);
    await docker(small.dockerHost, ['rm', id]);
  } finally {
    await small.stop();
  }
});

test.run();
