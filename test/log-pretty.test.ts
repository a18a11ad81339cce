import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pino } from 'pino';
import { prettyLine, PrettyStream } from '../src/log-pretty.js';
import { resolveLogFormat } from '../src/log.js';

test('~> a pino line becomes "time LEVEL message key=value"; name, pid and hostname are left out', () => {
  const t = new Date(2026, 0, 2, 3, 4, 5, 67).getTime();
  const line = JSON.stringify({
    level: 30,
    time: t,
    pid: 1,
    hostname: 'h',
    name: 'kuber-api',
    host: 'tcp://127.0.0.1:2375',
    n: 3,
    msg: 'listening on tcp://127.0.0.1:2375',
  });
  assert.is(prettyLine(line), '03:04:05.067 INFO  listening on tcp://127.0.0.1:2375 host=tcp://127.0.0.1:2375 n=3\n');
  assert.is(
    prettyLine(JSON.stringify({ level: 50, time: t, msg: 'x', why: 'two words' })),
    '03:04:05.067 ERROR x why="two words"\n',
  );
  assert.is(prettyLine('not json'), 'not json\n');
});

test('~> errors: the message inline, the stack indented below; colours only when asked', () => {
  const err = new Error('boom');
  const out = prettyLine(
    JSON.stringify({ level: 60, time: 0, msg: 'cannot start', err: { message: err.message, stack: err.stack } }),
  );
  assert.match(out, /FATAL cannot start err=boom\n {4}at /);
  assert.not.match(out, /\x1b\[/);
  assert.match(prettyLine(JSON.stringify({ level: 40, time: 0, msg: 'w' }), true), /\x1b\[33mWARN /);
});

test('~> pino writes through PrettyStream; auto is pretty only on a terminal', () => {
  const lines: string[] = [];
  const log = pino(
    { level: 'info', base: { name: 'kuber-api' } },
    new PrettyStream({ write: (s: string) => lines.push(s) }, { color: false }),
  );
  log.info({ container: 'web' }, 'started');
  log.debug('hidden');
  assert.is(lines.length, 1);
  assert.match(lines[0]!, /^\d\d:\d\d:\d\d\.\d{3} INFO  started container=web\n$/);
  assert.is(resolveLogFormat('auto', true), 'pretty');
  assert.is(resolveLogFormat('auto', false), 'json');
  assert.is(resolveLogFormat('json', true), 'json');
  assert.is(resolveLogFormat('pretty', false), 'pretty');
});

test.run();
