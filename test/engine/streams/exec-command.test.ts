/**
 * engine/exec-command: the argv that carries Docker's exec Env/WorkingDir/User over pods/exec,
 * checked by running the produced argv with the local busybox (the image kube-sim runs).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  execArgv,
  explainWrapperFailure,
  isWrapped,
  needsUserSwitch,
} from '../../../src/engine/streams/exec-command.js';

const BB = '/bin/busybox';
/** Run an argv the way a container would: busybox applets on PATH via a temp dir of links. */
const bin = mkdtempSync(join(tmpdir(), 'kapi-bb-'));
execFileSync(BB, ['--install', '-s', bin]);
function run(argv: string[], cwd = '/'): { code: number; out: string; err: string } {
  const [file, ...args] = argv;
  const r = spawnSync(file === '/bin/sh' ? join(bin, 'sh') : file!, args, {
    cwd,
    env: { PATH: bin, HOME: '/' },
    encoding: 'utf8',
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

test('~> a plain exec is passed through unchanged', () => {
  const cmd = ['sh', '-c', 'echo hi'];
  assert.equal(execArgv({ cmd }), cmd);
  assert.equal(execArgv({ cmd, env: [], workingDir: '', user: '' }), cmd);
  assert.not.ok(isWrapped({ cmd, env: ['NOEQUALS'] }));
});

test('~> Env alone goes through env --, values with spaces and = intact', () => {
  const spec = { cmd: ['sh', '-c', 'echo "$A|$B"'], env: ['A=1 2', 'B=x=y', 'IGNORED'] };
  const argv = execArgv(spec);
  assert.equal(argv.slice(0, 4), ['env', '--', 'A=1 2', 'B=x=y']);
  assert.is(run(argv).out, '1 2|x=y\n');
});

test('~> WorkingDir and Env: `docker exec -e A=1 -w /tmp ctr sh -c "echo $A; pwd"` prints 1 and /tmp', () => {
  const argv = execArgv({ cmd: ['sh', '-c', 'echo $A; pwd'], env: ['A=1'], workingDir: '/tmp' });
  const r = run(argv);
  assert.is(r.code, 0, r.err);
  assert.is(r.out, '1\n/tmp\n');
});

test('~> a missing WorkingDir fails like runc: dockerd message on stdout, exit 126', () => {
  const r = run(execArgv({ cmd: ['pwd'], workingDir: '/nonexistent-dir' }));
  assert.is(r.code, 126);
  assert.is(
    r.out,
    'OCI runtime exec failed: exec failed: unable to start container process: chdir to cwd ("/nonexistent-dir") set in config.json failed: no such file or directory: unknown\r\n',
  );
});

test('~> the exit status and argv of the command survive the wrapper (exec replaces the shell)', () => {
  assert.is(run(execArgv({ cmd: ['sh', '-c', 'exit 5'], workingDir: '/' })).code, 5);
  assert.is(run(execArgv({ cmd: ['nonexistent-cmd'], workingDir: '/' })).code, 127);
  const r = run(execArgv({ cmd: ['sh', '-c', 'echo "$0:$1:$#"', 'a b', "c'd"], workingDir: '/tmp', env: ['X=1'] }));
  assert.is(r.out, "a b:c'd:1\n");
});

test('~> a command that looks like an assignment is not eaten by env', () => {
  const argv = execArgv({ cmd: ['A=B'], env: ['X=1'] });
  assert.is(argv[0], 'env');
  assert.ok(argv.includes('/bin/sh'));
  assert.is(run(argv).code, 127);
});

test('~> User: no switch for the container user; a switch needs setpriv/su-exec/gosu, else a clear 126', () => {
  assert.not.ok(needsUserSwitch({ cmd: ['id'], user: '1000', containerUser: '1000' }));
  assert.ok(needsUserSwitch({ cmd: ['id'], user: '1000' }));
  // busybox's setpriv has no --reuid, and there is no su-exec or gosu: the clear message.
  const r = run(execArgv({ cmd: ['id'], user: '1000:1000' }));
  assert.is(r.code, 126);
  assert.is(
    r.out,
    'kuber-api: exec --user 1000:1000 needs setpriv (util-linux), su-exec or gosu in the image: Kubernetes exec has no user option\r\n',
  );
});

test('~> a wrapper that cannot start explains why (image without a shell)', () => {
  const spec = { cmd: ['ls'], workingDir: '/tmp' };
  const msg =
    'OCI runtime exec failed: exec failed: unable to start container process: exec: "/bin/sh": stat /bin/sh: no such file or directory: unknown';
  assert.match(explainWrapperFailure(spec, msg) ?? '', /WorkingDir through \/bin\/sh .* the image has none/);
  assert.is(explainWrapperFailure({ cmd: ['ls'] }, msg), undefined);
  assert.is(explainWrapperFailure(spec, 'something else'), undefined);
  assert.match(
    explainWrapperFailure({ cmd: ['ls'], env: ['A=1'] }, 'exec: "env": executable file not found in $PATH') ?? '',
    /Env through `env`/,
  );
});

test.after(() => rmSync(bin, { recursive: true, force: true }));
test.run();
