/**
 * @module engine/dns/server
 * The embedded DNS server's sockets: UDP and TCP on one address, port 53 (RFC 1035 4.2; TCP
 * messages are length-prefixed, RFC 7766). Everything is bounded: a query larger than
 * `maxQueryBytes` is FORMERR over UDP and closes the TCP connection; each source address gets
 * `ratePerSecond` queries a second (more are dropped, as a rate-limiting resolver does, rather
 * than answered: an answer would amplify a spoofed flood); TCP connections are capped and closed
 * when idle; a TCP connection is answered one query at a time and is not read while its answer
 * waits to be written (backpressure).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../log.js';
import { encodeHeaderError, RCODE_FORMERR } from './packet.js';
import { RateLimiter } from './rate.js';
import type { Resolver } from './resolver.js';

export interface DnsServerOptions {
  address: string;
  port: number;
  maxQueryBytes: number;
  ratePerSecond: number;
  maxSources: number;
  maxTcpConnections: number;
  tcpIdleMs: number;
}

export class DnsServer {
  private udp?: UdpSocket;
  private tcp?: Server;
  readonly rate: RateLimiter;
  private readonly conns = new Set<Socket>();

  constructor(
    private readonly opts: DnsServerOptions,
    private readonly resolver: Resolver,
    private readonly log: Logger,
  ) {
    this.rate = new RateLimiter({ perSecond: opts.ratePerSecond, maxSources: opts.maxSources });
  }

  /** Bind both sockets (rejects when either cannot be bound: EACCES below 1024, EADDRINUSE...). */
  async listen(): Promise<{ address: string; port: number }> {
    // Port 0 (tests): the UDP port the kernel picked may be taken for TCP; pick again.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.bindBoth();
      } catch (err) {
        if (this.opts.port !== 0 || attempt >= 4 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      }
    }
  }

  private async bindBoth(): Promise<{ address: string; port: number }> {
    const family = this.opts.address.includes(':') ? 'udp6' : 'udp4';
    const udp = createSocket({ type: family });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind({ address: this.opts.address, port: this.opts.port, exclusive: true }, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    const port = udp.address().port;
    udp.on('error', (err) => this.log.warn({ err: err.message }, 'dns: UDP socket error'));
    udp.on('message', (msg, rinfo) => void this.onUdp(msg, rinfo.address, rinfo.port));
    this.udp = udp;
    const tcp = createServer({ pauseOnConnect: false }, (s) => this.onTcp(s));
    tcp.maxConnections = this.opts.maxTcpConnections;
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ host: this.opts.address, port, exclusive: true }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      udp.close();
      this.udp = undefined;
      throw err;
    }
    tcp.on('error', (err) => this.log.warn({ err: err.message }, 'dns: TCP listener error'));
    this.tcp = tcp;
    return { address: this.opts.address, port };
  }

  close(): void {
    this.udp?.close();
    this.tcp?.close();
    for (const c of this.conns) c.destroy();
    this.udp = undefined;
    this.tcp = undefined;
  }

  private async onUdp(msg: Buffer, address: string, port: number): Promise<void> {
    if (!this.rate.take(address)) return;
    let answer: Buffer | undefined;
    if (msg.length > this.opts.maxQueryBytes) answer = encodeHeaderError(msg, RCODE_FORMERR);
    else answer = await this.resolver.answer(msg, address, false).catch(() => undefined);
    if (answer && this.udp) this.udp.send(answer, port, address);
  }

  private onTcp(s: Socket): void {
    this.conns.add(s);
    s.setTimeout(this.opts.tcpIdleMs, () => s.destroy());
    s.on('error', () => {});
    s.on('close', () => this.conns.delete(s));
    const source = s.remoteAddress ?? '';
    let buf: Buffer = Buffer.alloc(0);
    let busy = false;
    const pump = async () => {
      if (busy) return;
      busy = true;
      s.pause();
      try {
        while (buf.length >= 2 && !s.destroyed) {
          const n = buf.readUInt16BE(0);
          if (n > this.opts.maxQueryBytes) return void s.destroy();
          if (buf.length < 2 + n) break;
          const msg = buf.subarray(2, 2 + n);
          buf = buf.subarray(2 + n);
          if (!this.rate.take(source)) continue;
          const answer = await this.resolver.answer(Buffer.from(msg), source, true).catch(() => undefined);
          if (!answer || s.destroyed) continue;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(answer.length);
          if (!s.write(Buffer.concat([len, answer]))) await drainedOrClosed(s);
        }
      } finally {
        busy = false;
        if (!s.destroyed) s.resume();
      }
    };
    s.on('data', (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      // A prefix announcing more than a query may be is refused before its bytes arrive.
      if (buf.length >= 2 && buf.readUInt16BE(0) > this.opts.maxQueryBytes) return void s.destroy();
      void pump();
    });
  }
}

/** Resolves when a full socket drains, or when it closes (then nothing more is written). */
function drainedOrClosed(s: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      s.off('drain', done);
      s.off('close', done);
      resolve();
    };
    s.on('drain', done);
    s.on('close', done);
  });
}
