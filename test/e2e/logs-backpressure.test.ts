/**
 * Backpressure end to end (issue 4 acceptance): a slow reader of a fast log stream (docker logs -f,
 * and an attach made before start, which reads the Pod log) keeps kuber-api's memory bounded
 * (VmRSS/VmHWM of its process from /proc, asserted below a bound), and a client that drops
 * mid-stream closes the upstream stream (kube-sim's open log streams go back to zero).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, type Socket } from 'node:net';
import { dockerAvailable } from '../helpers/docker-cli.js';
import {
  eventually,
  rss,
  streamsEnv,
  uniqueName,
  upstreamCloseMs,
  UPSTREAM_CLOSE_BOUND_MS,
  type StreamsEnv,
} from '../helpers/streams-env.js';

/** kuber-api may not grow by more than this while a slow reader holds a fast stream back. */
const RSS_BOUND_KB = 64 * 1024;
/** ~50 MB/s of 1 KiB lines, forever (bounded so the sim's log disk does not balloon). */
const PRODUCER = 'l=$(yes x | head -c 1023 | tr -d "\\n"); while :; do yes "$l" | head -n 5000; sleep 0.1; done';

let env: StreamsEnv;
const t = dockerAvailable() ? test : test.skip;
if (!dockerAvailable()) console.log('SKIP backpressure e2e tests: needs the docker CLI for setup');

test.before(async () => {
  if (dockerAvailable()) env = await streamsEnv({ splitStreams: true });
});
test.after(async () => env?.stop());

/** A raw request on kuber-api's socket; the response is read only when `take()` is called. */
function rawStream(
  path: string,
  method = 'GET',
  upgrade = false,
): Promise<{ sock: Socket; head: string; take(max: number): number }> {
  return new Promise((resolve, reject) => {
    const sock = connect(env.api.socketPath);
    sock.on('error', reject);
    sock.write(
      `${method} ${path} HTTP/1.1\r\nHost: docker\r\n${upgrade ? 'Connection: Upgrade\r\nUpgrade: tcp\r\n' : ''}Content-Length: 0\r\n\r\n`,
    );
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      sock.off('data', onData);
      sock.pause();
      const rest = Buffer.from(head.slice(end + 4), 'latin1');
      if (rest.length) sock.unshift(rest);
      resolve({
        sock,
        head: head.slice(0, end),
        take(max: number) {
          let n = 0;
          let b: Buffer | null;
          while (n < max && (b = sock.read() as Buffer | null) !== null) n += b.length;
          return n;
        },
      });
    };
    sock.on('data', onData);
  });
}

async function slowRead(
  s: { take(max: number): number },
  ms: number,
): Promise<{ bytes: number; peakKb: number; baseKb: number }> {
  const base = await rss(env.api.pid);
  let bytes = 0;
  let peakKb = base.rssKb;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    bytes += s.take(64 * 1024); // ~640 KB/s: far slower than the producer
    peakKb = Math.max(peakKb, (await rss(env.api.pid)).rssKb);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { bytes, peakKb, baseKb: base.rssKb };
}

t(
  '~> docker logs -f read slowly: kuber-api stays within the RSS bound; dropping the client closes the log stream upstream',
  async () => {
    const name = uniqueName('fast');
    const r = await env.docker(['run', '-d', '--name', name, 'busybox', 'sh', '-c', PRODUCER]);
    assert.is(r.code, 0, r.stderr);
    const s = await rawStream(`/v1.45/containers/${name}/logs?follow=1&stdout=1&stderr=1`);
    assert.match(s.head, /^HTTP\/1\.1 200 OK/);
    await eventually(
      async () => ((await env.simState()).streams?.log ?? 0) >= 2,
      10_000,
      'the two split log streams open in kube-sim',
    );
    const m = await slowRead(s, 6000);
    console.log(
      `  slow logs reader: ${(m.bytes / 1048576).toFixed(1)} MiB read in 6 s; kuber-api RSS ${(m.baseKb / 1024).toFixed(0)} -> peak ${(m.peakKb / 1024).toFixed(0)} MiB`,
    );
    assert.ok(m.bytes > 0, 'the reader got data');
    assert.ok(m.peakKb - m.baseKb < RSS_BOUND_KB, `RSS grew by ${m.peakKb - m.baseKb} kB`);
    const droppedAt = Date.now();
    s.sock.destroy();
    const ms = await upstreamCloseMs(env, 'log', droppedAt);
    assert.ok(ms < UPSTREAM_CLOSE_BOUND_MS, `the log streams closed in kube-sim ${ms} ms after the client left`);
    await env.docker(['rm', '-f', name]);
  },
);

t(
  '~> an attach made before start, read slowly: bounded the same way; dropping it detaches and closes upstream',
  async () => {
    const name = uniqueName('fast-attach');
    const c = await env.docker(['create', '--name', name, 'busybox', 'sh', '-c', PRODUCER]);
    assert.is(c.code, 0, c.stderr);
    const s = await rawStream(`/v1.45/containers/${name}/attach?stream=1&stdout=1&stderr=1`, 'POST', true);
    assert.match(s.head, /^HTTP\/1\.1 101 UPGRADED/);
    const st = await env.docker(['start', name]);
    assert.is(st.code, 0, st.stderr);
    await eventually(async () => ((await env.simState()).streams?.log ?? 0) >= 2, 10_000, 'the attach reads the log');
    const m = await slowRead(s, 6000);
    console.log(
      `  slow attach reader: ${(m.bytes / 1048576).toFixed(1)} MiB read in 6 s; kuber-api RSS ${(m.baseKb / 1024).toFixed(0)} -> peak ${(m.peakKb / 1024).toFixed(0)} MiB`,
    );
    assert.ok(m.bytes > 0);
    assert.ok(m.peakKb - m.baseKb < RSS_BOUND_KB, `RSS grew by ${m.peakKb - m.baseKb} kB`);
    const droppedAt = Date.now();
    s.sock.destroy();
    const ms = await upstreamCloseMs(env, 'log', droppedAt);
    assert.ok(
      ms < UPSTREAM_CLOSE_BOUND_MS,
      `the attach's log streams closed in kube-sim ${ms} ms after the client left`,
    );
    const running = await env.docker(['inspect', '-f', '{{.State.Running}}', name]);
    assert.is(running.stdout.toString().trim(), 'true', 'a dropped attach is a detach, never a stop');
    await env.docker(['rm', '-f', name]);
  },
);

test.run();
