/**
 * @module test/e2e/containers-cases
 * The container lifecycle, driven by the real docker CLI, as cases that run against any cluster:
 * kube-sim (containers-cli.test.ts) and a real cluster when KUBECONFIG is set
 * (containers-cluster.test.ts). Every case names its containers uniquely so cases are independent;
 * assertions read `--format` templates and JSON, never column widths.
 */
import * as assert from 'uvu/assert';
import { docker, type CliResult } from '../helpers/docker-cli.js';

export interface CaseEnv {
  dockerHost(): string;
  /** A unique prefix for container names in this run. */
  prefix: string;
}

export type Register = (name: string, fn: () => Promise<void>) => void;

export const ok = (r: CliResult, what = '') => {
  assert.is(r.code, 0, `${what} exited ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
};

export async function until<T>(fn: () => Promise<T | undefined>, ms = 20_000, what = 'condition'): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`${what} not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function registerContainerCases(reg: Register, env: CaseEnv): void {
  const d = (...args: string[]) => docker(env.dockerHost(), args, { timeoutMs: 60_000 });
  const n = (s: string) => `${env.prefix}-${s}`;
  const inspect = async (name: string) => JSON.parse(ok(await d('inspect', '--type', 'container', name), 'inspect'))[0];

  reg('~> docker run -d, ps and inspect show a running container with Docker identities', async () => {
    const id = ok(
      await d('run', '-d', '--name', n('web'), '--label', 'app=web', '-e', 'A=1', 'busybox', 'sleep', '300'),
      'run -d',
    );
    assert.match(id, /^[0-9a-f]{64}$/);
    const ps = ok(
      await d(
        'ps',
        '--no-trunc',
        '--filter',
        `name=${n('web')}`,
        '--format',
        '{{.ID}}|{{.Names}}|{{.Image}}|{{.Command}}|{{.State}}|{{.Status}}',
      ),
    );
    const [pid, pname, image, command, state, status] = ps.split('|');
    assert.equal([pid, pname, image, command, state], [id, n('web'), 'busybox', '"sleep 300"', 'running']);
    assert.match(status!, /^Up /);
    const j = await inspect(n('web'));
    assert.is(j.Id, id);
    assert.is(j.Name, `/${n('web')}`);
    assert.equal([j.State.Status, j.State.Running, j.State.ExitCode], ['running', true, 0]);
    assert.match(j.State.StartedAt, /^\d{4}-\d\d-\d\dT/);
    assert.is(j.State.FinishedAt, '0001-01-01T00:00:00Z');
    assert.match(j.Created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
    assert.equal([j.Path, j.Args], ['sleep', ['300']]);
    assert.is(j.Config.Labels.app, 'web');
    assert.ok(j.Config.Env.includes('A=1'));
    assert.is(j.Config.Hostname, id.slice(0, 12));
    assert.is(j.HostConfig.LogConfig.Type, 'json-file');
    // A unique ID prefix and the name with a leading slash both find it.
    assert.is((await inspect(id.slice(0, 10))).Id, id);
    assert.is((await inspect(`/${n('web')}`)).Id, id);
    ok(await d('rm', '-f', n('web')), 'rm -f');
  });

  reg('~> docker create then start; ps shows Created, then Up; start again is a no-op', async () => {
    const id = ok(await d('create', '--name', n('created'), 'busybox', 'sleep', '300'), 'create');
    assert.is(ok(await d('ps', '-a', '--filter', `id=${id}`, '--format', '{{.Status}}|{{.State}}')), 'Created|created');
    assert.is(
      ok(await d('ps', '--filter', `id=${id}`, '--format', '{{.Names}}')),
      '',
      'ps without -a hides created containers',
    );
    assert.is(ok(await d('start', n('created'))), n('created'));
    assert.is((await inspect(id)).State.Status, 'running');
    ok(await d('start', n('created')), 'start of a running container succeeds (304)');
    ok(await d('rm', '-f', id));
  });

  reg('~> stop keeps the real exit code and ps -a shows Exited (7); start runs it again', async () => {
    const script = 'trap "exit 7" TERM; while true; do sleep 0.2; done';
    ok(await d('run', '-d', '--name', n('trap'), 'busybox', 'sh', '-c', script));
    ok(await d('stop', n('trap')), 'stop');
    assert.match(ok(await d('ps', '-a', '--filter', `name=${n('trap')}`, '--format', '{{.Status}}')), /^Exited \(7\) /);
    let j = await inspect(n('trap'));
    assert.equal([j.State.Status, j.State.Running, j.State.ExitCode], ['exited', false, 7]);
    assert.not.equal(j.State.FinishedAt, '0001-01-01T00:00:00Z');
    const stopped = await d('stop', n('trap'));
    assert.is(stopped.code, 0, 'stop of a stopped container succeeds (304)');
    ok(await d('start', n('trap')), 'start again');
    j = await inspect(n('trap'));
    assert.equal([j.State.Status, j.State.Running], ['running', true]);
    ok(await d('stop', '-t', '5', n('trap')));
    assert.is((await inspect(n('trap'))).State.ExitCode, 7);
    ok(await d('rm', n('trap')), 'rm of a stopped container');
  });

  reg('~> restart stops (real code) and starts a new run; RestartCount stays 0 as in moby', async () => {
    ok(
      await d(
        'run',
        '-d',
        '--name',
        n('restart'),
        'busybox',
        'sh',
        '-c',
        'trap "exit 0" TERM; while true; do sleep 0.2; done',
      ),
    );
    const before = await inspect(n('restart'));
    ok(await d('restart', '-t', '5', n('restart')), 'restart');
    const after = await inspect(n('restart'));
    assert.equal([after.State.Status, after.RestartCount], ['running', 0]);
    // A new run is a new Pod (pod status times have second resolution, so compare the Pods).
    assert.is(after.GraphDriver.Data.Pod, `${before.GraphDriver.Data.Pod}-2`);
    assert.ok(after.State.StartedAt >= before.State.StartedAt);
    ok(await d('rm', '-f', n('restart')));
  });

  reg('~> stop escalates to a kill for a process that ignores SIGTERM (exit 137)', async () => {
    ok(await d('run', '-d', '--name', n('stubborn'), 'busybox', 'sleep', '300'));
    const t0 = Date.now();
    ok(await d('stop', '-t', '1', n('stubborn')));
    assert.ok(Date.now() - t0 < 15_000);
    const j = await inspect(n('stubborn'));
    assert.equal([j.State.Status, j.State.ExitCode], ['exited', 137]);
    ok(await d('rm', n('stubborn')));
  });

  reg(
    '~> kill: SIGKILL gives 137; a stopped container is a 409 with moby text; other signals reach PID 1',
    async () => {
      ok(await d('run', '-d', '--name', n('kill'), 'busybox', 'sleep', '300'));
      ok(await d('kill', n('kill')), 'kill');
      const j = await inspect(n('kill'));
      assert.equal([j.State.Status, j.State.ExitCode], ['exited', 137]);
      const again = await d('kill', n('kill'));
      assert.is.not(again.code, 0);
      assert.match(again.stderr, new RegExp(`cannot kill container: ${n('kill')}: container ${j.Id} is not running`));
      ok(
        await d(
          'run',
          '-d',
          '--name',
          n('usr1'),
          'busybox',
          'sh',
          '-c',
          'trap "exit 42" USR1; while true; do sleep 0.2; done',
        ),
      );
      ok(await d('kill', '-s', 'USR1', n('usr1')), 'kill -s USR1');
      const code = ok(await d('wait', n('usr1')), 'wait');
      assert.is(code, '42');
      ok(await d('rm', n('kill'), n('usr1')));
    },
  );

  reg('~> wait returns the exit code of a container that exits on its own', async () => {
    ok(await d('run', '-d', '--name', n('wait'), 'busybox', 'sh', '-c', 'sleep 0.5; exit 3'));
    assert.is(ok(await d('wait', n('wait'))), '3');
    assert.match(ok(await d('ps', '-a', '--filter', `name=${n('wait')}`, '--format', '{{.Status}}')), /^Exited \(3\) /);
    assert.is(ok(await d('wait', n('wait'))), '3', 'wait on an exited container answers at once');
    ok(await d('rm', n('wait')));
  });

  reg('~> rename; name conflicts are 409 with moby text; rm of a running container needs -f', async () => {
    const id = ok(await d('create', '--name', n('old'), 'busybox', 'true'));
    ok(await d('rename', n('old'), n('new')), 'rename');
    assert.is((await inspect(n('new'))).Id, id);
    assert.is.not((await d('inspect', '--type', 'container', n('old'))).code, 0);
    const clash = await d('create', '--name', n('new'), 'busybox');
    assert.is.not(clash.code, 0);
    assert.ok(
      clash.stderr.includes(
        `Conflict. The container name "/${n('new')}" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.`,
      ),
      clash.stderr,
    );
    ok(await d('start', n('new')));
    ok(await d('wait', n('new')));
    ok(await d('run', '-d', '--name', n('busy'), 'busybox', 'sleep', '300'));
    const rm = await d('rm', n('busy'));
    assert.is.not(rm.code, 0);
    assert.match(
      rm.stderr,
      new RegExp(
        `cannot remove container "/${n('busy')}": container is running: stop the container before removing or force remove`,
      ),
    );
    ok(await d('rm', '-f', n('busy'), n('new')), 'rm -f');
    assert.is(ok(await d('ps', '-a', '--filter', `name=${n('busy')}`, '--format', '{{.Names}}')), '');
  });

  reg('~> docker inspect nosuch exits 1 with "No such object"', async () => {
    const r = await d('inspect', `${env.prefix}-nosuch`);
    assert.is(r.code, 1);
    assert.match(r.stderr, /No such object: /);
    const rm = await d('rm', '-f', `${env.prefix}-nosuch`);
    assert.match(rm.stderr, /No such container/);
  });

  reg('~> ps --filter: label, status, name, id, exited, ancestor, before/since, and -n', async () => {
    const a = ok(
      await d('run', '-d', '--name', n('fa'), '--label', 'grp=f', '--label', 'role=a', 'busybox', 'sleep', '300'),
    );
    const b = ok(await d('run', '-d', '--name', n('fb'), '--label', 'grp=f', 'busybox', 'sh', '-c', 'exit 5'));
    const c = ok(await d('create', '--name', n('fc'), '--label', 'grp=f', 'alpine', 'true'));
    ok(await d('wait', b));
    const names = async (...f: string[]) =>
      ok(await d('ps', '-a', '--filter', 'label=grp=f', ...f.flatMap((x) => ['--filter', x]), '--format', '{{.Names}}'))
        .split('\n')
        .filter(Boolean)
        .sort();
    assert.equal(await names(), [n('fa'), n('fb'), n('fc')].sort());
    assert.equal(await names('label=role'), [n('fa')]);
    assert.equal(await names('label=role=b'), []);
    assert.equal(await names('status=exited'), [n('fb')]);
    assert.equal(await names('status=created'), [n('fc')]);
    assert.equal(await names('status=running'), [n('fa')]);
    assert.equal(await names(`name=${n('fb')}`), [n('fb')]);
    assert.equal(await names(`id=${c.slice(0, 12)}`), [n('fc')]);
    assert.equal(await names('exited=5'), [n('fb')]);
    assert.equal(await names('exited=0'), []);
    assert.equal(await names('ancestor=alpine'), [n('fc')]);
    assert.equal(await names(`before=${n('fc')}`), [n('fa'), n('fb')].sort());
    assert.equal(await names(`since=${n('fa')}`), [n('fb'), n('fc')].sort());
    const running = ok(await d('ps', '--filter', 'label=grp=f', '--format', '{{.Names}}'));
    assert.is(running, n('fa'));
    const last = ok(await d('ps', '-n', '1', '--filter', 'label=grp=f', '--format', '{{.Names}}'));
    assert.is(last, n('fc'));
    const bad = await d('ps', '--filter', 'status=sleeping');
    assert.match(bad.stderr, /invalid filter 'status=sleeping'/);
    ok(await d('rm', '-f', a, b, c));
  });

  reg('~> top lists the processes (ps in the container); prune removes stopped containers only', async () => {
    ok(await d('run', '-d', '--name', n('top'), '--label', `prune=${env.prefix}`, 'busybox', 'sleep', '300'));
    const top = ok(await d('top', n('top')));
    assert.match(top, /PID\s+USER\s+COMMAND/);
    assert.match(top, /sleep 300/);
    assert.not.match(top, /ps -ef/);
    const stopped = ok(await d('create', '--name', n('prunable'), '--label', `prune=${env.prefix}`, 'busybox'));
    const out = ok(await d('container', 'prune', '-f', '--filter', `label=prune=${env.prefix}`));
    assert.ok(out.includes(stopped), out);
    assert.is(ok(await d('ps', '-a', '--filter', `label=prune=${env.prefix}`, '--format', '{{.Names}}')), n('top'));
    ok(await d('stop', '-t', '0', n('top')));
    const notRunning = await d('top', n('top'));
    assert.match(notRunning.stderr, /is not running/);
    ok(await d('rm', n('top')));
  });

  reg('~> run -d --rm removes the container after it exits', async () => {
    const id = ok(await d('run', '-d', '--rm', '--name', n('rm'), 'busybox', 'sh', '-c', 'exit 0'));
    await until(
      async () => ((await d('inspect', '--type', 'container', id)).code !== 0 ? true : undefined),
      30_000,
      'auto-removal',
    );
  });

  reg('~> a restart policy (on-failure:2) restarts on Kubernetes and counts the restarts', async () => {
    ok(await d('run', '-d', '--name', n('rp'), '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 9'));
    const j = await until(
      async () => {
        const x = await inspect(n('rp'));
        return x.RestartCount === 2 && x.State.Status === 'exited' ? x : undefined;
      },
      60_000,
      'two restarts',
    );
    assert.is(j.State.ExitCode, 9);
    assert.equal(j.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });
    ok(await d('rm', n('rp')));
  });
}
