/**
 * EmbeddedDns (engine/dns/embedded.ts) with a fake host: what it keeps of the cluster's
 * resolv.conf (a Pod's, or kube-dns and the ClusterFirst defaults outside one), the fallback when
 * it cannot serve (logged, no Pod DNS config), and names following membership changes at once.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { EmbeddedDns, type DnsOptions } from '../../../src/engine/dns/embedded.js';
import type { DnsHost } from '../../../src/engine/dns/host.js';
import type { TableMember } from '../../../src/engine/dns/names.js';
import { normaliseCreate, type NetworkRecord } from '../../../src/engine/networks/model.js';
import { DEFAULT_ENGINE_OPTIONS } from '../../../src/engine/engine-options.js';
import { buildQuery, decode, udpExchange } from '../../helpers/dns-client.js';

const lines: string[] = [];
const log = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
const dir = mkdtempSync(join(tmpdir(), 'kapi-dns-'));
const resolv = (text: string) => {
  const p = join(dir, `resolv-${lines.length}-${Math.random()}`);
  writeFileSync(p, text);
  return p;
};
const app: NetworkRecord = {
  id: 'a'.repeat(64),
  name: 'app',
  created: '2026-01-01T00:00:00Z',
  config: normaliseCreate({ Name: 'app' }, { isolation: false }).config,
  predefined: false,
};
const ep = (aliases: string[]) => ({
  NetworkID: app.id,
  Name: 'app',
  Aliases: aliases,
  Links: null,
  IPAMConfig: null,
  DriverOpts: null,
});

function fakeHost(opts: { kubeDns?: string; members?: TableMember[] }) {
  let members = opts.members ?? [];
  const listeners: Array<{ record?: () => void; pod?: () => void }> = [];
  const waiters: Array<() => void> = [];
  const host = {
    namespace: 'jobs',
    log,
    opts: {
      instance: 'i',
      hostGatewayIp: '127.0.0.1',
      killGraceSeconds: 2,
      defaultStopTimeout: 10,
      startTimeoutMs: 1000,
    },
    kube: {
      client: {
        get: async (path: string) =>
          path.endsWith('/kube-system/services/kube-dns') && opts.kubeDns
            ? { spec: { clusterIP: opts.kubeDns } }
            : Promise.reject(new Error('404')),
      },
    },
    index: {
      listen: (l: (typeof listeners)[number]) => void listeners.push(l),
      when: (check: () => unknown, o: { timeoutMs?: number }) =>
        new Promise((resolve, reject) => {
          const t = setTimeout(() => reject(new Error('timeout')), o.timeoutMs);
          const f = () => {
            const v = check();
            if (v !== undefined) {
              clearTimeout(t);
              resolve(v);
            } else waiters.push(f);
          };
          f();
        }),
    },
    networks: { dnsMembers: () => ({ members, nets: [app] }), onNetworksChange: () => () => {} },
  };
  const change = (next: TableMember[]) => {
    members = next;
    for (const l of listeners) l.record?.();
    for (const w of waiters.splice(0)) w();
  };
  return { host: host as unknown as DnsHost, change };
}
const options = (o: Partial<DnsOptions>): DnsOptions => ({
  ...DEFAULT_ENGINE_OPTIONS.dns,
  address: '127.0.0.1',
  port: 0,
  ...o,
});

test('~> in a Pod: the cluster search list for our namespace, its other searches and options kept, its nameservers the upstream', async () => {
  const { host } = fakeHost({});
  const dns = new EmbeddedDns(
    host,
    options({
      resolvConfPath: resolv(
        'search ci.svc.cluster.local svc.cluster.local cluster.local corp.example\nnameserver 10.96.0.10\noptions ndots:5 edns0\n',
      ),
    }),
    log,
  );
  try {
    assert.ok(await dns.start());
    assert.equal(dns.podDnsConfig(), {
      nameservers: ['127.0.0.1'],
      searches: ['jobs.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example'],
      options: [{ name: 'ndots', value: '5' }, { name: 'edns0' }],
    });
    assert.ok(lines.some((l) => l.includes('"upstream":["10.96.0.10:53"]')));
  } finally {
    dns.close();
  }
});

test('~> outside a Pod: kube-system/kube-dns is the upstream, the kubelet ClusterFirst defaults for the namespace', async () => {
  const { host } = fakeHost({ kubeDns: '10.244.7.7' });
  const dns = new EmbeddedDns(host, options({ resolvConfPath: resolv('nameserver 10.255.255.53\n') }), log);
  try {
    assert.ok(await dns.start());
    assert.equal(dns.podDnsConfig()!.searches, ['jobs.svc.cluster.local', 'svc.cluster.local', 'cluster.local']);
    assert.equal(dns.podDnsConfig()!.options, [{ name: 'ndots', value: '5' }]);
    assert.ok(lines.some((l) => l.includes('"upstream":["10.244.7.7:53"]')));
  } finally {
    dns.close();
  }
});

test('~> cannot serve (port taken, or off): false, logged, no Pod DNS config', async () => {
  const taken = createSocket('udp4');
  await new Promise<void>((r) => taken.bind(0, '127.0.0.1', r));
  try {
    const dns = new EmbeddedDns(fakeHost({}).host, options({ port: taken.address().port }), log);
    assert.is(await dns.start(), false);
    assert.is(dns.podDnsConfig(), undefined);
    assert.ok(
      lines.some((l) => /embedded DNS is off \(cannot bind 127\.0\.0\.1:\d+: .*EADDRINUSE/.test(l)),
      lines.join(''),
    );
  } finally {
    taken.close();
  }
  const off = new EmbeddedDns(fakeHost({}).host, options({ mode: 'off' }), log);
  assert.is(await off.start(), false);
  assert.ok(lines.some((l) => l.includes('embedded DNS is off (--dns-server off)')));
});

test('~> names follow membership changes at once; an unknown source is waited for (bounded)', async () => {
  const me = { rec: { id: 'b'.repeat(64), name: 'me', config: {} }, endpoints: [ep([])], ip: '127.0.0.1' };
  const { host, change } = fakeHost({ members: [] });
  const dns = new EmbeddedDns(host, options({ unknownSourceWaitMs: 2000, resolvConfPath: resolv('') }), log);
  try {
    assert.ok(await dns.start());
    // The querier (127.0.0.1) is not known yet: the answer waits until its Pod is seen.
    const pending = udpExchange('127.0.0.1', dns.port!, buildQuery('me', 1));
    setTimeout(() => change([me]), 100);
    assert.equal(
      decode((await pending)!).answers.map((a) => a.data),
      ['127.0.0.1'],
    );
    assert.is(decode((await udpExchange('127.0.0.1', dns.port!, buildQuery('later', 1)))!).rcode, 2); // not a name yet; no upstream: SERVFAIL
    change([
      me,
      { rec: { id: 'c'.repeat(64), name: 'later', config: {} }, endpoints: [ep(['late_alias'])], ip: '127.0.0.2' },
    ]);
    assert.equal(
      decode((await udpExchange('127.0.0.1', dns.port!, buildQuery('late_alias', 1)))!).answers.map((a) => a.data),
      ['127.0.0.2'],
    );
  } finally {
    dns.close();
  }
});

test.run();
