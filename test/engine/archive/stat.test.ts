/**
 * The `X-Docker-Container-Path-Stat` pieces (pure): Go os.FileMode from a unix st_mode, stat's
 * time as RFC3339Nano, moby's key order, path cleaning as moby's PreserveTrailingDotOrSeparator,
 * and where `tar -c` runs so that member names are moby's.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  containerPath,
  encodePathStat,
  goFileMode,
  isDirMode,
  isSymlinkMode,
  parseStatTime,
  statName,
  tarSource,
} from '../../../src/engine/archive/stat.js';
import { negotiateEncoding } from '../../../src/api/archive.js';

test('~> st_mode -> Go FileMode: type in the high bits, setuid/setgid/sticky moved, permissions kept', () => {
  assert.is(goFileMode(0o100644), 0o644, 'regular file');
  assert.is(goFileMode(0o040755), 2 ** 31 + 0o755, 'directory');
  assert.is(goFileMode(0o041777), 2 ** 31 + 2 ** 20 + 0o777, 'sticky directory (/tmp)');
  assert.is(goFileMode(0o120777), 2 ** 27 + 0o777, 'symlink');
  assert.is(goFileMode(0o104755), 2 ** 23 + 0o755, 'setuid');
  assert.is(goFileMode(0o102755), 2 ** 22 + 0o755, 'setgid');
  assert.is(goFileMode(0o020666), 2 ** 26 + 2 ** 21 + 0o666, 'character device');
  assert.is(goFileMode(0o060660), 2 ** 26 + 0o660, 'block device');
  assert.is(goFileMode(0o010644), 2 ** 25 + 0o644, 'fifo');
  assert.is(goFileMode(0o140755), 2 ** 24 + 0o755, 'socket');
  assert.ok(isDirMode(goFileMode(0o040700)));
  assert.not.ok(isDirMode(goFileMode(0o120777)));
  assert.ok(isSymlinkMode(goFileMode(0o120777)));
  assert.not.ok(isSymlinkMode(goFileMode(0o040777)));
});

test('~> stat -c %y -> RFC3339Nano in UTC (trailing zeros dropped, offsets applied)', () => {
  assert.is(parseStatTime('2026-11-27 21:41:10.123456789 +0000'), '2026-11-27T21:41:10.123456789Z');
  assert.is(parseStatTime('2026-11-27 21:41:10.120000000 +0000'), '2026-11-27T21:41:10.12Z');
  assert.is(parseStatTime('2026-11-27 21:41:10.000000000 +0000'), '2026-11-27T21:41:10Z');
  assert.is(parseStatTime('2026-11-27 23:41:10.5 +0200'), '2026-11-27T21:41:10.5Z');
  assert.is(parseStatTime('2026-11-27 21:41:10'), '2026-11-27T21:41:10Z', 'busybox without fraction');
  assert.is(parseStatTime('yesterday'), undefined);
});

test('~> the header is base64 JSON with moby key order', () => {
  const h = encodePathStat({ linkTarget: '', mtime: '2023-11-14T22:13:20Z', mode: 0o644, size: 5, name: 'f' });
  assert.is(
    Buffer.from(h, 'base64').toString(),
    '{"name":"f","size":5,"mode":420,"mtime":"2023-11-14T22:13:20Z","linkTarget":""}',
  );
});

test('~> paths: cleaned, trailing "/" and "/." kept; stat names; tar sources', () => {
  assert.is(containerPath('etc/passwd'), '/etc/passwd');
  assert.is(containerPath('/etc//x/../passwd'), '/etc/passwd');
  assert.is(containerPath('/tmp/'), '/tmp/');
  assert.is(containerPath('/tmp/.'), '/tmp/.');
  assert.is(containerPath('/'), '/');
  assert.is(containerPath('.'), '/.');
  assert.is(statName('/etc/passwd'), 'passwd');
  assert.is(statName('/tmp/'), 'tmp');
  assert.is(statName('/'), '/');
  assert.equal(tarSource('/etc/passwd'), { dir: '/etc', base: 'passwd' });
  assert.equal(tarSource('/etc/'), { dir: '/', base: 'etc' });
  assert.equal(tarSource('/etc/.'), { dir: '/etc', base: '.' });
  assert.equal(tarSource('/'), { dir: '/', base: '.' });
});

test('~> Accept-Encoding negotiation: gzip for Go clients, deflate when asked, nothing otherwise', () => {
  assert.is(negotiateEncoding('gzip'), 'gzip');
  assert.is(negotiateEncoding('deflate'), 'deflate');
  assert.is(negotiateEncoding('deflate, gzip'), 'gzip');
  assert.is(negotiateEncoding('gzip;q=0.5, deflate'), 'deflate');
  assert.is(negotiateEncoding('identity'), undefined);
  assert.is(negotiateEncoding('gzip;q=0'), undefined);
  assert.is(negotiateEncoding(undefined), undefined);
});

test.run();
