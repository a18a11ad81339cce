/**
 * @module engine/dns/packet
 * The DNS wire format (RFC 1035 section 4, EDNS0 RFC 6891), pure: bytes in, bytes out, no I/O.
 * Parsing is bounded: a message is read within its own length, a name has at most 255 octets
 * and follows at most {@link MAX_POINTERS} compression pointers (each strictly backwards, so a
 * loop cannot be built), and nothing is allocated in proportion to a count field a sender claims.
 * A malformed message is a {@link DnsFormatError}: the server answers FORMERR when the header
 * (the ID) could be read, and drops the packet otherwise (RFC 1035 4.1.1).
 */

export const TYPE_A = 1;
export const TYPE_CNAME = 5;
export const TYPE_SOA = 6;
export const TYPE_PTR = 12;
export const TYPE_MX = 15;
export const TYPE_AAAA = 28;
export const TYPE_OPT = 41;
export const CLASS_IN = 1;

export const RCODE_NOERROR = 0;
export const RCODE_FORMERR = 1;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;
export const RCODE_NOTIMP = 4;
export const RCODE_REFUSED = 5;

/** Plain DNS over UDP without EDNS (RFC 1035 4.2.1); miekg/dns MinMsgSize. */
export const MIN_UDP_SIZE = 512;
/** The largest EDNS UDP size answered (DNS flag day 2020 recommends 1232; 4096 is the classic cap). */
export const MAX_UDP_SIZE = 4096;
const HEADER = 12;
const MAX_NAME = 255;
const MAX_POINTERS = 32;

export class DnsFormatError extends Error {
  /** The ID of the message when its header was complete (then a FORMERR can be sent). */
  constructor(
    message: string,
    readonly id?: number,
  ) {
    super(message);
    this.name = 'DnsFormatError';
  }
}

export interface Question {
  /** Lower-cased, without the trailing dot ('' is the root). */
  name: string;
  type: number;
  class: number;
}

export interface Query {
  id: number;
  opcode: number;
  /** Recursion desired: copied into the answer. */
  rd: boolean;
  /** Checking disabled (RFC 4035): copied too, as resolvers do. */
  cd: boolean;
  question: Question;
  /** The raw question section (name + type + class), echoed byte-exact in answers (0x20 case). */
  rawQuestion: Buffer;
  /** The EDNS0 UDP payload size the client accepts, or undefined without an OPT record. */
  udpSize?: number;
}

/** A resource record of an answer kuber-api makes itself. */
export type Answer =
  | { type: typeof TYPE_A; name: string; ttl: number; address: string }
  | { type: typeof TYPE_AAAA; name: string; ttl: number; address: string }
  | { type: typeof TYPE_PTR; name: string; ttl: number; target: string }
  | { type: typeof TYPE_CNAME; name: string; ttl: number; target: string };

/** Read a (possibly compressed) name at `off`; returns it lower-cased and the offset after it. */
export function readName(buf: Buffer, off: number, id?: number): { name: string; next: number } {
  const labels: string[] = [];
  let length = 0;
  let pos = off;
  let next = -1;
  for (let jumps = 0; ;) {
    if (pos >= buf.length) throw new DnsFormatError('name runs past the end of the message', id);
    const len = buf[pos]!;
    if (len === 0) {
      if (next < 0) next = pos + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= buf.length) throw new DnsFormatError('truncated compression pointer', id);
      const target = ((len & 0x3f) << 8) | buf[pos + 1]!;
      // Only backwards: every pointer lands before the previous one, so loops are impossible.
      if (target >= pos || ++jumps > MAX_POINTERS) throw new DnsFormatError('bad compression pointer', id);
      if (next < 0) next = pos + 2;
      pos = target;
      continue;
    }
    if (kind !== 0) throw new DnsFormatError('unsupported label type', id);
    if (pos + 1 + len > buf.length) throw new DnsFormatError('label runs past the end of the message', id);
    length += len + 1;
    if (length > MAX_NAME) throw new DnsFormatError('name longer than 255 octets', id);
    labels.push(buf.toString('latin1', pos + 1, pos + 1 + len).toLowerCase());
    pos += 1 + len;
  }
  return { name: labels.join('.'), next };
}

/** Skip a name without decoding it (for records of no interest). */
function skipName(buf: Buffer, off: number, id?: number): number {
  return readName(buf, off, id).next;
}

/**
 * Parse a query: exactly one question (RFC 9619: QDCOUNT other than 1 is FORMERR), QR clear.
 * The additional section is read only for an OPT record (the client's UDP size).
 */
