import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  parseChannelMessage,
  stdinMessage,
  resizeMessage,
  closeStdinMessage,
  parseStatus,
  StatusCollector,
  exitFromClose,
  toBuffer,
  canCloseStdin,
  PROTOCOL_V5,
  PROTOCOL_V4,
  SUBPROTOCOLS,
  MAX_STATUS_BYTES,
} from '../../src/stream/k8s-channel.js';

const SUCCESS = '{"metadata":{},"status":"Success"}';
const EXIT3 =
  '{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}';
const INTERNAL =
  '{"metadata":{},"status":"Failure","message":"error executing command in container: container not found (\\"c\\")","reason":"InternalError","code":500}';

test('~> subprotocols: v5 first, then v4', () => {
  assert.equal([...SUBPROTOCOLS], ['v5.channel.k8s.io', 'v4.channel.k8s.io']);
  assert.ok(canCloseStdin(PROTOCOL_V5));
  assert.not.ok(canCloseStdin(PROTOCOL_V4));
  assert.not.ok(canCloseStdin(''));
});

test('~> a message is channel byte + payload view (no copy); empty is null', () => {
  const raw = Buffer.from([1, 104, 105]);
  const m = parseChannelMessage(raw)!;
  assert.is(m.channel, 1);
  assert.is(m.payload.toString(), 'hi');
  assert.is(m.payload.buffer, raw.buffer);
  assert.is(parseChannelMessage(Buffer.alloc(0)), null);
  const one = parseChannelMessage(Buffer.from([2]))!;
  assert.is(one.channel, 2);
  assert.is(one.payload.length, 0);
  assert.is(parseChannelMessage(Buffer.from([255, 0]))!.channel, 255);
});

test('~> toBuffer accepts what ws hands out: Buffer, ArrayBuffer, fragments', () => {
  const b = Buffer.from([1, 2, 3]);
  assert.is(toBuffer(b), b);
  assert.equal([...toBuffer(new Uint8Array([1, 2]).buffer)], [1, 2]);
  assert.equal([...toBuffer([Buffer.from([1]), Buffer.from([2, 3])])], [1, 2, 3]);
  assert.equal([...toBuffer(new Uint8Array([9, 8]))], [9, 8]);
});

test('~> client messages: stdin, resize (client-go shape), v5 close', () => {
  assert.equal([...stdinMessage(Buffer.from('ls\n'))], [0, 108, 115, 10]);
  assert.equal([...stdinMessage(Buffer.alloc(0))], [0]);
  const r = resizeMessage(120, 40);
  assert.is(r[0], 4);
  assert.equal(JSON.parse(r.subarray(1).toString()), { Width: 120, Height: 40 });
  assert.equal(
    JSON.parse(resizeMessage(-5, 1e9).subarray(1).toString()),
    { Width: 0, Height: 65535 },
    '~> clamped to uint16',
  );
  assert.equal([...closeStdinMessage()], [255, 0]);
});

test('~> status: Success is exit 0', () => {
  assert.equal(parseStatus(SUCCESS), { kind: 'exit', exitCode: 0 });
});

test('~> status: NonZeroExitCode carries the code in causes[reason=ExitCode].message', () => {
  assert.equal(parseStatus(EXIT3), { kind: 'exit', exitCode: 3 });
  const many = JSON.stringify({
    status: 'Failure',
    reason: 'NonZeroExitCode',
    details: {
      causes: [
        { reason: 'Other', message: 'x' },
        { reason: 'ExitCode', message: '255' },
      ],
    },
  });
  assert.equal(parseStatus(many), { kind: 'exit', exitCode: 255 });
});

test('~> status: bad exit codes are protocol errors, as in client-go', () => {
  const mk = (m: string) =>
    JSON.stringify({
      status: 'Failure',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: m }] },
    });
  for (const bad of ['256', '-1', 'abc', '', '3.5']) {
    const s = parseStatus(mk(bad));
    assert.is(s.kind, 'error', bad);
    assert.match((s as { message: string }).message, /invalid exit code/);
  }
  assert.match(
    (parseStatus('{"status":"Failure","reason":"NonZeroExitCode"}') as { message: string }).message,
    /details must be set/,
  );
  assert.match(
    (parseStatus('{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[]}}') as { message: string })
      .message,
    /no ExitCode cause/,
  );
});

test('~> status: other failures are errors with the Status message, reason and code', () => {
  assert.equal(parseStatus(INTERNAL), {
    kind: 'error',
    message: 'error executing command in container: container not found ("c")',
    reason: 'InternalError',
    code: 500,
  });
  assert.equal(parseStatus('{"status":"Weird"}').kind, 'error');
});

test('~> status: pre-v4 plain text is an error with that text', () => {
  assert.equal(parseStatus('command not found\n'), { kind: 'error', message: 'command not found' });
  assert.equal(parseStatus('42'), { kind: 'error', message: '42' });
});

test('~> the collector accumulates a status split at every byte until close', () => {
  const bytes = Buffer.from(EXIT3);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const c = new StatusCollector();
    c.push(bytes.subarray(0, cut));
    c.push(bytes.subarray(cut));
    assert.equal(c.finish(), { kind: 'exit', exitCode: 3 }, `cut ${cut}`);
  }
  const c = new StatusCollector();
  for (const b of bytes) c.push(Buffer.from([b]));
  assert.equal(c.finish(), { kind: 'exit', exitCode: 3 });
});

test('~> whole(): the status once it is one JSON object, never a prefix of one; text waits for the close', () => {
  const bytes = Buffer.from(EXIT3);
  for (let cut = 1; cut < bytes.length; cut++) {
    const c = new StatusCollector();
    c.push(bytes.subarray(0, cut));
    assert.is(c.whole(), undefined, `prefix of ${cut} bytes`);
    c.push(bytes.subarray(cut));
    assert.equal(c.whole(), { kind: 'exit', exitCode: 3 }, `cut ${cut}`);
  }
  const empty = new StatusCollector();
  assert.is(empty.whole(), undefined);
  for (const text of ['command not found', '42', '"Success"', '[]', 'null']) {
    const c = new StatusCollector();
    c.push(Buffer.from(text));
    assert.is(c.whole(), undefined, text);
  }
  const big = new StatusCollector();
  big.push(Buffer.alloc(MAX_STATUS_BYTES + 1, 0x20));
  assert.is(big.whole(), undefined, 'an oversized status is reported at the close');
});

test('~> the collector copies payloads (the message buffer may be reused)', () => {
  const c = new StatusCollector();
  const buf = Buffer.from(SUCCESS);
  c.push(buf);
  buf.fill(0x20);
  assert.equal(c.finish(), { kind: 'exit', exitCode: 0 });
});

test('~> no status: clean 1000 close is exit 0, anything else an error', () => {
  const c = new StatusCollector();
  c.push(Buffer.alloc(0));
  assert.not.ok(c.received);
  assert.is(c.finish(), undefined);
  assert.equal(exitFromClose(undefined, 1000), { kind: 'exit', exitCode: 0 });
  assert.is(exitFromClose(undefined, 1006).kind, 'error');
  assert.equal(
    exitFromClose({ kind: 'exit', exitCode: 7 }, 1006),
    { kind: 'exit', exitCode: 7 },
    '~> a status wins over the close code',
  );
});

test('~> an oversized status is bounded and reported', () => {
  const c = new StatusCollector();
  c.push(Buffer.alloc(MAX_STATUS_BYTES, 0x20));
  c.push(Buffer.alloc(10, 0x20));
  assert.ok(c.received);
  assert.match((c.finish() as { message: string }).message, /larger than/);
});

test.run();
