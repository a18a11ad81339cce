/**
 * Faults as the docker CLI sees them (issue 14, item 6), against kuber-api on kube-sim: a container
 * killed by the kernel's OOM killer shows what dockerd shows (exit 137, State.OOMKilled true,
 * `docker wait` prints 137); a pods/log stream the apiserver drops mid-way ends `docker logs`
 * cleanly with what arrived (no hang, no garbage), and the next read has everything. (A failed pull
 * is in containers-cli.test.ts.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cliSuite } from '../helpers/streams-env.js';
import { ok } from './containers-cases.js';

const { t, d, sim } = cliSuite('fault CLI tests', { timeoutMs: 90_000 });

t('~> OOM killed: exit 137, State.OOMKilled true, docker wait prints 137 (as dockerd)', async () => {
  const r = await d(
    'run',
    '--name',
    'oom',
    '-m',
    '24m',
    'busybox',
    'sh',
    '-c',
    'x=0123456789; while :; do x="$x$x"; done',
  );
  assert.is(r.code, 137, r.stderr);
  const st = JSON.parse(ok(await d('inspect', '--format', '{{json .State}}', 'oom')));
  assert.is(st.Status, 'exited');
  assert.is(st.ExitCode, 137);
  assert.is(st.OOMKilled, true);
  assert.is(ok(await d('wait', 'oom')), '137');
  ok(await d('rm', 'oom'));
});

t(
  '~> a log stream the apiserver drops mid-way ends docker logs cleanly with a prefix; the next read is whole',
  async () => {
    ok(
      await d(
        'run',
        '--name',
        'chatty',
        'busybox',
        'sh',
        '-c',
        'i=0; while [ $i -lt 20000 ]; do echo "line $i"; i=$((i+1)); done',
      ),
    );
    const whole = ok(await d('logs', 'chatty'));
    assert.is(whole.split('\n').length, 20000);
    await sim().setFaults({ dropStreamsAfterBytes: 20_000 });
    try {
      const cut = await d('logs', 'chatty');
      assert.is(cut.code, 0, cut.stderr);
      assert.ok(cut.stdout.length < whole.length, 'the stream was cut');
      assert.ok(whole.startsWith(cut.stdout.replace(/\n$/, '')), 'what arrived is a prefix of the log');
    } finally {
      await sim().clearFaults();
    }
    assert.is(ok(await d('logs', 'chatty')), whole);
    ok(await d('rm', 'chatty'));
  },
);

test.run();