export function parseQuery(buf: Buffer): Query {
  if (buf.length < HEADER) throw new DnsFormatError('message shorter than a header');
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if (flags & 0x8000) throw new DnsFormatError('not a query (QR set)', id);
  const opcode = (flags >> 11) & 0xf;
  const qd = buf.readUInt16BE(4);
  if (qd !== 1) throw new DnsFormatError(`${qd} questions`, id);
  const an = buf.readUInt16BE(6),
    ns = buf.readUInt16BE(8),
    ar = buf.readUInt16BE(10);
  const { name, next } = readName(buf, HEADER, id);
  if (next + 4 > buf.length) throw new DnsFormatError('question runs past the end of the message', id);
  const question = { name, type: buf.readUInt16BE(next), class: buf.readUInt16BE(next + 2) };
  const rawQuestion = buf.subarray(HEADER, next + 4);
  let pos = next + 4;
  let udpSize: number | undefined;
  // Walk the other sections within the message's length: each record costs at least 11 bytes, so
  // the loop is bounded by the message size whatever the counts say.
  for (let i = 0; i < an + ns + ar; i++) {
    pos = skipName(buf, pos, id);
    if (pos + 10 > buf.length) throw new DnsFormatError('record runs past the end of the message', id);
    const type = buf.readUInt16BE(pos);
    const rdlen = buf.readUInt16BE(pos + 8);
    if (i >= an + ns && type === TYPE_OPT) udpSize = buf.readUInt16BE(pos + 2);
    pos += 10 + rdlen;
    if (pos > buf.length) throw new DnsFormatError('record data runs past the end of the message', id);
  }
  return {
    id,
    opcode,
    rd: !!(flags & 0x0100),
    cd: !!(flags & 0x0010),
    question,
    rawQuestion: Buffer.from(rawQuestion),
    ...(udpSize !== undefined ? { udpSize } : {}),
  };
}

/** The largest answer a client takes: 64 KiB over TCP; over UDP its EDNS size, at least 512. */
export function maxAnswerSize(q: Query, tcp: boolean): number {
  if (tcp) return 65535;
  return Math.min(MAX_UDP_SIZE, Math.max(MIN_UDP_SIZE, q.udpSize ?? 0));
}

function encodeName(name: string): Buffer {
  const parts = name
    .replace(/\.$/, '')
    .split('.')
    .filter((l) => l.length);
  const out: Buffer[] = [];
  for (const p of parts) {
    const b = Buffer.from(p, 'latin1');
    if (b.length > 63) throw new DnsFormatError(`label longer than 63 octets: ${p}`);
    out.push(Buffer.from([b.length]), b);
  }
  out.push(Buffer.from([0]));
  return Buffer.concat(out);
}

function ipv4Bytes(a: string): Buffer {
  return Buffer.from(a.split('.').map((x) => Number(x)));
}

/** An IPv6 address in hex-and-colons form (with `::`; pod IPs have no dotted tail) as 16 bytes. */
export function ipv6Bytes(a: string): Buffer {
  const [head, rest] = a.includes('::') ? (a.split('::') as [string, string]) : [a, undefined];
  const h = head ? head.split(':') : [];
  const r = rest ? rest.split(':') : [];
  const words = [...h, ...Array<string>(rest !== undefined ? 8 - h.length - r.length : 0).fill('0'), ...r].map(
    (x) => parseInt(x, 16) || 0,
  );
  const out = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(words[i] ?? 0, i * 2);
  return out;
}

function encodeAnswer(a: Answer, question: string): Buffer {
  // The owner name: a pointer to the question (offset 12) when it is the question's name.
  const owner = a.name.toLowerCase().replace(/\.$/, '') === question ? Buffer.from([0xc0, HEADER]) : encodeName(a.name);
  const rdata =
    a.type === TYPE_A ? ipv4Bytes(a.address) : a.type === TYPE_AAAA ? ipv6Bytes(a.address) : encodeName(a.target);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(a.type, 0);
  fixed.writeUInt16BE(CLASS_IN, 2);
  fixed.writeUInt32BE(Math.max(0, Math.min(0x7fffffff, Math.floor(a.ttl))), 4);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([owner, fixed, rdata]);
}

export interface AnswerOptions {
  rcode: number;
  answers?: readonly Answer[];
  /** Authoritative answer (kuber-api is authoritative for the names it serves, as dockerd). */
  aa?: boolean;
  /** The size the answer must fit in ({@link maxAnswerSize}); beyond it, answers go and TC is set. */
  maxSize?: number;
}

/**
 * An answer to `q` (miekg/dns SetReply: same ID and opcode, RD and CD copied, RA set as dockerd's
 * createRespMsg does). Records that do not fit are dropped whole and TC is set (RFC 2181 9).
 */
export function encodeAnswerMessage(
  q: Pick<Query, 'id' | 'opcode' | 'rd' | 'cd' | 'question' | 'rawQuestion'>,
  o: AnswerOptions,
): Buffer {
  const maxSize = o.maxSize ?? 65535;
  const records: Buffer[] = [];
  let size = HEADER + q.rawQuestion.length;
  let truncated = false;
  for (const a of o.answers ?? []) {
    const r = encodeAnswer(a, q.question.name);
    if (size + r.length > maxSize) {
      truncated = true;
      break;
    }
    records.push(r);
    size += r.length;
  }
  const h = Buffer.alloc(HEADER);
  h.writeUInt16BE(q.id, 0);
  const flags =
    0x8000 |
    ((q.opcode & 0xf) << 11) |
    (o.aa ? 0x0400 : 0) |
    (truncated ? 0x0200 : 0) |
    (q.rd ? 0x0100 : 0) |
    0x0080 |
    (q.cd ? 0x0010 : 0) |
    (o.rcode & 0xf);
  h.writeUInt16BE(flags, 2);
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(records.length, 6);
  return Buffer.concat([h, q.rawQuestion, ...records]);
}

