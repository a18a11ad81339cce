import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { bridgeStreams, OutputPump, InputPump, type BridgeEnd } from '../../src/stream/bridge.js';
import { SlowSink, FakeWs, FakeSource, PauseCounter, demuxAll, until } from './fakes.js';

const MiB = 1024 * 1024;
const EXIT3 =
  '{"metadata":{},"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}';

function msg(channel: number, payload: Buffer | string): Buffer {
  return Buffer.concat([Buffer.from([channel]), Buffer.from(payload)]);
}

/** Deterministic pseudo-random payload of `n` bytes (different per seed). */
function payload(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('~> slow reader: 16 MiB through a sink taking one chunk per ms stays within hwm + one socket read', async () => {
  const hwm = 64 * 1024;
  const size = 32 * 1024; // the apiserver's usual message size
  const perRead = 4; // messages per simulated socket read (ws emits a whole read even after pause)
  const sink = new SlowSink({ highWaterMark: hwm, delayMs: 1, writev: false });
  const ws = new FakeWs();
  const b = bridgeStreams({ ws, output: sink, tty: false });
  const msgs: Buffer[] = [];
  const want: Record<1 | 2, Buffer[]> = { 1: [], 2: [] };
  const total = 16 * MiB;
  for (let i = 0; i < total / size; i++) {
    const ch = i % 3 === 2 ? 2 : 1;
    const p = payload(size, i);
    want[ch].push(p);
    msgs.push(msg(ch, p));
  }
  // The server's "connection established" empty message comes first.
  await ws.feed([Buffer.from([1]), ...msgs], perRead);
  await ws.feed([msg(3, EXIT3.slice(0, 20)), msg(3, EXIT3.slice(20))], 1);
  const closing = ws.closeWith(1000);
  const end = await b.done;
  await closing;
  await new Promise<void>((r) => sink.end(r));
  assert.equal(end, { reason: 'closed', status: { kind: 'exit', exitCode: 3 } });
  const got = demuxAll(sink.all());
  assert.is(sha(got[1]), sha(Buffer.concat(want[1])), '~> stdout byte-exact');
  assert.is(sha(got[2]), sha(Buffer.concat(want[2])), '~> stderr byte-exact');
  assert.is(got.frames, msgs.length, '~> one frame per message, none for the empty first message');
  const bound = hwm + perRead * (size + 8);
  assert.ok(sink.peakBuffered <= bound, `~> peak ${sink.peakBuffered} <= bound ${bound}`);
  assert.ok(ws.pauses > 10, `~> the WebSocket was paused (${ws.pauses}x)`);
  assert.is(ws.pauses, ws.resumes, '~> every pause has its resume');
  assert.is(ws.unpaired, 0);
  assert.is(b.output.gate.pauses, ws.pauses);
  assert.is(b.output.bytes, total);
});

test('~> a WebSocket handed over paused (dial, hijack, then bridge) loses nothing and is resumed', async () => {
  const ws = new FakeWs();
  ws.pause(); // what the dialer does in 'open'
  const fed = ws.feed([Buffer.from([1]), msg(1, 'early output'), msg(3, '{"status":"Success"}')]);
  await new Promise((r) => setTimeout(r, 10)); // the hijack takes a while
  assert.is(ws.listenerCount('message'), 0);
  const sink = new SlowSink();
  const b = bridgeStreams({ ws, output: sink, tty: false });
  assert.not.ok(ws.paused);
  await fed;
  void ws.closeWith(1000);
  assert.equal(await b.done, { reason: 'closed', status: { kind: 'exit', exitCode: 0 } });
  await new Promise<void>((r) => sink.end(r));
  assert.is(demuxAll(sink.all())[1].toString(), 'early output');
  assert.is(ws.unpaired, 0);
});

test('~> TTY: raw bytes, no frames; stderr merges into the one stream; empty messages ignored', async () => {
  const sink = new SlowSink();
  const ws = new FakeWs();
  const b = bridgeStreams({ ws, output: sink, tty: true });
  await ws.feed([Buffer.from([1]), msg(1, '$ '), msg(2, 'err'), msg(1, ''), msg(4, 'ignored'), msg(1, 'ls\r\n')]);
  void ws.closeWith(1000);
  const end = await b.done;
  assert.equal(end, { reason: 'closed', status: { kind: 'exit', exitCode: 0 }, closeCode: 1000 });
  await new Promise<void>((r) => sink.end(r));
  assert.is(sink.all().toString(), '$ errls\r\n');
});

test('~> non-TTY keeps stdout and stderr apart in order', async () => {
  const sink = new SlowSink();
  const ws = new FakeWs();
  const b = bridgeStreams({ ws, output: sink, tty: false });
  await ws.feed([msg(1, 'out1 '), msg(2, 'err1 '), msg(1, 'out2')], 3);
  void ws.closeWith(1000);
  await b.done;
  await new Promise<void>((r) => sink.end(r));
  const got = demuxAll(sink.all());
  assert.is(got[1].toString(), 'out1 out2');
  assert.is(got[2].toString(), 'err1 ');
  assert.equal(got.order, [1, 2, 1]);
});

test('~> messages of one socket read leave in one writev (cork for the tick)', async () => {
  const sink = new SlowSink();
  const ws = new FakeWs();
  const b = bridgeStreams({ ws, output: sink, tty: false });
  await ws.feed([msg(1, 'a'), msg(1, 'b'), msg(2, 'c'), msg(1, 'd')], 4);
  void ws.closeWith(1000);
  await b.done;
  await new Promise<void>((r) => sink.end(r));
  assert.is(sink.writeCalls, 1);
  assert.is(demuxAll(sink.all()).frames, 4);
});

test('~> stdin: bufferedAmount stays below high water + one chunk; the client is paused and resumed', async () => {
  const ws = new FakeWs({ drainPerTick: 64 * 1024 });
  const input = new FakeSource(4);
  const sink = new SlowSink();
  const high = 256 * 1024;
  const b = bridgeStreams({ ws, output: sink, input, tty: false, stdinHighWater: high, stdinLowWater: 64 * 1024 });
  const chunks: Buffer[] = [];
  for (let i = 0; i < 128; i++) chunks.push(payload(64 * 1024, 1000 + i));
  input.feed(chunks, true);
  await until(() => input.idle && ws.bufferedAmount === 0);
  const sent = ws.sent;
  assert.ok(
    sent.slice(0, -1).every((m) => m[0] === 0),
    '~> channel 0',
  );
  assert.equal([...sent.at(-1)!], [255, 0], '~> v5 CLOSE after the data on the half-close');
  const data = Buffer.concat(sent.slice(0, -1).map((m) => m.subarray(1)));
  assert.is(sha(data), sha(Buffer.concat(chunks)), '~> stdin byte-exact and in order');
  assert.ok(ws.peakBuffered <= high + 64 * 1024 + 1, `~> peak ${ws.peakBuffered}`);
  assert.ok(input.pauses > 5, `~> client paused ${input.pauses}x`);
  assert.is(input.pauses, input.resumes);
  assert.is(input.unpaired, 0);
  assert.ok(b.stdinClosed);
  // Output keeps flowing after the half-close, and the exit status still arrives.
  await ws.feed([msg(1, 'done'), msg(3, EXIT3)]);
  void ws.closeWith(1000);
  const end = await b.done;
  assert.equal(end, { reason: 'closed', status: { kind: 'exit', exitCode: 3 } });
});

test('~> stdin EOF on v4 cannot be signalled: nothing is sent, stdin stays open', async () => {
  const ws = new FakeWs({ protocol: 'v4.channel.k8s.io' });
  const input = new FakeSource();
  const b = bridgeStreams({ ws, output: new SlowSink(), input, tty: false });
  input.feed([Buffer.from('hi')], true);
  await until(() => input.idle);
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(
    ws.sent.map((m) => [...m]),
    [[0, 104, 105]],
  );
  assert.not.ok(b.stdinClosed);
  void ws.closeWith(1000);
  assert.is((await b.done).reason, 'closed');
});

test('~> end-session mode: the client half-close ends the attach (container keeps running)', async () => {
  const ws = new FakeWs();
  const input = new FakeSource();
  const b = bridgeStreams({ ws, output: new SlowSink(), input, tty: true, stdinEof: 'end-session' });
  input.feed([Buffer.from('x')], true);
  assert.equal(await b.done, { reason: 'stdin-eof' });
  assert.equal(
    ws.sent.map((m) => [...m]),
    [[0, 120]],
    '~> no CLOSE message',
  );
  assert.is(ws.listenerCount('message'), 0, '~> listeners removed');
});

test('~> TTY detach keys: split across chunks, swallowed, session ends with detach', async () => {
  const ws = new FakeWs();
  const input = new FakeSource();
  const b = bridgeStreams({ ws, output: new SlowSink(), input, tty: true });
  input.feed([Buffer.from('ls\n'), Buffer.from([0x10]), Buffer.from([0x11, 0x41])]);
  const end: BridgeEnd = await b.done;
  assert.equal(end, { reason: 'detach' });
  assert.equal(
    ws.sent.map((m) => m.toString('latin1')),
    ['\x00ls\n'],
  );
  assert.is(input.listenerCount('data'), 0);
});

test('~> custom detach keys; a broken sequence passes through', async () => {
  const ws = new FakeWs();
  const input = new FakeSource();
  const b = bridgeStreams({ ws, output: new SlowSink(), input, tty: true, detachKeys: Buffer.from([0x01, 0x78]) });
  input.feed([Buffer.from([0x10, 0x11]), Buffer.from([0x01]), Buffer.from('y'), Buffer.from([0x01, 0x78])]);
  assert.equal(await b.done, { reason: 'detach' });
  assert.is(Buffer.concat(ws.sent.map((m) => m.subarray(1))).toString('latin1'), '\x10\x11\x01y');
});

test('~> without TTY the detach keys are data', async () => {
  const ws = new FakeWs();
  const input = new FakeSource();
  const b = bridgeStreams({ ws, output: new SlowSink(), input, tty: false });
  input.feed([Buffer.from([0x10, 0x11])]);
  await until(() => ws.sent.length === 1);
  assert.equal([...ws.sent[0]!], [0, 0x10, 0x11]);
  b.stop();
  assert.equal(await b.done, { reason: 'stopped' });
});

test('~> no status: clean close is exit 0; an abnormal close carries the socket error', async () => {
  const ws = new FakeWs();
  const b = bridgeStreams({ ws, output: new SlowSink(), tty: false });
  void ws.closeWith(1000);
  assert.equal(await b.done, { reason: 'closed', status: { kind: 'exit', exitCode: 0 }, closeCode: 1000 });
  const ws2 = new FakeWs();
  const b2 = bridgeStreams({ ws: ws2, output: new SlowSink(), tty: false });
  ws2.emit('error', new Error('read ECONNRESET'));
  void ws2.closeWith(1006);
  assert.equal(await b2.done, {
    reason: 'closed',
    status: { kind: 'error', message: 'read ECONNRESET' },
    closeCode: 1006,
  });
});

test('~> a failure status (InternalError) is reported as an error', async () => {
  const ws = new FakeWs();
  const b = bridgeStreams({ ws, output: new SlowSink(), tty: false });
  await ws.feed([
    msg(3, '{"status":"Failure","message":"container not found (\\"c\\")","reason":"InternalError","code":500}'),
  ]);
  void ws.closeWith(1000);
  const end = await b.done;
  assert.equal(end, {
    reason: 'closed',
    status: { kind: 'error', message: 'container not found ("c")', reason: 'InternalError', code: 500 },
  });
});

test('~> the client going away ends the bridge as a detach and unhooks everything', async () => {
  const ws = new FakeWs();
  const sink = new SlowSink({ highWaterMark: 16, delayMs: 50 });
  const input = new FakeSource();
  const b = bridgeStreams({ ws, output: sink, input, tty: false });
  await ws.feed([msg(1, 'x'.repeat(100))]);
  assert.ok(ws.paused, '~> paused on the full client');
  sink.destroy();
  assert.equal(await b.done, { reason: 'client-closed' });
  assert.is(ws.listenerCount('message') + ws.listenerCount('close') + input.listenerCount('data'), 0);
  assert.not.ok(ws.paused, '~> the pause was paired with a resume on teardown');
  assert.is(ws.unpaired, 0);
});

test('~> a text message is a protocol error', async () => {
  const ws = new FakeWs();
  const b = bridgeStreams({ ws, output: new SlowSink(), tty: false });
  ws.emit('message', Buffer.from('1hello'), false);
  const end = await b.done;
  assert.is(end.reason, 'error');
});

test('~> resize is sent only for TTY sessions, in client-go shape', () => {
  const ws = new FakeWs();
  const b = bridgeStreams({ ws, output: new SlowSink(), tty: true });
  b.resize(80, 24);
  assert.is(ws.sent[0]!.toString('latin1'), '\x04{"Width":80,"Height":24}');
  const ws2 = new FakeWs();
  bridgeStreams({ ws: ws2, output: new SlowSink(), tty: false }).resize(80, 24);
  assert.is(ws2.sent.length, 0);
  b.stop();
});

test('~> OutputPump alone: pause on false, resume on drain, one hold per blockage', () => {
  const src = new PauseCounter();
  const writes: Buffer[] = [];
  let ok = false;
  const listeners: Record<string, (() => void)[]> = {};
  const sink = {
    write: (b: Uint8Array) => (writes.push(Buffer.from(b)), ok),
    once: (e: string, l: () => void) => void (listeners[e] ??= []).push(l),
    removeListener: (e: string, l: () => void) => void (listeners[e] = (listeners[e] ?? []).filter((x) => x !== l)),
  };
  const p = new OutputPump(src, sink, false);
  p.write(1, Buffer.from('a'));
  p.write(2, Buffer.from('b'));
  assert.is(src.pauses, 1, '~> a second false while paused does not pause again');
  assert.is(listeners.drain!.length, 1);
  ok = true;
  listeners.drain!.shift()!();
  assert.is(src.resumes, 1);
  p.write(1, Buffer.from('c'));
  assert.is(src.pauses, 1);
  assert.is(demuxAll(Buffer.concat(writes)).frames, 3);
});

test('~> InputPump alone: a failed send releases the hold (the socket closed)', async () => {
  const src = new PauseCounter();
  let cb: ((e?: Error) => void) | undefined;
  const ws = { bufferedAmount: 10, send: (_d: Buffer, c?: (e?: Error) => void) => void (cb = c) };
  const p = new InputPump(ws, src, { highWater: 5, lowWater: 1 });
  p.data(Buffer.from('x'));
  assert.ok(src.paused);
  cb!(new Error('closed'));
  assert.not.ok(src.paused);
  assert.is(src.unpaired, 0);
});

test.run();
