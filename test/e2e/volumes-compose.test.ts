/**
 * docker-compose 1.29 (Debian's, v1) and `docker compose` 2.x (v2, the CLI plugin .ci/run installs
 * from Debian trixie), each with volumes and bind mounts against kuber-api on a three-node
 * kube-sim (issue 10 acceptance): a bind-mounted read-only config file, a bind-mounted directory
 * into which a service writes a report (on the client's filesystem once the service has ended, and
 * after `down`), a named volume shared by three services that survives `restart`, and a service
 * whose image declares a VOLUME with content (copy-up into the anonymous volume). `down -v` leaves
 * no claim, container ConfigMap or Pod of the instance behind. Each client prints a SKIP line when it
 * is not installed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSim, kubectl, type SpawnedSim } from '../helpers/sim.js';
import { startKuber, type Kuber } from '../helpers/kuber.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { docker } from '../helpers/docker-cli.js';
import { ok, until } from './containers-cases.js';
import { compose as runCompose, composeTools, type ComposeTool } from '../helpers/compose.js';

const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const tools = composeTools('compose volume tests');
let sim: SpawnedSim;
let kuber: Kuber;
let reg: TestRegistry;

test.before(async () => {
  if (!tools.length) return;
  [sim, reg] = await Promise.all([spawnSim({ args: ['--nodes', '3'] }), startRegistry()]);
  // An image whose config declares VOLUME /etc: its busybox root's /etc (passwd...) is the content copied up.
  reg.push('vol/busybox', '1', { config: { Env: [PATH_ENV], Cmd: ['sh'], Volumes: { '/etc': {} } } });
  kuber = await startKuber({ kubeconfig: sim.kubeconfigPath });
});
test.after(async () => {
  await kuber?.stop();
  await sim?.stop();
  await reg?.close();
});

const k = async (...args: string[]) => {
  const r = await kubectl('1.33', args, { kubeconfig: sim.kubeconfigPath });
  return { ...r, code: r.code ?? 1 };
};

for (const tool of tools)
  test(`~> ${tool.label}: ro config file, report written into a bind dir, a shared named volume surviving restart, image VOLUME content; down -v cleans up`, () =>
    scenario(tool));

async function scenario(tool: ComposeTool): Promise<void> {
  const compose = (dir: string, args: string[]) => runCompose(tool, kuber.dockerHost, dir, args);
  const dir = mkdtempSync(join(tmpdir(), 'kapi-compose-vol-'));
  writeFileSync(join(dir, 'app.conf'), 'setting=from-the-client\n');
  mkdirSync(join(dir, 'reports'));
  writeFileSync(
    join(dir, 'docker-compose.yml'),
    `version: "2.4"
services:
  config:
    image: busybox
    # written under another name, then renamed: the reporter starts reading once /shared/copied
    # exists, so it must never exist half-written (the report lacked its second line under load)
    command: ["sh", "-c", "cat /etc/app/app.conf > /shared/.copied && echo written-by-config >> /shared/.copied && mv /shared/.copied /shared/copied && exec sleep 600"]
    volumes:
      - ./app.conf:/etc/app/app.conf:ro
      - shared:/shared
  reporter:
    image: busybox
    command: ["sh", "-c", "until [ -e /shared/copied ]; do sleep 0.2; done; cat /shared/copied > /reports/report.txt; echo report-done >> /reports/report.txt"]
    volumes:
      - ./reports:/reports
      - shared:/shared
  imgvol:
    image: ${reg.host}/vol/busybox:1
    command: ["sh", "-c", "grep -c ^root: /etc/passwd > /shared/imgvol; exec sleep 600"]
    volumes:
      - shared:/shared
volumes:
  shared: {}
`,
  );
  const up = await compose(dir, ['up', '-d']);
  assert.is(up.code, 0, up.stderr);
  const project = dir
    .split('/')
    .pop()!
    .toLowerCase()
    .replace(/[^-_a-z0-9]/g, '');
  // The reporter ends by itself: its report is copied back to the client's directory.
  await until(
    async () => (existsSync(join(dir, 'reports', 'report.txt')) ? true : undefined),
    60_000,
    'the report on the client',
  );
  assert.is(
    readFileSync(join(dir, 'reports', 'report.txt'), 'utf8'),
    'setting=from-the-client\nwritten-by-config\nreport-done\n',
  );
  // Every file arrives; the config file is read-only.
  assert.is(ok(await compose(dir, ['exec', '-T', 'config', 'cat', '/etc/app/app.conf'])), 'setting=from-the-client');
  const write = await compose(dir, ['exec', '-T', 'config', 'sh', '-c', 'echo x > /etc/app/app.conf']);
  assert.is.not(write.code, 0);
  // The shared volume's data is seen by another service; the image's VOLUME got the image's /etc.
  assert.is(
    ok(await compose(dir, ['exec', '-T', 'imgvol', 'cat', '/shared/copied'])),
    'setting=from-the-client\nwritten-by-config',
  );
  await until(
    async () =>
      (await compose(dir, ['exec', '-T', 'imgvol', 'cat', '/shared/imgvol'])).stdout.trim() === '1' ? true : undefined,
    30_000,
    'imgvol saw its /etc',
  );
  const imgMounts = JSON.parse(
    ok(await docker(kuber.dockerHost, ['inspect', '--format', '{{json .Mounts}}', tool.container(project, 'imgvol')])),
  );
  assert.ok(
    imgMounts.some(
      (m: { Type: string; Destination: string; Name: string }) =>
        m.Type === 'volume' && m.Destination === '/etc' && /^[0-9a-f]{64}$/.test(m.Name),
    ),
    JSON.stringify(imgMounts),
  );
  // restart: the data survives.
  const restart = await compose(dir, ['restart', '-t', '1']);
  assert.is(restart.code, 0, restart.stderr);
  await until(
    async () =>
      (await compose(dir, ['exec', '-T', 'imgvol', 'cat', '/shared/copied'])).stdout.trim() ===
      'setting=from-the-client\nwritten-by-config'
        ? true
        : undefined,
    60_000,
    'shared data after restart',
  );
  const names = ok(await docker(kuber.dockerHost, ['volume', 'ls', '-q']));
  assert.ok(names.split('\n').includes(`${project}_shared`), names);
  // down -v: no claim, container ConfigMap or Pod of this instance is left; the report is still on the client.
  const vols = JSON.parse(
    ok(
      await docker(kuber.dockerHost, [
        'volume',
        'inspect',
        ...ok(await docker(kuber.dockerHost, ['volume', 'ls', '-q'])).split('\n'),
      ]),
    ),
  ).map((v: { Name: string; Labels: unknown }) => [v.Name, v.Labels]);
  const down = await compose(dir, ['down', '-v', '-t', '1']);
  assert.is(down.code, 0, down.stderr);
  assert.is(
    readFileSync(join(dir, 'reports', 'report.txt'), 'utf8'),
    'setting=from-the-client\nwritten-by-config\nreport-done\n',
  );
  const sel = `kuber-api.io/instance=${kuber.instanceId}`;
  let left = '';
  await until(
    async () => {
      const pvc = ok(await k('get', 'pvc', '-l', sel, '-o', 'name'));
      const pods = ok(await k('get', 'pods', '-l', sel, '-o', 'name'));
      const cms = ok(await k('get', 'configmaps', '-l', `${sel},kuber-api.io/kind!=image`, '-o', 'name'));
      left = [pvc, pods, cms].filter(Boolean).join(' ');
      return left === '' ? true : undefined;
    },
    120_000,
    'nothing left after down -v',
  ).catch(async (err: Error) => {
    // What is left, for the diagnosis: each claim's volume name, deletion state and finalizers, and compose's output.
    const claims = JSON.parse(ok(await k('get', 'pvc', '-l', sel, '-o', 'json'))).items.map(
      (c: { metadata: Record<string, any>; status?: { phase?: string } }) => ({
        name: c.metadata.name,
        annotations: c.metadata.annotations,
        deletionTimestamp: c.metadata.deletionTimestamp,
        finalizers: c.metadata.finalizers,
        phase: c.status?.phase,
      }),
    );
    throw new Error(
      `${err.message}: ${left}; volumes: ${JSON.stringify(vols)}; claims: ${JSON.stringify(claims)}; down: ${down.stderr}`,
    );
  });
  assert.is(ok(await docker(kuber.dockerHost, ['volume', 'ls', '-q'])), '');
}

test.run();
