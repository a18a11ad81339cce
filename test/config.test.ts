import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import {
  loadOptions,
  DEFAULT_OPTIONS,
  usage,
  OPTION_SPECS,
  GROUPS,
  flagTableMarkdown,
  humanBytes,
  parseBytes,
} from '../src/config.js';

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
  const env = {
    KUBER_API_MAX_CONNECTIONS: '10',
    KUBER_API_HOST: 'unix:///a.sock, tcp://0.0.0.0:1',
    KUBER_API_LOG_LEVEL: 'warn',
  };
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
  assert.throws(
    () => loadOptions(['--max-connections', '1k'], {}),
    /--max-connections: "1k" is not a non-negative integer/,
  );
  assert.throws(() => loadOptions([], { KUBER_API_HEADER_TIMEOUT_MS: '-1' }), /KUBER_API_HEADER_TIMEOUT_MS/);
  assert.throws(() => loadOptions(['--log-level', 'loud'], {}), /not one of/);
  assert.throws(() => loadOptions(['-H', 'http://x'], {}), /invalid listen address/);
  assert.throws(() => loadOptions(['--nope'], {}), /nope/);
  assert.throws(() => loadOptions(['positional'], {}));
});

test('~> the README flag tables are exactly the generated ones (regenerate: node -e "import(\'./dist/src/config.js\').then(m => console.log(m.flagTableMarkdown()))")', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Flags'), readme.indexOf('## What is supported'));
  const table = flagTableMarkdown();
  assert.ok(section.includes(table), 'README.md ## Flags differs from flagTableMarkdown()');
  for (const s of OPTION_SPECS) assert.ok(table.includes(`\`--${s.flag}\``) && table.includes(`\`${s.env}\``), s.flag);
});

test('~> --help is grouped, in GROUPS order, with sizes in KiB/MiB', () => {
  const text = usage();
  let at = -1;
  for (const g of GROUPS.filter((g) => OPTION_SPECS.some((s) => (s.group ?? 'Other') === g))) {
    const i = text.indexOf(`\n${g}:\n`);
    assert.ok(i > at, `group ${g} in order`);
    at = i;
  }
  assert.match(text, /--max-header-bytes size[^\n]*\n[^\n]*default 1 MiB\)/);
  assert.match(text, /--archive-max-bytes size[^\n]*\n[^\n]*default 64 MiB\)/);
  assert.is(humanBytes(1536), '1.5 KiB');
  assert.is(humanBytes(1000), '1000 B');
  assert.is(parseBytes('64MiB'), 64 << 20);
  assert.is(parseBytes('1m'), 1 << 20);
  assert.is(parseBytes('2 KB'), 2048);
  assert.is(parseBytes('12'), 12);
  assert.is(parseBytes('1x'), undefined);
  assert.is(loadOptions(['--max-body-bytes', '2m'], {}).maxBodyBytes, 2 << 20);
});

test('~> booleans as dockerd takes them: alone, =true/=false, and from the environment', () => {
  assert.is(loadOptions([], {}).tlsVerify, false);
  assert.is(loadOptions(['--tlsverify'], {}).tlsVerify, true);
  assert.is(loadOptions(['--tlsverify=false'], {}).tlsVerify, false);
  assert.is(loadOptions(['--insecure-tcp', '-H', 'tcp://0.0.0.0:1'], {}).insecureTcp, true);
  assert.is(loadOptions([], { KUBER_API_INSTALL_PREREQS: '1' }).installPrereqs, true);
  assert.throws(() => loadOptions(['--tls=maybe'], {}), /--tls: "maybe" is not a boolean/);
});

test("~> a wrong flag is one line in cobra's words", () => {
  const msg = (argv: string[]) => {
    try {
      loadOptions(argv, {});
    } catch (err) {
      return (err as Error).message;
    }
    return 'no error';
  };
  assert.is(msg(['--x']), 'unknown flag: --x');
  assert.is(msg(['--x=1']), 'unknown flag: --x');
  assert.is(msg(['-Z']), "unknown shorthand flag: 'Z' in -Z");
  assert.is(msg(['--namespace']), 'flag needs an argument: --namespace');
  assert.equal(loadOptions(['-Hunix:///x.sock'], {}).hosts, ['unix:///x.sock']);
});

test.run();
