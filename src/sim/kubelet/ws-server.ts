/**
 * @module sim/kubelet/ws-server
 * A small RFC 6455 server endpoint for the streaming subresources, on the raw socket the apiserver
 * hands over. Why not `ws` here: without its native `bufferutil` (we take no native dependencies)
 * `ws` unmasks client frames one byte at a time (~100-300 MB/s), which would make kube-sim, not
 * kuber-api, the limit for stdin uploads; and every outgoing channel message would cost a copy to
 * prepend the channel byte. This endpoint unmasks a 32-bit word at a time, streams the payload of
 * large frames as it arrives (no 1 MiB reassembly), and writes [header + channel byte] and the
 * payload with cork/uncork (no copy of the payload).
 *
 * Covered: handshake (RFC 6455 §4.2: Sec-WebSocket-Key/Accept, version 13, the chosen subprotocol
 * echoed), masked client frames (unmasked ones are a 1002 protocol error), fragmentation,
 * ping -> pong (auto), close handshake (our close(1000) waits for the peer's close frame, as the
 * apiserver's finish() does; a peer's close is echoed), max message size (1009), backpressure
 * (`bufferedAmount` = socket write queue, 'drain', pause/resume of reading).
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'; // RFC 6455 §1.3
const EMPTY = Buffer.alloc(0);

export interface HandshakeError {
  status: number;
  message: string;
  headers?: Record<string, string>;
}

/** Validate the upgrade request (RFC 6455 §4.2.1); undefined when it is a valid WebSocket handshake. */
export function handshakeError(req: IncomingMessage): HandshakeError | undefined {
  if (req.method !== 'GET') return { status: 400, message: 'WebSocket upgrades must use GET' };
  const key = String(req.headers['sec-websocket-key'] ?? '');
  if (!/^[A-Za-z0-9+/]{22}==$/.test(key)) return { status: 400, message: 'missing or invalid Sec-WebSocket-Key' };
  if (req.headers['sec-websocket-version'] !== '13')
    return { status: 426, message: 'unsupported WebSocket version', headers: { 'Sec-WebSocket-Version': '13' } };
  return undefined;
}

