import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { loadOptions, DEFAULT_OPTIONS, usage, OPTION_SPECS } from '../src/config.js';

test('~> defaults: 1 MiB heads, a unix socket under /tmp and tcp://127.0.0.1:2375, API 1.51 from 1.24', () => {
  const o = loadOptions([], {});
  assert.equal([...o.hosts], ['unix:///tmp/kuber-api.sock', 'tcp://127.0.0.1:2375']);
  assert.is(o.maxHeaderBytes, 1 << 20);
  assert.is(o.apiVersion, '1.51');
  assert.is(o.minApiVersion, '1.24');
  assert.is(o.logLevel, 'info');
  assert.ok(Object.isFrozen(o));
  assert.ok(Object.isFrozen(DEFAULT_OPTIONS));
  for (const s of OPTION_SPECS) assert.ok(usage().includes(`--${s.flag}`), s.flag);
});

test('~> flags beat environment variables, which beat defaults', () => {
  const env = { KUBER_API_MAX_CONNECTIONS: '10', KUBER_API_HOST: 'unix:///a.sock, tcp://0.0.0.0:1', KUBER_API_LOG_LEVEL: 'warn' };
  let o = loadOptions([], env);
  assert.is(o.maxConnections, 10);
  assert.equal([...o.hosts], ['unix:///a.sock', 'tcp://0.0.0.0:1']);
  assert.is(o.logLevel, 'warn');
  o = loadOptions(['--max-connections', '5', '-H', 'unix:///b.sock', '--host=tcp://:2376', '--log-level=debug'], env);
  assert.is(o.maxConnections, 5);
  assert.equal([...o.hosts], ['unix:///b.sock', 'tcp://:2376']);
  assert.is(o.logLevel, 'debug');
});

test('~> bad values are rejected with the flag or variable named', () => {
  assert.throws(() => loadOptions(['--max-header-bytes', '1x'], {}), /--max-header-bytes: "1x" is not a size/);
  assert.throws(() => loadOptions(['--max-connections', '1k'], {}), /--max-connections: "1k" is not a non-negative integer/);
  assert.throws(() => loadOptions([], { KUBER_API_HEADER_TIMEOUT_MS: '-1' }), /KUBER_API_HEADER_TIMEOUT_MS/);
  assert.throws(() => loadOptions(['--log-level', 'loud'], {}), /not one of/);
  assert.throws(() => loadOptions(['-H', 'http://x'], {}), /invalid listen address/);
  assert.throws(() => loadOptions(['--nope'], {}), /nope/);
  assert.throws(() => loadOptions(['positional'], {}));
});

test('~> the README flag table lists every option with its variable (the user\'s manual stays in step)', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const table = readme.slice(readme.indexOf('## Flags'), readme.indexOf('## What is supported'));
  for (const s of OPTION_SPECS) {
    const row = table.split('\n').find((l) => l.includes(`\`--${s.flag}\``));
    assert.ok(row, `README lacks --${s.flag}`);
    assert.ok(row.includes(`\`${s.env}\``), `README row of --${s.flag} lacks ${s.env}`);
  }
});

test.run();
