import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventEmitter } from 'node:events';
import { readChannels, type ChannelEnd } from '../../src/stream/channel-reader.js';

const msg = (ch: number, s: string) => Buffer.concat([Buffer.from([ch]), Buffer.from(s)]);
const exitStatus = (code: number) =>
  JSON.stringify({
    status: 'Failure',
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  });

function run(feed: (ws: EventEmitter) => void) {
  const ws = new EventEmitter();
  const out: Array<[number, string]> = [];
  const ends: ChannelEnd[] = [];
  const reading = readChannels(
    ws,
    (ch, p) => out.push([ch, p.toString()]),
    (e) => ends.push(e),
  );
  feed(ws);
  return { ws, out, ends, reading };
}

test('~> stdout and stderr payloads are routed; the empty [1] and empty messages carry nothing', () => {
  const { out, ends } = run((ws) => {
    ws.emit('message', Buffer.from([1]), true);
    ws.emit('message', Buffer.alloc(0), true);
    ws.emit('message', msg(1, 'out'), true);
    ws.emit('message', msg(2, 'err'), true);
    ws.emit('message', msg(4, 'resize is never server -> client'), true);
  });
  assert.equal(out, [
    [1, 'out'],
    [2, 'err'],
  ]);
  assert.is(ends.length, 0);
});

test('~> the session ends at its whole status, before the close; a split status waits for its last part', () => {
  const s = exitStatus(7);
  const { ends, reading, ws, out } = run((w) => {
    w.emit('message', msg(1, 'out'), true);
    w.emit('message', msg(3, s.slice(0, 10)), true);
  });
  assert.ok(reading.statusReceived);
  assert.is(ends.length, 0, 'a prefix of the Status is not a Status');
  ws.emit('message', msg(3, s.slice(10)), true);
  // No closeCode: the socket is still open, the caller closes it.
  assert.equal(ends, [{ reason: 'closed', status: { kind: 'exit', exitCode: 7 } }]);
  ws.emit('message', msg(1, 'late'), true);
  ws.emit('close', 1000);
  assert.is(ends.length, 1, 'once');
  assert.equal(out, [[1, 'out']]);
});

test('~> a status that is not one JSON object (pre-v4 plain text) is decoded at the close', () => {
  const { ends, ws } = run((w) => w.emit('message', msg(3, 'error executing command'), true));
  assert.is(ends.length, 0);
  ws.emit('close', 1000);
  assert.equal(ends, [
    { reason: 'closed', status: { kind: 'error', message: 'error executing command' }, closeCode: 1000 },
  ]);
  const { ends: e2, ws: w2 } = run((w) => w.emit('message', msg(3, '[1]'), true));
  assert.is(e2.length, 0, 'a JSON array is no Status either');
  w2.emit('close', 1000);
  assert.is(e2.length, 1);
});

test('~> no status: a clean close is exit 0; an abnormal one carries the socket error', () => {
  assert.equal(run((ws) => ws.emit('close', 1000)).ends, [
    { reason: 'closed', status: { kind: 'exit', exitCode: 0 }, closeCode: 1000 },
  ]);
  const { ends } = run((ws) => {
    ws.emit('error', new Error('ECONNRESET'));
    ws.emit('close', 1006);
  });
  assert.equal(ends, [{ reason: 'closed', status: { kind: 'error', message: 'ECONNRESET' }, closeCode: 1006 }]);
});

test('~> a text message is a protocol error (v4/v5 are binary), and ends the reading', () => {
  const { ends, out, ws } = run((w) => w.emit('message', Buffer.from('hello'), false));
  assert.is(ends.length, 1);
  assert.is(ends[0]!.reason, 'error');
  ws.emit('message', msg(1, 'late'), true);
  assert.equal(out, []);
});

test('~> stop() ends listening without an end; a late socket error does not throw', () => {
  const { ws, ends, out, reading } = run(() => {});
  reading.stop();
  ws.emit('message', msg(1, 'x'), true);
  ws.emit('close', 1000);
  assert.equal(out, []);
  assert.is(ends.length, 0);
  assert.not.throws(() => ws.emit('error', new Error('late')));
});

test.run();
