/** engine/ryuk/protocol and config: bufio.Scanner lines, filter lines, which images are Ryuk, Ryuk's env. */
import { test } from 'uvu';
import { RyukLog } from '../../../src/engine/ryuk/ryuk-log.js';
import * as assert from 'uvu/assert';
import { LineScanner, parseFilterLine, TOKEN_TOO_LONG } from '../../../src/engine/ryuk/protocol.js';
import { isRyukImage, legacyLog, ryukConfig, configAttrs } from '../../../src/engine/ryuk/config.js';
import { DEFAULT_OPTIONS, loadOptions } from '../../../src/config.js';
import { DEFAULT_ENGINE_OPTIONS, engineOptionsFrom, resolveEngineOptions } from '../../../src/engine/engine-options.js';

test('LineScanner: lines split across chunks, several per chunk, CRLF, empty lines, a last line at EOF', () => {
  const s = new LineScanner(64);
  assert.equal(s.push(Buffer.from('label=a')), []);
  assert.equal(s.push(Buffer.from('=1\r\n\nlabel=b\nlab')), ['label=a=1', '', 'label=b']);
  assert.equal(s.push(Buffer.from('el=c')), []);
  assert.equal(s.end(), ['label=c']);
  assert.equal(new LineScanner(64).end(), []);
});

test('LineScanner: a line of maxLine bytes or more is "token too long" (bufio.MaxScanTokenSize), one below fits', () => {
  const s = new LineScanner(8);
  assert.equal(s.push(Buffer.from('1234567\n')), ['1234567']);
  assert.throws(
    () => s.push(Buffer.from('12345678\n')),
    (e: Error) => e.message === TOKEN_TOO_LONG,
  );
  const t = new LineScanner(8);
  t.push(Buffer.from('1234'));
  assert.throws(
    () => t.push(Buffer.from('5678')),
    (e: Error) => e.message === TOKEN_TOO_LONG,
  );
});

test('parseFilterLine: the filters of one line, deduplicated by key; a bad line is an error (still ACKed)', () => {
  const f = parseFilterLine('label=org.testcontainers.session-id=abc&label=x');
  assert.ok(!('error' in f));
  if ('error' in f) return;
  assert.equal(f.args, { label: ['org.testcontainers.session-id=abc', 'x'] });
  const g = parseFilterLine('label=x&label=org.testcontainers.session-id=abc');
  assert.is('error' in g ? '' : g.key, f.key);
  assert.equal(parseFilterLine('label=%g1'), { error: 'parse query: invalid URL escape "%g1"' });
});

test('isRyukImage: any registry or mirror prefix, any tag or digest; not a look-alike', () => {
  const repos = ['testcontainers/ryuk'];
  assert.ok(isRyukImage('testcontainers/ryuk:0.14.0', repos));
  assert.ok(isRyukImage('docker.io/testcontainers/ryuk', repos));
  assert.ok(isRyukImage('mirror.example.com/hub/testcontainers/ryuk:0.11.0', repos));
  assert.ok(isRyukImage(`testcontainers/ryuk@sha256:${'a'.repeat(64)}`, repos));
  assert.not.ok(isRyukImage('myorg/testcontainers/ryuk-fork:1', repos));
  assert.not.ok(isRyukImage('busybox', repos));
  assert.not.ok(isRyukImage('testcontainers/ryuk', []));
  assert.ok(isRyukImage('registry.local/tc/ryuk:1', ['tc/ryuk']));
});

test("legacyLog: tags before 0.10.0 log with Go's log package", () => {
  assert.ok(legacyLog('testcontainers/ryuk:0.8.1'));
  assert.ok(legacyLog('testcontainers/ryuk:0.5.1'));
  assert.not.ok(legacyLog('testcontainers/ryuk:0.10.0'));
  assert.not.ok(legacyLog('testcontainers/ryuk:0.14.0'));
  assert.not.ok(legacyLog('testcontainers/ryuk'));
});

test("ryukConfig: defaults, the env variables, and Ryuk's failure on a bad value", () => {
  const d = ryukConfig([]);
  assert.equal(
    configAttrs(d)
      .map(([k, v]) => `${k}=${v}`)
      .join(' '),
    'connection_timeout=1m0s reconnection_timeout=10s request_timeout=10s shutdown_timeout=10m0s remove_retries=10 retry_offset=-1s changes_retry_interval=1s port=8080 verbose=false',
  );
  const c = ryukConfig([
    'RYUK_RECONNECTION_TIMEOUT=2s',
    'RYUK_CONNECTION_TIMEOUT=1m30s',
    'RYUK_PORT=9090',
    'RYUK_VERBOSE=true',
  ]);
  assert.equal([c.reconnectionTimeoutMs, c.connectionTimeoutMs, c.port, c.verbose], [2000, 90_000, 9090, true]);
  assert.throws(
    () => ryukConfig(['RYUK_RECONNECTION_TIMEOUT=10']),
    (e: Error) =>
      e.message ===
      'parse env: env: parse error on field "ReconnectionTimeout" of type "time.Duration": unable to parse duration: time: missing unit in duration "10"',
  );
  assert.throws(
    () => ryukConfig(['RYUK_PORT=http']),
    /field "Port" of type "uint16": strconv.ParseUint: parsing "http": invalid syntax/,
  );
});

test('the --ryuk-* options reach the wing (defaults defined once, in src/config.ts)', () => {
  assert.equal(DEFAULT_ENGINE_OPTIONS.ryuk, {
    images: DEFAULT_OPTIONS.ryukImages,
    logLines: DEFAULT_OPTIONS.ryukLogLines,
    maxLineBytes: 65536,
    maxFilters: DEFAULT_OPTIONS.ryukMaxFilters,
    maxConnections: DEFAULT_OPTIONS.ryukMaxConnections,
  });
  const o = engineOptionsFrom(
    loadOptions(['--ryuk-image', 'tc/ryuk', '--ryuk-image', 'testcontainers/ryuk', '--ryuk-max-filters', '3'], {}),
  );
  assert.equal([o.ryuk.images, o.ryuk.maxFilters], [['tc/ryuk', 'testcontainers/ryuk'], 3]);
  assert.is(
    resolveEngineOptions({ instance: 'i', ryuk: { logLines: 5 } }).ryuk.maxConnections,
    DEFAULT_OPTIONS.ryukMaxConnections,
  );
});

test('RyukLog: filled past --ryuk-log-lines, it keeps the newest lines only', () => {
  const log = new RyukLog(5, false);
  for (let i = 0; i < 50; i++) log.emit('INFO', `line ${i}`);
  const kept = log.all();
  assert.is(kept.length, 5);
  assert.match(kept.at(-1)!, 'msg="line 49"');
  assert.match(kept[0]!, 'msg="line 45"');
});

test.run();
