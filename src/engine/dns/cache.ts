/**
 * @module engine/dns/cache
 * The forwarder's answer cache: bounded by entries and by bytes (least recently used goes first), each answer
 * kept for the smallest TTL of its records, at most `maxTtlS` (RFC 1035 7.4 / RFC 2181 8);
 * negative answers (NXDOMAIN, NODATA) for their SOA's TTL (RFC 2308 5). SERVFAIL, REFUSED and
 * truncated answers are never kept. A hit is the stored answer with the elapsed time taken off
 * every TTL, the client's ID and its own question bytes (the case it asked in, RFC 0x20 draft).
 */
import { RCODE_NOERROR, RCODE_NXDOMAIN, scanAnswer, type AnswerScan } from './packet.js';

export interface DnsCacheOptions {
  maxEntries: number;
  /** The bytes of all kept answers together (a TCP answer may be 64 KiB). */
  maxBytes: number;
  maxTtlS: number;
}

interface Entry {
  buf: Buffer;
  scan: AnswerScan;
  stored: number;
  expires: number;
}

export class DnsCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly opts: DnsCacheOptions) {}

  get size(): number {
    return this.entries.size;
  }

  /** The bytes of the kept answers. */
  get byteSize(): number {
    return this.bytes;
  }

  private drop(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.bytes -= e.buf.length;
  }

  static key(name: string, type: number, cls: number): string {
    return `${name}/${type}/${cls}`;
  }

  /** Keep an upstream answer (if it may be kept). */
  put(key: string, answer: Buffer, now = Date.now()): void {
    if (this.opts.maxEntries <= 0 || this.opts.maxTtlS <= 0 || answer.length > this.opts.maxBytes) return;
    let scan: AnswerScan;
    try {
      scan = scanAnswer(answer);
    } catch {
      return;
    }
    if (scan.truncated || (scan.rcode !== RCODE_NOERROR && scan.rcode !== RCODE_NXDOMAIN) || scan.minTtl === undefined)
      return;
    const ttl = Math.min(scan.minTtl, this.opts.maxTtlS);
    if (ttl <= 0) return;
    this.drop(key);
    this.entries.set(key, { buf: Buffer.from(answer), scan, stored: now, expires: now + ttl * 1000 });
    this.bytes += answer.length;
    while (this.entries.size > this.opts.maxEntries || this.bytes > this.opts.maxBytes)
      this.drop(this.entries.keys().next().value!);
  }

  /** A kept answer for `key` rewritten for a client (its ID, its question bytes), or undefined. */
  get(key: string, id: number, rawQuestion: Buffer, now = Date.now()): Buffer | undefined {
    const e = this.entries.get(key);
    if (!e || e.expires <= now) {
      if (e) this.drop(key);
      this.misses++;
      return undefined;
    }
    this.entries.delete(key); // most recently used last
    this.entries.set(key, e);
    this.hits++;
    const out = Buffer.from(e.buf);
    out.writeUInt16BE(id, 0);
    if (e.scan.questionEnd - 12 === rawQuestion.length) rawQuestion.copy(out, 12);
    const elapsed = Math.floor((now - e.stored) / 1000);
    for (const off of e.scan.ttlOffsets) out.writeUInt32BE(Math.max(0, out.readUInt32BE(off) - elapsed), off);
    return out;
  }
}
