import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  boolValue,
  boolOr,
  intValue,
  stringValue,
  parseFilters,
  filtersOf,
  timestampValue,
} from '../../src/router/query.js';
import { EngineError } from '../../src/errors.js';

/** A plain copy: parsed filters have a null prototype, which deep-equal never matches to a literal. */
const plain = (o: object) => ({ ...o });

const q = (s: string) => new URLSearchParams(s);

test("~> booleans are moby's BoolValue: '', 0, no, false, none are false; all else true", () => {
  for (const v of ['1', 'true', 'True', 'TRUE', 'yes', 'on', 'anything', ' 1 '])
    assert.ok(boolValue(q(`all=${encodeURIComponent(v)}`), 'all'), v);
  for (const v of ['', '0', 'no', 'false', 'False', 'none', 'NONE', ' false '])
    assert.not.ok(boolValue(q(`all=${encodeURIComponent(v)}`), 'all'), v);
  assert.not.ok(boolValue(q(''), 'all'));
  assert.ok(boolOr(q(''), 'stream', true), 'absent -> default');
  assert.not.ok(boolOr(q('stream=0'), 'stream', true));
  assert.not.ok(boolOr(q('stream='), 'stream', true), 'present but empty is false (BoolValue)');
});

test('~> integers: empty is absent (dockerode sends t=), junk is a 400', () => {
  assert.is(intValue(q('t=10'), 't'), 10);
  assert.is(intValue(q('t=-1'), 't'), -1);
  assert.is(intValue(q('t='), 't'), undefined);
  assert.is(intValue(q(''), 't'), undefined);
  const err = (() => {
    try {
      intValue(q('t=abc'), 't');
    } catch (e) {
      return e as EngineError;
    }
  })();
  assert.is(err?.category, 'invalid');
  assert.throws(() => intValue(q('t=1.5'), 't'));
  assert.throws(() => intValue(q('t=99999999999999999999'), 't'));
  assert.is(stringValue(q('name='), 'name'), undefined);
  assert.is(stringValue(q('name=x'), 'name'), 'x');
});

test('~> filters: map of booleans (Go), arrays (dockerode, docker-py), bare strings', () => {
  assert.equal(plain(parseFilters('{"label":{"a=b":true,"c":true},"status":{"running":true}}')), {
    label: ['a=b', 'c'],
    status: ['running'],
  });
  assert.equal(
    plain(parseFilters('{"label":["org.testcontainers.container-hash=1"],"status":["created","running"]}')),
    {
      label: ['org.testcontainers.container-hash=1'],
      status: ['created', 'running'],
    },
  );
  assert.equal(plain(parseFilters('{"name":"web"}')), { name: ['web'] });
  assert.equal(plain(parseFilters('{"label":{"a":false}}')), { label: ['a'] }, 'moby ignores the booleans');
  assert.equal(plain(parseFilters('')), {});
  assert.equal(plain(parseFilters(null)), {});
  assert.equal(plain(parseFilters('null')), {});
  assert.equal(plain(parseFilters('{}')), {});
  assert.equal(plain(filtersOf(q('filters=' + encodeURIComponent('{"id":["x"]}')))), { id: ['x'] });
});

test('~> filters keep user keys as keys: "__proto__" does not replace the prototype, "constructor" is absent unless sent', () => {
  const f = parseFilters('{"__proto__":{"polluted":true},"label":["a"]}');
  assert.is(Object.getPrototypeOf(f), null);
  assert.equal(Object.keys(f).sort(), ['__proto__', 'label']);
  assert.equal(f['__proto__'], ['polluted']);
  assert.is((f as Record<string, unknown>)['polluted'], undefined);
  assert.is(parseFilters('{"label":["a"]}')['constructor'], undefined);
  assert.equal(parseFilters('{"constructor":["x"]}')['constructor'], ['x']);
  assert.is(({} as Record<string, unknown>)['polluted'], undefined, 'Object.prototype untouched');
});

test('~> bad filters are a 400', () => {
  for (const bad of ['{', '[]', '"x"', '{"a":1}', '{"a":true}']) {
    try {
      parseFilters(bad);
      assert.unreachable(bad);
    } catch (e) {
      assert.instance(e, EngineError);
      assert.is((e as EngineError).category, 'invalid');
    }
  }
});

test('~> timestamps: unix seconds with fraction, RFC 3339, Go durations relative to now', () => {
  const now = 1_700_000_000_000;
  assert.is(timestampValue(q('since=1700000000'), 'since', now), 1_700_000_000_000);
  assert.is(timestampValue(q('since=1700000000.5'), 'since', now), 1_700_000_000_500);
  assert.is(timestampValue(q('since=1700000000.123456789'), 'since', now), 1_700_000_000_000 + 123.456789);
  assert.is(timestampValue(q('since=0'), 'since', now), 0);
  assert.is(timestampValue(q('since=2023-11-14T22:13:20Z'), 'since', now), 1_700_000_000_000);
  assert.is(timestampValue(q('since=2023-11-14T22:13:20.250%2B00:00'), 'since', now), 1_700_000_000_250);
  assert.is(timestampValue(q('since=10m'), 'since', now), now - 600_000);
  assert.is(timestampValue(q('since=1h30m'), 'since', now), now - 5_400_000);
  assert.is(timestampValue(q('since=1.5s'), 'since', now), now - 1500);
  // Go accepts both micro signs (U+00B5, U+03BC) for microseconds (time/format.go unitMap).
  assert.is(timestampValue(q('since=1s500000%C2%B5s'), 'since', now), now - 1500);
  assert.is(timestampValue(q('since=1s500000%CE%BCs'), 'since', now), now - 1500);
  assert.is(timestampValue(q('since='), 'since', now), undefined);
  assert.throws(() => timestampValue(q('since=yesterday'), 'since', now), /failed to parse value as time or duration/);
});

test.run();
