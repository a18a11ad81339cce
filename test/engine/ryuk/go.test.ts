/** engine/ryuk/go: Go's duration syntax, url.ParseQuery, filters.Args JSON and slog quoting, as Ryuk shows them. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  filtersFromKey,
  filtersKey,
  formatGoDuration,
  goList,
  goLogPrefix,
  parseGoDuration,
  parseGoQuery,
  slogValue,
} from '../../../src/engine/ryuk/go.js';

test('parseGoDuration reads time.ParseDuration syntax (ms)', () => {
  assert.is(parseGoDuration('10s'), 10_000);
  assert.is(parseGoDuration('1m30s'), 90_000);
  assert.is(parseGoDuration('1.5s'), 1500);
  assert.is(parseGoDuration('500ms'), 500);
  assert.is(parseGoDuration('-1s'), -1000);
  assert.is(parseGoDuration('1h'), 3_600_000);
  assert.is(parseGoDuration('0'), 0);
  assert.is(parseGoDuration('250us'), 0.25);
  assert.throws(() => parseGoDuration('10'), /missing unit/);
  assert.throws(() => parseGoDuration('5d'), /unknown unit "d"/);
  assert.throws(() => parseGoDuration(''), /invalid duration/);
});

test('formatGoDuration prints Duration.String (the `starting` line of Ryuk)', () => {
  assert.is(formatGoDuration(60_000), '1m0s');
  assert.is(formatGoDuration(10_000), '10s');
  assert.is(formatGoDuration(600_000), '10m0s');
  assert.is(formatGoDuration(-1000), '-1s');
  assert.is(formatGoDuration(1500), '1.5s');
  assert.is(formatGoDuration(500), '500ms');
  assert.is(formatGoDuration(0), '0s');
  assert.is(formatGoDuration(3_723_000), '1h2m3s');
});

test("parseGoQuery: pairs, repeats, + and %XX, and Go's errors (semicolon, bad escape) skip the pair", () => {
  const q = parseGoQuery('label=a%3Db&label=c+d&&name=x');
  assert.equal(
    [...q.values],
    [
      ['label', ['a=b', 'c d']],
      ['name', ['x']],
    ],
  );
  assert.is(q.error, undefined);
  assert.equal([...parseGoQuery('label=a=b').values], [['label', ['a=b']]]);
  assert.is(parseGoQuery('label=a;b').error, 'invalid semicolon separator in query');
  const bad = parseGoQuery('label=%zz&label=ok');
  assert.is(bad.error, 'invalid URL escape "%zz"');
  assert.equal([...bad.values], [['label', ['ok']]]);
});

test('filtersKey is filters.Args JSON with sorted keys, and round-trips', () => {
  const k = filtersKey({ label: ['b=2', 'a=1'], id: ['x'] });
  assert.is(k, '{"id":{"x":true},"label":{"a=1":true,"b=2":true}}');
  assert.is(filtersKey(filtersFromKey(k)), k);
});

test('slog values: quoted with a space, =, " or a control character; goList and the log prefix', () => {
  assert.is(slogValue('Started'), 'Started');
  assert.is(slogValue('[::]:8080'), '[::]:8080');
  assert.is(slogValue('client connected'), '"client connected"');
  assert.is(slogValue('[a=b]'), '"[a=b]"');
  assert.is(slogValue(''), '""');
  assert.is(slogValue('a\\b'), 'a\\b');
  assert.is(goList(['a', 'b']), '[a b]');
  assert.is(goLogPrefix(new Date('2024-09-30T19:42:30.001Z')), '2024/09/30 19:42:30 ');
});

test.run();
