/**
 * The kubelet's RFC 6455 endpoint with raw bytes: handshake accept key (the RFC's example),
 * word-wise unmasking at every alignment, fragmented and coalesced frames, 16- and 64-bit
 * lengths, payloads streamed in pieces, ping -> pong, the close handshake both ways, unmasked
 * client frames refused (1002), the size limit (1009), pause/resume.
 */
import { createServer, connect, type Socket } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { acceptHandshake, unmask, WsEndpoint } from '../../../src/sim/kubelet/ws-server.js';

const test = suite('ws-server');

function frame(opcode: number, payload: Buffer, opts: { fin?: boolean; masked?: boolean; mask?: Buffer } = {}): Buffer {
  const fin = opts.fin ?? true;
  const masked = opts.masked ?? true;
  const mask = opts.mask ?? Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const len = payload.length;
  const head =
    len < 126
      ? Buffer.from([0, len])
      : len < 65536
        ? Buffer.from([0, 126, len >> 8, len & 255])
        : Buffer.concat([
            Buffer.from([0, 127]),
            Buffer.from([0, 0, 0, 0]),
            Buffer.from([len >>> 24, (len >> 16) & 255, (len >> 8) & 255, len & 255]),
          ]);
  head[0] = (fin ? 0x80 : 0) | opcode;
  if (masked) head[1]! |= 0x80;
  const body = Buffer.from(payload);
  if (masked) for (let i = 0; i < body.length; i++) body[i]! ^= mask[i & 3]!;
  return Buffer.concat([head, masked ? mask : Buffer.alloc(0), body]);
}