/** Answer 101 Switching Protocols with the chosen subprotocol ('' = none). */
export function acceptHandshake(req: IncomingMessage, socket: Duplex, protocol: string): void {
  const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}${GUID}`).digest('base64');
  const lines = [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${accept}`,
  ];
  if (protocol) lines.push(`Sec-WebSocket-Protocol: ${protocol}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
}

/** XOR `buf` with the 4-byte mask, `buf[0]` being payload byte `pos`: 32 bits at a time where aligned. */
export function unmask(buf: Buffer, mask: Buffer, pos: number): void {
  const n = buf.length;
  let i = 0;
  const lead = Math.min(n, (4 - (buf.byteOffset & 3)) & 3);
  for (; i < lead; i++) buf[i]! ^= mask[(pos + i) & 3]!;
  const words = (n - i) >> 2;
  if (words) {
    const p = pos + i;
    const m32 = mask[p & 3]! | (mask[(p + 1) & 3]! << 8) | (mask[(p + 2) & 3]! << 16) | (mask[(p + 3) & 3]! << 24);
    const u = new Int32Array(buf.buffer, buf.byteOffset + i, words);
    for (let k = 0; k < words; k++) u[k]! ^= m32;
    i += words << 2;
  }
  for (; i < n; i++) buf[i]! ^= mask[(pos + i) & 3]!;
}

function header(opcode: number, length: number, extra = 0): Buffer {
  const total = length + extra;
  const h = Buffer.allocUnsafe((total < 126 ? 2 : total < 65536 ? 4 : 10) + extra);
  h[0] = 0x80 | opcode;
  if (total < 126) h[1] = total;
  else if (total < 65536) {
    h[1] = 126;
    h.writeUInt16BE(total, 2);
  } else {
    h[1] = 127;
    h.writeUInt32BE(Math.floor(total / 2 ** 32), 2);
    h.writeUInt32BE(total >>> 0, 6);
  }
  return h;
}

/**
 * Events: 'data' (opcode, piece: Buffer, first: boolean, last: boolean) for data frames, delivered
 * as the bytes arrive; 'close' (code) once, when the connection is gone.
 */
export class WsEndpoint extends EventEmitter {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Payload bytes still expected for the current frame, its mask, and the position in it. */
  private left = 0;
  private mask = Buffer.alloc(4);
  private pos = 0;
  private opcode = 0;
  private fin = false;
  /** The current message's data opcode (for continuation frames) and size so far. */
  private msgOpcode = 0;
  private msgSize = 0;
  private firstPiece = true;
  private control: Buffer[] | undefined;
  private closeSent = false;
  private closed = false;
  private closeTimer: NodeJS.Timeout | undefined;
  private paused = false;

  constructor(
    readonly socket: Duplex,
    head: Buffer,
    private readonly maxMessage = 64 << 20,
  ) {
    super();
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('close', () => this.onClosed(1006));
    socket.on('error', () => this.onClosed(1006));
    socket.on('end', () => {
      // The peer half-closed without a close frame: nothing more will come, finish our side too.
      socket.end();
      this.onClosed(1006);
    });
    socket.on('drain', () => this.emit('drain'));
    if (head.length) queueMicrotask(() => this.onData(head));
  }

  /** Bytes handed to the socket but not yet written to the kernel. */
  get bufferedAmount(): number {
    return (this.socket as Duplex & { writableLength: number }).writableLength ?? 0;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** One data frame; `prefix` (e.g. the channel byte) goes with the header, `payload` is not copied. */
  send(opcode: 1 | 2, prefix: Buffer | undefined, payload: Buffer): void {
    if (this.closed || this.closeSent) return;
    const extra = prefix?.length ?? 0;
    const h = header(opcode, payload.length, extra);
    if (prefix) prefix.copy(h, h.length - extra);
    if (!payload.length) {
      this.socket.write(h);
      return;
    }
    this.socket.cork();
    this.socket.write(h);
    this.socket.write(payload);
    process.nextTick(() => this.socket.uncork());
  }

  /** Start the close handshake; the socket ends when the peer answers (or after 30 s). */
  close(code = 1000): void {
    if (this.closed || this.closeSent) return;
    this.closeSent = true;
    const body = Buffer.from([code >> 8, code & 255]);
    this.socket.write(Buffer.concat([header(8, 2), body]));
    this.closeTimer = setTimeout(() => this.socket.destroy(), 30_000);
    this.closeTimer.unref?.();
  }

  /** Drop the connection without a close handshake. */
  terminate(): void {
    this.socket.destroy();
    this.onClosed(1006);
  }

  pause(): void {
    if (!this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  resume(): void {
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
      // Frames already buffered while paused.
      if (this.buffered) queueMicrotask(() => this.onData(EMPTY));
    }
  }

  private onClosed(code: number): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.closeTimer);
    this.emit('close', code);
  }

  private fail(code: number): void {
    if (!this.closeSent) this.close(code);
    this.socket.end();
    this.onClosed(code);
  }

  private take(n: number): Buffer {
    // Precondition: buffered >= n.
    const first = this.chunks[0]!;
    if (first.length >= n) {
      this.chunks[0] = first.subarray(n);
      if (!this.chunks[0].length) this.chunks.shift();
      this.buffered -= n;
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let o = 0;
    while (o < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - o);
      c.copy(out, o, 0, k);
      o += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= n;
    return out;
  }

  private peek(n: number): Buffer | undefined {
    if (this.buffered < n) return undefined;
    if (this.chunks[0]!.length >= n) return this.chunks[0]!.subarray(0, n);
    return Buffer.concat(this.chunks, this.buffered).subarray(0, n);
  }

  private onData(d: Buffer): void {
    if (this.closed) return;
    if (d.length) {
      this.chunks.push(d);
      this.buffered += d.length;
    }
    while (!this.closed && !this.paused) {
      if (this.left > 0) {
        // Payload: hand it on as it arrives, unmasked in place (we own the socket's buffers).
        if (!this.buffered) return;
        const piece = this.take(Math.min(this.left, this.chunks[0]!.length));
        unmask(piece, this.mask, this.pos);
        this.pos += piece.length;
        this.left -= piece.length;
        if (this.control) {
          this.control.push(piece);
          if (!this.left) this.onControl(Buffer.concat(this.control));
        } else this.deliver(piece, this.fin && this.left === 0);
        continue;
      }
      // Frame header (RFC 6455 §5.2).
      const h2 = this.peek(2);
      if (!h2) return;
      const b0 = h2[0]!,
        b1 = h2[1]!;
      if (!(b1 & 0x80)) return this.fail(1002); // client frames must be masked (§5.1)
      let len = b1 & 0x7f;
      const hlen = len === 126 ? 4 : len === 127 ? 10 : 2;
      const h = this.peek(hlen + 4);
      if (!h) return;
      if (len === 126) len = h.readUInt16BE(2);
      else if (len === 127) len = h.readUInt32BE(2) * 2 ** 32 + h.readUInt32BE(6);
      this.mask = Buffer.from(h.subarray(hlen, hlen + 4));
      this.take(hlen + 4);
      this.fin = !!(b0 & 0x80);
      this.opcode = b0 & 0x0f;
      this.pos = 0;
      this.left = len;
      if (b0 & 0x70) return this.fail(1002); // no extension was negotiated
      if (this.opcode >= 8) {
        if (len > 125 || !this.fin) return this.fail(1002);
        this.control = [];
        if (len === 0) this.onControl(Buffer.alloc(0));
        continue;
      }
      this.control = undefined;
      if (this.opcode === 0) {
        if (!this.msgOpcode) return this.fail(1002); // continuation without a message
      } else if (this.opcode === 1 || this.opcode === 2) {
        if (this.msgOpcode) return this.fail(1002); // a new message inside a fragmented one
        this.msgOpcode = this.opcode;
        this.msgSize = 0;
        this.firstPiece = true;
      } else return this.fail(1002);
      this.msgSize += len;
      if (this.msgSize > this.maxMessage) return this.fail(1009);
      if (len === 0) this.deliver(Buffer.alloc(0), this.fin);
    }
  }

  private deliver(piece: Buffer, last: boolean): void {
    const first = this.firstPiece;
    this.firstPiece = last;
    const op = this.msgOpcode;
    if (last) this.msgOpcode = 0;
    this.emit('data', op, piece, first, last);
  }

  private onControl(payload: Buffer): void {
    const op = this.opcode;
    this.control = undefined;
    if (op === 9) {
      // Ping: answer with a pong carrying the same payload (RFC 6455 §5.5.2).
      if (!this.closeSent) this.socket.write(Buffer.concat([header(10, payload.length), payload]));
    } else if (op === 8) {
      const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      if (!this.closeSent) {
        this.closeSent = true;
        this.socket.write(
          Buffer.concat([header(8, payload.length >= 2 ? 2 : 0), payload.subarray(0, payload.length >= 2 ? 2 : 0)]),
        );
      }
      this.socket.end();
      this.onClosed(code);
    } else if (op !== 10) this.fail(1002);
  }
}