/**
 * An error answer to a message that could not be parsed but whose header was whole: the ID, the
 * opcode and RD echoed, no sections (RFC 1035 4.1.1, FORMERR).
 */
export function encodeHeaderError(raw: Buffer, rcode: number): Buffer | undefined {
  if (raw.length < HEADER) return undefined;
  const h = Buffer.alloc(HEADER);
  h.writeUInt16BE(raw.readUInt16BE(0), 0);
  const flags = raw.readUInt16BE(2);
  h.writeUInt16BE(0x8000 | (flags & 0x7900) | 0x0080 | (rcode & 0xf), 2);
  return h;
}

/** What a forwarded answer says, read for the cache: its rcode, flags and the TTLs in it. */
export interface AnswerScan {
  id: number;
  rcode: number;
  truncated: boolean;
  question?: Question;
  /** Offsets of the TTL fields of answer/authority/additional records (OPT excluded). */
  ttlOffsets: number[];
  /** The smallest TTL of the records; for a negative answer the SOA's (RFC 2308 5). */
  minTtl?: number;
  answerCount: number;
  /** End offset of the question section (to splice a client's own question in). */
  questionEnd: number;
}

/** Scan an upstream answer within its bounds (for the cache: TTLs, rcode). */
export function scanAnswer(buf: Buffer): AnswerScan {
  if (buf.length < HEADER) throw new DnsFormatError('message shorter than a header');
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if (!(flags & 0x8000)) throw new DnsFormatError('not an answer', id);
  const qd = buf.readUInt16BE(4),
    an = buf.readUInt16BE(6),
    ns = buf.readUInt16BE(8),
    ar = buf.readUInt16BE(10);
  let pos = HEADER;
  let question: Question | undefined;
  for (let i = 0; i < qd; i++) {
    const { name, next } = readName(buf, pos, id);
    if (next + 4 > buf.length) throw new DnsFormatError('question runs past the end of the message', id);
    if (!question) question = { name, type: buf.readUInt16BE(next), class: buf.readUInt16BE(next + 2) };
    pos = next + 4;
  }
  const questionEnd = pos;
  const ttlOffsets: number[] = [];
  let minTtl: number | undefined;
  let soaMin: number | undefined;
  for (let i = 0; i < an + ns + ar; i++) {
    pos = skipName(buf, pos, id);
    if (pos + 10 > buf.length) throw new DnsFormatError('record runs past the end of the message', id);
    const type = buf.readUInt16BE(pos);
    const ttl = buf.readUInt32BE(pos + 4);
    const rdlen = buf.readUInt16BE(pos + 8);
    if (pos + 10 + rdlen > buf.length) throw new DnsFormatError('record data runs past the end of the message', id);
    if (type !== TYPE_OPT) {
      ttlOffsets.push(pos + 4);
      if (i < an) minTtl = minTtl === undefined ? ttl : Math.min(minTtl, ttl);
      if (type === TYPE_SOA && i >= an && i < an + ns) {
        // Negative caching: min(SOA TTL, SOA MINIMUM) (RFC 2308 5); MINIMUM is the last 4 bytes.
        const soaMinimum = rdlen >= 4 ? buf.readUInt32BE(pos + 10 + rdlen - 4) : 0;
        soaMin = Math.min(ttl, soaMinimum);
      }
    }
    pos += 10 + rdlen;
  }
  const answerCount = an;
  return {
    id,
    rcode: flags & 0xf,
    truncated: !!(flags & 0x0200),
    ...(question ? { question } : {}),
    ttlOffsets,
    minTtl: an > 0 ? minTtl : soaMin,
    answerCount,
    questionEnd,
  };
}

/** The reverse-lookup name of a PTR query as an address (`4.3.2.1.in-addr.arpa` -> 1.2.3.4). */
export function ptrAddress(name: string): string | undefined {
  const v4 = /^((?:\d{1,3}\.){3}\d{1,3})\.in-addr\.arpa$/.exec(name);
  if (v4) {
    const parts = v4[1]!.split('.').reverse();
    return parts.every((p) => Number(p) <= 255) ? parts.map(Number).join('.') : undefined;
  }
  const v6 = /^((?:[0-9a-f]\.){32})ip6\.arpa$/.exec(name);
  if (v6) {
    const hex = v6[1]!.replace(/\./g, '').split('').reverse().join('');
    const words = hex.match(/.{4}/g)!.map((w) => w.replace(/^0+(?=.)/, ''));
    return words.join(':');
  }
  return undefined;
}

/** Canonical text of an IPv6 address (for comparing with pod IPs). */
export function canonicalIpv6(a: string): string {
  const b = ipv6Bytes(a);
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(b.readUInt16BE(i).toString(16));
  return words.join(':');
}