/** A server endpoint connected to a raw client socket. */
async function pair(max?: number): Promise<{ ep: WsEndpoint; client: Socket; got: () => Buffer; close: () => void }> {
  let resolveEp!: (e: WsEndpoint) => void;
  const epP = new Promise<WsEndpoint>((r) => (resolveEp = r));
  const server = createServer((s) => resolveEp(new WsEndpoint(s, Buffer.alloc(0), max)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  let got = Buffer.alloc(0);
  client.on('data', (d) => (got = Buffer.concat([got, d])));
  const ep = await epP;
  return { ep, client, got: () => got, close: () => server.close() };
}

const until = async (fn: () => boolean, what: string) => {
  for (let i = 0; i < 400 && !fn(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(fn(), what);
};

test('~> unmask matches the byte-wise definition at every alignment and offset', () => {
  const mask = Buffer.from([0x11, 0x22, 0x33, 0x44]);
  const base = Buffer.from(Array.from({ length: 103 }, (_, i) => (i * 7) & 255));
  for (let align = 0; align < 4; align++) {
    for (const pos of [0, 1, 2, 3, 9]) {
      const host = Buffer.alloc(base.length + 8);
      const view = host.subarray(align, align + base.length);
      base.copy(view);
      unmask(view, mask, pos);
      const want = Buffer.from(base.map((b, i) => b ^ mask[(pos + i) & 3]!));
      assert.ok(view.equals(want), `align ${align} pos ${pos}`);
    }
  }
});

test('~> the accept key is RFC 6455 §1.3 example', () => {
  let out = '';
  acceptHandshake(
    { headers: { 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } } as never,
    { write: (s: string) => (out += s) } as never,
    'v5.channel.k8s.io',
  );
  assert.match(out, 'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n');
  assert.match(out, 'Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n');
});

test('~> fragments, coalesced frames, byte-split writes, 16/64-bit lengths: payload streamed in order', async () => {
  const { ep, client, close } = await pair();
  const pieces: Array<{ op: number; first: boolean; last: boolean; data: Buffer }> = [];
  ep.on('data', (op: number, p: Buffer, first: boolean, last: boolean) =>
    pieces.push({ op, first, last, data: Buffer.from(p) }),
  );
  const big = Buffer.alloc(70000, 0x5a);
  const all = Buffer.concat([
    frame(2, Buffer.from('ab'), { fin: false }),
    frame(0, Buffer.from('cd'), { fin: false }),
    frame(9, Buffer.from('ping')), // a control frame between fragments is legal
    frame(0, Buffer.from('ef')),
    frame(2, Buffer.alloc(300, 1)),
    frame(2, big),
  ]);
  for (let i = 0; i < all.length; i += 777) client.write(all.subarray(i, i + 777));
  await until(() => pieces.reduce((n, p) => n + p.data.length, 0) === 6 + 300 + 70000, 'all bytes');
  const msgs: Buffer[] = [];
  let cur: Buffer[] = [];
  for (const p of pieces) {
    if (p.first) cur = [];
    cur.push(p.data);
    if (p.last) msgs.push(Buffer.concat(cur));
  }
  assert.is(msgs.length, 3);
  assert.is(msgs[0]!.toString(), 'abcdef');
  assert.is(msgs[1]!.length, 300);
  assert.ok(msgs[2]!.equals(big));
  assert.ok(
    pieces.filter((p) => p.data.length && p.data[0] === 0x5a).length > 1,
    'the 70000-byte message arrived in pieces',
  );
  client.destroy();
  close();
});

test('~> ping gets a pong with the same payload; send() writes [header][prefix][payload]', async () => {
  const { ep, client, got, close } = await pair();
  client.write(frame(9, Buffer.from('hi')));
  await until(() => got().length >= 4, 'pong');
  assert.equal([...got().subarray(0, 4)], [0x8a, 2, 0x68, 0x69]);
  ep.send(2, Buffer.from([1]), Buffer.from('xyz'));
  await until(() => got().length >= 10, 'data');
  assert.equal([...got().subarray(4, 10)], [0x82, 4, 1, 0x78, 0x79, 0x7a]);
  client.destroy();
  close();
});

test('~> close(1000) sends the code and waits for the peer close frame before ending', async () => {
  const { ep, client, got, close } = await pair();
  let code = 0;
  ep.on('close', (c: number) => (code = c));
  let ended = false;
  client.on('end', () => (ended = true));
  ep.close(1000);
  await until(() => got().length >= 4, 'close frame');
  assert.equal([...got().subarray(0, 4)], [0x88, 2, 0x03, 0xe8]);
  await new Promise((r) => setTimeout(r, 50));
  assert.not.ok(ended, 'still open until the peer answers');
  client.write(frame(8, Buffer.from([0x03, 0xe8])));
  await until(() => ended && code === 1000, 'ended after the peer close');
  close();
});

test('~> a peer close is echoed; an unmasked client frame is a 1002; too big is a 1009', async () => {
  let p = await pair();
  p.client.write(frame(8, Buffer.from([0x03, 0xe9])));
  await until(() => p.got().length >= 4, 'echo');
  assert.equal([...p.got().subarray(0, 4)], [0x88, 2, 0x03, 0xe9]);
  p.client.destroy();
  p.close();
  p = await pair();
  p.client.write(frame(2, Buffer.from('x'), { masked: false }));
  await until(() => p.got().length >= 4, '1002');
  assert.equal([...p.got().subarray(0, 4)], [0x88, 2, 0x03, 0xea]);
  p.client.destroy();
  p.close();
  p = await pair(1000);
  p.client.write(frame(2, Buffer.alloc(2000)));
  await until(() => p.got().length >= 4, '1009');
  assert.equal([...p.got().subarray(0, 4)], [0x88, 2, 0x03, 0xf1]);
  p.client.destroy();
  p.close();
});

test('~> pause() holds back buffered frames until resume()', async () => {
  const { ep, client, close } = await pair();
  const got: string[] = [];
  ep.on('data', (_op: number, d: Buffer) => {
    got.push(d.toString());
    if (got.length === 1) ep.pause();
  });
  client.write(Buffer.concat([frame(2, Buffer.from('one')), frame(2, Buffer.from('two'))]));
  await until(() => got.length === 1, 'first');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(got, ['one']);
  ep.resume();
  await until(() => got.length === 2, 'second');
  assert.equal(got, ['one', 'two']);
  client.destroy();
  close();
});

test.run();
