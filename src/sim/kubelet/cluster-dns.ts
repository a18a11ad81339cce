/**
 * @module sim/kubelet/cluster-dns
 * kube-sim's cluster DNS, the part of CoreDNS's `kubernetes` plugin that tests need
 * (https://github.com/kubernetes/dns/blob/master/docs/specification.md, 2.3): on the pod bridge's
 * own address on the pod network (local-addresses.ts), port 53 (UDP).
 * - `<service>.<ns>.svc.cluster.local` A: a Service with a ClusterIP answers the address it has
 *   in the simulator (a selected running pod's IP: no kube-proxy here, hosts.ts serviceAddress);
 *   a headless Service answers the IPs of every running pod it selects.
 * - Another name under `cluster.local` is NXDOMAIN; AAAA of a Service is an empty answer.
 * - Anything else goes to the node's own nameservers (/etc/resolv.conf), as CoreDNS's `forward .`.
 * A `kube-system/kube-dns` Service with this address as its ClusterIP is created, as clusters
 * have it, so that clients outside the pod network (kuber-api on the node) can find it.
 * ClusterFirst pods keep the gateway as nameserver and resolve Services through /etc/hosts
 * (hosts.ts); this server is for clients that forward to the cluster DNS (kuber-api's embedded DNS).
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import type { KObject } from '../types.js';
import {
  CLASS_IN,
  encodeAnswerMessage,
  encodeHeaderError,
  parseQuery,
  RCODE_FORMERR,
  RCODE_NOERROR,
  RCODE_NXDOMAIN,
  RCODE_SERVFAIL,
  TYPE_A,
  type Query,
} from '../../engine/dns/packet.js';
import { serviceAddress } from './hosts.js';

type Obj = Record<string, any>;
const DOMAIN = 'cluster.local';
const TTL = 5;
const FORWARD_TIMEOUT_MS = 2_000;
const MAX_QUERY = 1232;

export interface ClusterDnsSource {
  service(ns: string, name: string): KObject | undefined;
  pods(ns: string): KObject[];
}

/** The addresses of `<svc>.<ns>.svc.cluster.local`, or undefined when no such Service exists. */
export function serviceAddresses(src: ClusterDnsSource, name: string): string[] | undefined {
  const m = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local$/.exec(name);
  if (!m) return undefined;
  const svc = src.service(m[2]!, m[1]!);
  if (!svc) return undefined;
  const spec = (svc as Obj).spec ?? {};
  const pods = src.pods(m[2]!);
  if (spec.clusterIP === 'None') {
    const sel: Record<string, string> = spec.selector ?? {};
    const keys = Object.keys(sel);
    return pods
      .filter((p) => {
        const st = (p as Obj).status ?? {};
        return (
          keys.length > 0 &&
          !p.metadata.deletionTimestamp &&
          st.phase === 'Running' &&
          st.podIP &&
          keys.every((k) => p.metadata.labels?.[k] === sel[k])
        );
      })
      .map((p) => (p as Obj).status.podIP as string);
  }
  const ip = serviceAddress(svc, pods);
  return ip ? [ip] : [];
}

export class ClusterDns {
  private sock?: Socket;
  private readonly upstream: string | undefined;

  constructor(private readonly src: ClusterDnsSource) {
    try {
      this.upstream = /^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)/m.exec(readFileSync('/etc/resolv.conf', 'utf8'))?.[1];
    } catch {
      this.upstream = undefined;
    }
  }

  async listen(address: string, port = 53): Promise<void> {
    const sock = createSocket({ type: 'udp4' });
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ address, port, exclusive: true }, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    sock.on('error', () => {});
    sock.on('message', (msg, r) => void this.answer(msg).then((a) => a && this.sock?.send(a, r.port, r.address)));
    this.sock = sock;
  }

  close(): void {
    this.sock?.close();
    this.sock = undefined;
  }

  async answer(raw: Buffer): Promise<Buffer | undefined> {
    if (raw.length > MAX_QUERY) return encodeHeaderError(raw, RCODE_FORMERR);
    let q: Query;
    try {
      q = parseQuery(raw);
    } catch {
      return encodeHeaderError(raw, RCODE_FORMERR);
    }
    const name = q.question.name;
    if (q.question.class === CLASS_IN && (name === DOMAIN || name.endsWith(`.${DOMAIN}`))) {
      const ips = serviceAddresses(this.src, name);
      if (!ips) return encodeAnswerMessage(q, { rcode: RCODE_NXDOMAIN, aa: true });
      const answers =
        q.question.type === TYPE_A ? ips.map((address) => ({ type: TYPE_A, name, ttl: TTL, address }) as const) : [];
      return encodeAnswerMessage(q, { rcode: RCODE_NOERROR, aa: true, answers });
    }
    return this.forward(q, raw);
  }

  private forward(q: Query, raw: Buffer): Promise<Buffer> {
    const fail = encodeAnswerMessage(q, { rcode: RCODE_SERVFAIL });
    const upstream = this.upstream;
    if (!upstream) return Promise.resolve(fail);
    return new Promise((resolve) => {
      const s = createSocket('udp4');
      const done = (b: Buffer) => {
        clearTimeout(t);
        s.close();
        resolve(b);
      };
      const t = setTimeout(() => done(fail), FORWARD_TIMEOUT_MS);
      s.on('error', () => done(fail));
      s.on('message', (m) => m.length >= 12 && m.readUInt16BE(0) === q.id && done(m));
      s.send(raw, 53, upstream);
    });
  }
}
