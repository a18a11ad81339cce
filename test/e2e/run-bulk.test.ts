/**
 * A 1 GiB `docker run` output stream arrives byte-exact (issue 4 acceptance): busybox awk produces
 * 16384 numbered lines of ~64 KiB inside the container; the test hashes the docker CLI's stdout as
 * it arrives and compares with the same program run locally. Prints the throughput (a measurement,
 * not an assertion: speed claims live in bench/).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { dockerAvailable } from '../helpers/docker-cli.js';
import { GIB_AWK, localAwkMd5, streamsEnv, type StreamsEnv } from '../helpers/streams-env.js';

let env: StreamsEnv;
const t = dockerAvailable() ? test : test.skip;
if (!dockerAvailable()) console.log('SKIP 1 GiB docker run test: no `docker` on PATH');

test.before(async () => {
  if (dockerAvailable()) env = await streamsEnv({ splitStreams: true });
});
test.after(async () => env?.stop());

t('~> docker run --rm busybox awk <1 GiB producer>: byte-exact (md5 of both ends)', async () => {
  const expected = await localAwkMd5(GIB_AWK);
  assert.is(expected.bytes, 16384 * (60894 + 1) + [...Array(16384).keys()].reduce((n, i) => n + String(i).length, 0));
  const h = createHash('md5');
  let bytes = 0;
  const t0 = Date.now();
  const r = await env.docker(['run', '--rm', 'busybox', 'awk', GIB_AWK], {
    timeoutMs: 280_000,
    onStdout: (d) => {
      h.update(d);
      bytes += d.length;
    },
  });
  const s = (Date.now() - t0) / 1000;
  assert.is(r.code, 0, r.stderr);
  assert.is(bytes, expected.bytes);
  assert.is(h.digest('hex'), expected.md5);
  console.log(`  1 GiB through docker run: ${s.toFixed(1)} s, ${(bytes / 1048576 / s).toFixed(0)} MiB/s end to end`);
});

test.run();
