/**
 * @module engine/dns/resolver
 * One query in, one answer out (moby daemon/libnetwork/resolver.go `serveDNS`): A and AAAA from
 * the name table, PTR for container addresses, MX of a container name empty, everything else (and every name the table does
 * not hold) forwarded, to the querier's own `--dns` servers when it has some. Answers made here carry TTL 600 (moby `respTTL`), RA set, and are cut to
 * what the client takes (512 bytes, its EDNS size, or 64 KiB over TCP) with TC set. A message
 * that cannot be parsed is FORMERR when its ID could be read and dropped otherwise; an opcode
 * other than QUERY is NOTIMP.
 */
import type { Logger } from '../../log.js';
import { parseUpstream, type Forwarder, type Upstream } from './forwarder.js';
import type { NameTable } from './names.js';
import {
  CLASS_IN,
  DnsFormatError,
  encodeAnswerMessage,
  encodeHeaderError,
  maxAnswerSize,
  parseQuery,
  ptrAddress,
  RCODE_FORMERR,
  RCODE_NOERROR,
  RCODE_NOTIMP,
  RCODE_SERVFAIL,
  TYPE_A,
  TYPE_AAAA,
  TYPE_CNAME,
  TYPE_MX,
  TYPE_PTR,
  type Answer,
  type Query,
} from './packet.js';

/** moby resolver.go respTTL. */
export const LOCAL_TTL = 600;

export interface ResolverStats {
  queries: number;
  local: number;
  forwarded: number;
  malformed: number;
}

export class Resolver {
  readonly stats: ResolverStats = { queries: 0, local: 0, forwarded: 0, malformed: 0 };

  constructor(
    private readonly table: () => NameTable,
    private readonly forwarder: Forwarder | undefined,
    private readonly log: Logger,
    /** Wait (bounded) for an unknown source to become a known container before answering it. */
    private readonly awaitSource: (source: string) => Promise<void> = async () => {},
  ) {}

  /** The answer to `raw` from `source` (undefined: nothing to send). */
  async answer(raw: Buffer, source: string, tcp: boolean): Promise<Buffer | undefined> {
    this.stats.queries++;
    let q: Query;
    try {
      q = parseQuery(raw);
    } catch (err) {
      this.stats.malformed++;
      if (!(err instanceof DnsFormatError) || err.id === undefined) return undefined;
      return encodeHeaderError(raw, RCODE_FORMERR);
    }
    if (q.opcode !== 0) return encodeAnswerMessage(q, { rcode: RCODE_NOTIMP });
    const lookup = q.question.class === CLASS_IN && [TYPE_A, TYPE_AAAA, TYPE_PTR, TYPE_MX].includes(q.question.type);
    if (lookup && !this.table().knows(source)) await this.awaitSource(source);
    const local = lookup ? this.local(q, source) : undefined;
    if (local) {
      this.stats.local++;
      return encodeAnswerMessage(q, { rcode: RCODE_NOERROR, answers: local, maxSize: maxAnswerSize(q, tcp) });
    }
    const own = this.table()
      .upstreamOf(source)
      ?.map(parseUpstream)
      .filter((u): u is Upstream => !!u);
    if (!this.forwarder || (!this.forwarder.servers.length && !own?.length))
      return encodeAnswerMessage(q, { rcode: RCODE_SERVFAIL });
    this.stats.forwarded++;
    return this.forwarder.forward(q, raw, tcp, own).catch((err: Error) => {
      this.log.warn({ err: err.message, name: q.question.name }, 'dns: forwarding failed');
      return encodeAnswerMessage(q, { rcode: RCODE_SERVFAIL });
    });
  }

  /** The records kuber-api answers itself, or undefined (forward). */
  private local(q: Query, source: string): Answer[] | undefined {
    const { name, type } = q.question;
    if (type === TYPE_A || type === TYPE_AAAA) {
      const r = this.table().resolveName(source, name, type === TYPE_A ? 4 : 6);
      if (r.kind !== 'addresses') return undefined;
      const owner = r.canonical ?? name;
      const records = r.addresses.map((address) => ({ type, name: owner, ttl: LOCAL_TTL, address }) as Answer);
      return r.canonical ? [{ type: TYPE_CNAME, name, ttl: LOCAL_TTL, target: r.canonical }, ...records] : records;
    }
    if (type === TYPE_MX) {
      // moby handleMXQuery: a local name has no MX; an empty NOERROR lets mail clients fall back
      // to its address ("implicit MX", RFC 5321 5.1).
      const t = this.table();
      const has = (f: 4 | 6) => {
        const r = t.resolveName(source, name, f);
        return r.kind === 'addresses' && r.addresses.length > 0;
      };
      return has(4) || has(6) ? [] : undefined;
    }
    if (type === TYPE_PTR) {
      const addr = ptrAddress(name);
      const r = addr ? this.table().resolveAddress(source, addr) : undefined;
      if (r?.kind !== 'ptr') return undefined;
      return [{ type: TYPE_PTR, name, ttl: LOCAL_TTL, target: r.name }];
    }
    return undefined;
  }
}
