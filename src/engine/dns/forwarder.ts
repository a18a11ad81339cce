/**
 * @module engine/dns/forwarder
 * What the embedded DNS does not know goes to the cluster's DNS, as dockerd forwards to the
 * host's nameservers (moby daemon/libnetwork/resolver.go `forwardExtDNS`): at most three servers
 * (`maxExtDNS`), each tried in turn while it times out, fails or answers SERVFAIL/REFUSED; the
 * first other answer is the client's (NXDOMAIN included). No answer at all is SERVFAIL. Queries
 * in flight are bounded (moby `maxConcurrent`): beyond, the answer is REFUSED. The protocol is the
 * client's: a UDP query goes out over UDP (a truncated answer is passed on, and the client asks
 * again over TCP), a TCP query over TCP (then UDP if the server refuses TCP). Answers are cached
 * (engine/dns/cache.ts).
 */
import { createSocket } from 'node:dgram';
import { connect, isIP } from 'node:net';
import { randomInt } from 'node:crypto';
import { DnsCache } from './cache.js';
import { encodeAnswerMessage, maxAnswerSize, RCODE_REFUSED, RCODE_SERVFAIL, type Query } from './packet.js';

export interface Upstream {
  host: string;
  port: number;
}

export interface ForwarderOptions {
  servers: readonly Upstream[];
  timeoutMs: number;
  maxInflight: number;
}

/** `1.2.3.4`, `1.2.3.4:5353`, `fd00::a`, `[fd00::a]:5353` -> an upstream. */
export function parseUpstream(s: string): Upstream | undefined {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (v6) return isIP(v6[1]!) ? { host: v6[1]!, port: Number(v6[2] ?? 53) } : undefined;
  if (isIP(s)) return { host: s, port: 53 };
  const v4 = /^([\d.]+):(\d+)$/.exec(s);
  return v4 && isIP(v4[1]!) ? { host: v4[1]!, port: Number(v4[2]) } : undefined;
}

/** The nameservers, search list and options of a resolv.conf (resolv.conf(5)). */
export function parseResolvConf(text: string): { nameservers: string[]; searches: string[]; options: string[] } {
  const nameservers: string[] = [];
  let searches: string[] = [];
  const options: string[] = [];
  for (const line of text.split('\n')) {
    const [k, ...v] = line
      .replace(/[#;].*$/, '')
      .trim()
      .split(/\s+/);
    if (k === 'nameserver' && v[0]) nameservers.push(v[0]);
    else if (k === 'search' || k === 'domain') searches = v.filter(Boolean);
    else if (k === 'options') options.push(...v.filter(Boolean));
  }
  return { nameservers, searches, options };
}

export class Forwarder {
  private inflight = 0;
  /** Upstream answers that failed or timed out (for the log and tests). */
  failures = 0;

  constructor(
    private readonly opts: ForwarderOptions,
    readonly cache: DnsCache,
  ) {}

  get servers(): readonly Upstream[] {
    return this.opts.servers;
  }

  /**
   * The answer to a query kuber-api does not answer itself, with the client's ID; `own` are the
   * querier's own servers (`--dns`), used instead of the cluster's.
   */
  async forward(q: Query, raw: Buffer, tcp: boolean, own?: readonly Upstream[]): Promise<Buffer> {
    const servers = own?.length ? own : this.opts.servers;
    // Keyed by EDNS too: an answer sized for an EDNS client (with its OPT record) is not one for a
    // plain 512-byte client (RFC 6891 7); and by the servers asked when they are a container's own.
    const via = own?.length ? `/${own.map((u) => `${u.host}:${u.port}`).join(',')}` : '';
    const key = `${DnsCache.key(q.question.name, q.question.type, q.question.class)}/${q.udpSize !== undefined ? 'edns' : 'plain'}${via}`;
    const hit = this.cache.get(key, q.id, q.rawQuestion);
    if (hit && hit.length <= maxAnswerSize(q, tcp)) return hit;
    if (this.inflight >= this.opts.maxInflight) return encodeAnswerMessage(q, { rcode: RCODE_REFUSED });
    this.inflight++;
    try {
      for (const server of servers.slice(0, 3)) {
        const answer = await this.exchange(server, raw, tcp).catch(() => undefined);
        if (!answer || answer.length < 12) {
          this.failures++;
          continue;
        }
        const rcode = answer[3]! & 0xf;
        if (rcode === RCODE_SERVFAIL || rcode === RCODE_REFUSED) {
          this.failures++;
          continue;
        }
        this.cache.put(key, answer);
        answer.writeUInt16BE(q.id, 0);
        return answer;
      }
      return encodeAnswerMessage(q, { rcode: RCODE_SERVFAIL });
    } finally {
      this.inflight--;
    }
  }

  /** One exchange with one server, under a fresh random ID (answers are matched on it). */
  private exchange(server: Upstream, raw: Buffer, tcp: boolean): Promise<Buffer> {
    const id = randomInt(0, 0x10000);
    const msg = Buffer.from(raw);
    msg.writeUInt16BE(id, 0);
    // A server without TCP (kube-sim's) still answers over UDP: possibly truncated, better than none.
    return tcp
      ? this.exchangeTcp(server, msg, id).catch(() => this.exchangeUdp(server, msg, id))
      : this.exchangeUdp(server, msg, id);
  }

  private exchangeUdp(server: Upstream, msg: Buffer, id: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const sock = createSocket(server.host.includes(':') ? 'udp6' : 'udp4');
      const done = (err?: Error, answer?: Buffer) => {
        clearTimeout(timer);
        sock.close();
        if (err) reject(err);
        else resolve(answer!);
      };
      const timer = setTimeout(() => done(new Error('upstream timeout')), this.opts.timeoutMs);
      sock.on('error', (err) => done(err));
      sock.on('message', (answer, rinfo) => {
        // Only the server's answer to this ID counts (RFC 5452 9.1); anything else is ignored.
        if (rinfo.port !== server.port || answer.length < 12 || answer.readUInt16BE(0) !== id) return;
        done(undefined, answer);
      });
      sock.connect(server.port, server.host, () => sock.send(msg));
    });
  }

  private exchangeTcp(server: Upstream, msg: Buffer, id: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const sock = connect({ host: server.host, port: server.port });
      let buf = Buffer.alloc(0);
      const done = (err?: Error, answer?: Buffer) => {
        clearTimeout(timer);
        sock.destroy();
        if (err) reject(err);
        else resolve(answer!);
      };
      const timer = setTimeout(() => done(new Error('upstream timeout')), this.opts.timeoutMs);
      sock.on('error', (err) => done(err));
      sock.on('connect', () => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(msg.length);
        sock.write(Buffer.concat([len, msg]));
      });
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length < 2) return;
        const n = buf.readUInt16BE(0);
        if (buf.length < 2 + n) return;
        const answer = buf.subarray(2, 2 + n);
        if (answer.length < 12 || answer.readUInt16BE(0) !== id) return done(new Error('upstream answered another ID'));
        done(undefined, Buffer.from(answer));
      });
      sock.on('end', () => done(new Error('upstream closed the connection')));
    });
  }
}
