/**
 * Real kubectl against kube-sim (TLS + token, through the apiserver) with pods run by the kubelet:
 * apply + get (table) + get -w showing the transitions; exec with both streams and the exit code
 * (1.33 and 1.30); exec -i with piped stdin; logs -f and --tail; attach; delete waiting for the
 * graceful deletion; and kubectl 1.27 (SPDY only) getting a clear error instead of a hang.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { KUBECTL, kubectl, startSim, type SimHandle } from '../../helpers/sim.js';
import { Tmux } from '../../helpers/tmux.js';

const test = suite<{ sim: SimHandle; cache: string }>('kubectl');
const have = existsSync(KUBECTL('1.33')) && existsSync(KUBECTL('1.30'));

let ctxRef: { sim: SimHandle; cache: string };
const k = (args: string[], version = '1.33', stdin?: string, timeoutMs = 60_000) =>
  kubectl(version, args, {
    kubeconfig: ctxRef.sim.kubeconfigPath,
    cacheDir: join(ctxRef.cache, version),
    stdin,
    timeoutMs,
  });
const ok = async (args: string[], version = '1.33', stdin?: string) => {
  const r = await k(args, version, stdin);
  assert.is(r.code, 0, `kubectl ${version} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

const podYaml = (name: string, command: string[], extra = '') => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  terminationGracePeriodSeconds: 1
${extra}  containers:
  - name: c
    image: busybox
    command: ${JSON.stringify(command)}
`;

async function waitRunning(name: string): Promise<void> {
  const end = Date.now() + 20000;
  while (Date.now() < end) {
    const r = await k(['get', 'pod', name, '-o', 'jsonpath={.status.phase}']);
    if (r.stdout === 'Running') return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`${name} not Running`);
}

test.before(async (ctx) => {
  if (!have) return;
  ctx.sim = await startSim({ kubelet: { backoffInitialMs: 500, backoffMaxMs: 2000 } });
  ctx.cache = mkdtempSync(join(tmpdir(), 'kubectl-kubelet-'));
  ctxRef = ctx;
});

test.after(async (ctx) => {
  if (!have) return;
  await ctx.sim.stop();
  rmSync(ctx.cache, { recursive: true, force: true });
});

const t = (name: string, fn: () => Promise<void>) => (have ? test(name, fn) : test.skip(name, fn));
if (!have)
  console.log(
    `SKIP kubectl kubelet tests: ${KUBECTL('1.33')} or ${KUBECTL('1.30')} is missing (kubectl.1.NN beside the kubectl on PATH)`,
  );

t(
  '~> apply a pod; get -w shows Pending -> ContainerCreating -> Running -> Completed; get prints the table',
  async () => {
    const watch = spawn(
      KUBECTL('1.33'),
      [
        '--kubeconfig',
        ctxRef.sim.kubeconfigPath,
        '--cache-dir',
        join(ctxRef.cache, '1.33'),
        'get',
        'pods',
        '-w',
        '--field-selector',
        'metadata.name=short',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    watch.stdout.on('data', (d) => (out += d));
    await new Promise((r) => setTimeout(r, 800));
    await ok(
      ['apply', '-f', '-'],
      '1.33',
      podYaml('short', ['sh', '-c', 'sleep 1; echo done']).replace('spec:\n', 'spec:\n  restartPolicy: Never\n'),
    );
    const end = Date.now() + 20000;
    while (!/short\s+0\/1\s+Completed/.test(out) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    watch.kill();
    const lines = out.trim().split('\n');
    assert.match(lines[0]!, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/);
    const statuses = lines.slice(1).map((l) => l.split(/\s+/)[2]);
    for (const s of ['ContainerCreating', 'Running', 'Completed'])
      assert.ok(statuses.includes(s), `${s} in ${statuses.join(',')}`);
    assert.ok(
      statuses.indexOf('ContainerCreating') < statuses.indexOf('Running') &&
        statuses.indexOf('Running') < statuses.indexOf('Completed'),
    );
    const table = await ok(['get', 'pods', 'short']);
    assert.match(table, /short\s+0\/1\s+Completed\s+0\s+/);
  },
);

t('~> exec prints both streams and exits 3 (kubectl 1.33 and 1.30)', async () => {
  await ok(['apply', '-f', '-'], '1.33', podYaml('sleeper', ['sleep', '3600']));
  await waitRunning('sleeper');
  for (const v of ['1.33', '1.30']) {
    const r = await k(['exec', 'sleeper', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3'], v);
    assert.is(r.stdout, 'out\n', v);
    // kubectl itself reports the exit code on stderr (cmdutil.CheckErr on a CodeExitError).
    assert.is(r.stderr, 'err\ncommand terminated with exit code 3\n', v);
    assert.is(r.code, 3, v);
    const good = await k(['exec', 'sleeper', '--', 'echo', 'fine'], v);
    assert.is(good.code, 0);
    assert.is(good.stdout, 'fine\n');
  }
});

t('~> exec -i with piped stdin (stdin EOF reaches the process)', async () => {
  for (const v of ['1.33', '1.30']) {
    const r = await k(['exec', '-i', 'sleeper', '--', 'sh', '-c', 'cat; echo end'], v, 'piped line 1\npiped line 2\n');
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, 'piped line 1\npiped line 2\nend\n');
  }
});

t('~> exec into a container that does not exist / a completed pod: kubectl prints the error', async () => {
  const r = await k(['exec', 'sleeper', '-c', 'nope', '--', 'true']);
  assert.is(r.code, 1);
  assert.match(r.stderr, 'container nope is not valid for pod sleeper');
  const done = await k(['exec', 'short', '--', 'true']);
  assert.is(done.code, 1);
  assert.match(done.stderr, 'cannot exec into a container in a completed pod; current phase is Succeeded');
});

t('~> logs --tail and logs -f (1.33 and 1.30)', async () => {
  await ok(
    ['apply', '-f', '-'],
    '1.33',
    podYaml(
      'ticker',
      ['sh', '-c', 'for i in 1 2 3 4 5; do echo tick $i; done; sleep 1; echo last'],
      '  restartPolicy: Never\n',
    ),
  );
  await waitRunning('ticker');
  for (const v of ['1.33', '1.30']) {
    const f = await k(['logs', '-f', 'ticker'], v);
    assert.is(f.code, 0, f.stderr);
    assert.ok(f.stdout.startsWith('tick 1\ntick 2\n'), f.stdout);
  }
  const tail = await ok(['logs', '--tail=2', 'ticker']);
  assert.is(tail, 'tick 5\nlast\n');
  const tail30 = await ok(['logs', '--tail=1', 'ticker'], '1.30');
  assert.is(tail30, 'last\n');
});

t('~> attach: stdin reaches the main process and the output comes back', async () => {
  await ok(
    ['apply', '-f', '-'],
    '1.33',
    `apiVersion: v1
kind: Pod
metadata:
  name: reader
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: busybox
    stdin: true
    stdinOnce: true
    command: ["sh", "-c", "read l; echo got $l"]
`,
  );
  await waitRunning('reader');
  const r = await k(['attach', '-i', 'reader'], '1.33', 'hello\n');
  assert.match(r.stdout, 'got hello');
  assert.is(r.code, 0, r.stderr);
});

t('~> exec -it through a real terminal (tmux): the shell sees the size, then the resize; exit code', async () => {
  if (!(await Tmux.available())) return console.log('SKIP kubectl exec -it: tmux is missing');
  const term = await Tmux.start(
    [
      KUBECTL('1.33'),
      '--kubeconfig',
      ctxRef.sim.kubeconfigPath,
      '--cache-dir',
      join(ctxRef.cache, '1.33'),
      'exec',
      '-it',
      'sleeper',
      '--',
      'sh',
    ],
    { width: 80, height: 24 },
  );
  try {
    await term.waitFor(/\/ #/);
    await term.type('stty size\n');
    await term.waitFor(/^24 80\s*$/m);
    await term.resize(100, 30);
    await term.typeUntil('stty size\n', /^30 100\s*$/m);
    await term.type('exit 7\n');
    assert.is(await term.exitCode(), 7);
  } finally {
    await term.kill();
  }
});

t('~> delete pod waits for the graceful deletion; the pod is gone afterwards', async () => {
  const t0 = Date.now();
  const r = await k(['delete', 'pod', 'sleeper']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, 'pod "sleeper" deleted');
  assert.ok(Date.now() - t0 >= 900, 'waited for SIGKILL after the 1 s grace period');
  const gone = await k(['get', 'pod', 'sleeper']);
  assert.is(gone.code, 1);
  assert.match(gone.stderr, 'pods "sleeper" not found');
});

t('~> kubectl 1.27 (SPDY only) gets a clear error, not a hang', async () => {
  if (!existsSync(KUBECTL('1.27'))) return console.log(`SKIP kubectl 1.27 SPDY test: ${KUBECTL('1.27')} is missing`);
  await ok(['apply', '-f', '-'], '1.33', podYaml('old', ['sleep', '3600']));
  await waitRunning('old');
  const t0 = Date.now();
  const r = await k(['exec', 'old', '--', 'true'], '1.27', undefined, 20_000);
  assert.is(r.code, 1);
  assert.match(r.stderr, 'SPDY is not supported');
  assert.ok(Date.now() - t0 < 15000);
  await k(['delete', 'pod', 'old', '--grace-period=0', '--force']);
});

test.run();
