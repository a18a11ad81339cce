/**
 * Container events through GET /events: the docker CLI's `docker events` with filters and
 * since/until, causal order per container, die with the real exit code, legacy fields below 1.52.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import { cliSuite } from '../helpers/streams-env.js';
import { ok } from './containers-cases.js';

const { t, d, env } = cliSuite('docker events tests', { timeoutMs: 60_000 });
const nowSecs = () => (Date.now() / 1000).toFixed(3);

/** GET /v<version>/events?... as parsed JSON lines (until= makes the stream end). */
function rawEvents(version: string, query: string): Promise<any[]> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath: env().api.socketPath, path: `/v${version}/events?${query}` }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () =>
        resolve(
          body
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l)),
        ),
      );
    });
    req.on('error', reject);
  });
}

t('~> a container lifecycle emits create, start, kill, die (real code), stop, rename, destroy in order', async () => {
  const since = nowSecs();
  ok(
    await d(
      'run',
      '-d',
      '--name',
      'ev1',
      '--label',
      'ev=yes',
      'busybox',
      'sh',
      '-c',
      'trap "exit 7" TERM; while true; do sleep 0.2; done',
    ),
  );
  ok(await d('stop', 'ev1'));
  ok(await d('rename', 'ev1', 'ev1b'));
  ok(await d('rm', 'ev1b'));
  const until = (Date.now() / 1000 + 0.5).toFixed(3);
  const out = ok(
    await d(
      'events',
      '--since',
      since,
      '--until',
      until,
      '--filter',
      'label=ev=yes',
      '--format',
      '{{.Action}} {{.Actor.Attributes.name}} {{index .Actor.Attributes "exitCode"}}{{index .Actor.Attributes "signal"}}',
    ),
  );
  assert.equal(
    out.split('\n').map((l) => l.trim()),
    ['create ev1', 'start ev1', 'kill ev1 15', 'die ev1 7', 'stop ev1', 'rename ev1b', 'destroy ev1b'],
  );
});

t('~> a container that exits on its own dies with its exit code; filters by event and container', async () => {
  const since = nowSecs();
  const id = ok(await d('run', '-d', '--name', 'ev2', 'busybox', 'sh', '-c', 'exit 12'));
  ok(await d('wait', id));
  const until = (Date.now() / 1000 + 0.5).toFixed(3);
  const die = ok(
    await d(
      'events',
      '--since',
      since,
      '--until',
      until,
      '--filter',
      'container=ev2',
      '--filter',
      'event=die',
      '--format',
      '{{json .}}',
    ),
  );
  const e = JSON.parse(die);
  assert.equal(
    [e.Type, e.Action, e.Actor.ID, e.Actor.Attributes.exitCode, e.Actor.Attributes.image, e.Actor.Attributes.name],
    ['container', 'die', id, '12', 'busybox', 'ev2'],
  );
  assert.ok(e.timeNano > 0 && e.time === Math.floor(e.timeNano / 1e9));
  const byId = ok(
    await d(
      'events',
      '--since',
      since,
      '--until',
      until,
      '--filter',
      `container=${id.slice(0, 12)}`,
      '--format',
      '{{.Action}}',
    ),
  );
  assert.equal(byId.split('\n'), ['create', 'start', 'die']);
  ok(await d('rm', id));
});

t('~> legacy status/id/from are present below API 1.52 (compose v1 at 1.38, older CLIs)', async () => {
  const since = nowSecs();
  const id = ok(await d('create', '--name', 'ev3', 'busybox'));
  const until = (Date.now() / 1000 + 0.5).toFixed(3);
  const q = `since=${since}&until=${until}&filters=${encodeURIComponent(JSON.stringify({ container: [id] }))}`;
  const [old] = await rawEvents('1.41', q);
  assert.equal([old.status, old.id, old.from, old.Action], ['create', id, 'busybox', 'create']);
  // compose v1 pins 1.38 and reads status/id/from/time/timeNano.
  const [v138] = await rawEvents('1.38', q);
  assert.equal(
    [v138.status, v138.id, v138.from, typeof v138.time, typeof v138.timeNano],
    ['create', id, 'busybox', 'number', 'number'],
  );
  ok(await d('rm', id));
});

test.run();
