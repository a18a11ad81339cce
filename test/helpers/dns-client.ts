/**
 * A minimal DNS client for tests: build a query, send it over UDP or TCP, read the answer's
 * records (A, AAAA, PTR) with engine/dns/packet.ts's bounded name reader.
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { readName } from '../../src/engine/dns/packet.js';

export function buildQuery(
  name: string,
  type: number,
  opts: { id?: number; rd?: boolean; udpSize?: number } = {},
): Buffer {
  const labels = name
    .split('.')
    .filter(Boolean)
    .map((l) => Buffer.concat([Buffer.from([Buffer.byteLength(l, 'latin1')]), Buffer.from(l, 'latin1')]));
  const h = Buffer.alloc(12);
  h.writeUInt16BE(opts.id ?? 0x1234, 0);
  h.writeUInt16BE(opts.rd === false ? 0 : 0x0100, 2);
  h.writeUInt16BE(1, 4);
  const q = Buffer.concat([...labels, Buffer.from([0]), Buffer.from([type >> 8, type & 0xff, 0, 1])]);
  if (opts.udpSize === undefined) return Buffer.concat([h, q]);
  h.writeUInt16BE(1, 10);
  const opt = Buffer.from([0, 0, 41, opts.udpSize >> 8, opts.udpSize & 0xff, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([h, q, opt]);
}

export interface Decoded {
  id: number;
  rcode: number;
  aa: boolean;
  tc: boolean;
  ra: boolean;
  question: string;
  answers: Array<{ name: string; type: number; ttl: number; data: string }>;
}

export function decode(buf: Buffer): Decoded {
  const flags = buf.readUInt16BE(2);
  const qd = buf.readUInt16BE(4),
    an = buf.readUInt16BE(6);
  let pos = 12;
  let question = '';
  for (let i = 0; i < qd; i++) {
    const r = readName(buf, pos);
    question = r.name;
    pos = r.next + 4;
  }
  const answers: Decoded['answers'] = [];
  for (let i = 0; i < an; i++) {
    const r = readName(buf, pos);
    const type = buf.readUInt16BE(r.next),
      ttl = buf.readUInt32BE(r.next + 4),
      len = buf.readUInt16BE(r.next + 8);
    const at = r.next + 10;
    const rd = buf.subarray(at, at + len);
    const data =
      type === 1
        ? [...rd].join('.')
        : type === 28
          ? Array.from({ length: 8 }, (_, k) => rd.readUInt16BE(k * 2).toString(16)).join(':')
          : type === 12 || type === 5
            ? readName(buf, at).name
            : rd.toString('hex');
    answers.push({ name: r.name, type, ttl, data });
    pos = at + len;
  }
  return {
    id: buf.readUInt16BE(0),
    rcode: flags & 0xf,
    aa: !!(flags & 0x400),
    tc: !!(flags & 0x200),
    ra: !!(flags & 0x80),
    question,
    answers,
  };
}

export function udpExchange(host: string, port: number, msg: Buffer, timeoutMs = 3000): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const t = setTimeout(() => {
      s.close();
      resolve(undefined);
    }, timeoutMs);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(m);
    });
    s.send(msg, port, host);
  });
}

export function tcpExchange(host: string, port: number, msg: Buffer, timeoutMs = 3000): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    let buf = Buffer.alloc(0);
    const t = setTimeout(() => {
      s.destroy();
      resolve(undefined);
    }, timeoutMs);
    s.on('error', () => {
      clearTimeout(t);
      resolve(undefined);
    });
    s.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(msg.length);
      s.write(Buffer.concat([len, msg]));
    });
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(t);
        s.destroy();
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
    s.on('close', () => {
      clearTimeout(t);
      resolve(undefined);
    });
  });
}
