/**
 * src/kube/tls-warm.ts against a local TLS server (a throwaway certificate from openssl): the
 * spare connection is the one the next connect() returns, only for its own endpoint and only while
 * open; an unused spare closes after its idle time; later connections resume the TLS session.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, createSecureContext, type Server, type TLSSocket } from 'node:tls';
import { once } from 'node:events';
import { WarmTls } from '../../src/kube/tls-warm.js';
import { selfSignedCert } from '../helpers/tls-cert.js';

const { cert, key } = selfSignedCert();

let server: Server;
let port: number;
/** Connections the server accepted, and how many have closed. */
const seen = { accepted: 0, closed: 0 };

test.before(async () => {
  server = createServer({ cert, key }, (s) => {
    seen.accepted++;
    s.on('close', () => seen.closed++);
    s.on('error', () => {});
    s.on('data', (d) => s.write(`echo:${d}`));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as { port: number }).port;
});
test.after(() => {
  server.close();
});

const opts = () => ({
  host: '127.0.0.1',
  port,
  servername: 'localhost',
  secureContext: createSecureContext({ ca: cert }),
  rejectUnauthorized: true,
});

async function echo(s: TLSSocket, what: string): Promise<string> {
  s.write(what);
  const [d] = (await once(s, 'data')) as [Buffer];
  return d.toString();
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
};

test('the spare is what the next connect() for its endpoint returns; the session is resumed after', async () => {
  const w = new WarmTls();
  w.preconnect(opts(), 10_000);
  await until(() => seen.accepted === 1);
  const s = w.connect(opts());
  assert.is(await echo(s, 'a'), 'echo:a');
  assert.is(seen.accepted, 1, 'no second connection');
  s.end();
  // The next one (no spare now) is a new connection offering the ticket the first one received.
  const s2 = w.connect(opts());
  assert.is(await echo(s2, 'b'), 'echo:b');
  assert.is(seen.accepted, 2);
  assert.ok(s2.isSessionReused(), 'TLS session resumed');
  s2.end();
});

test('a spare for another endpoint, or one the server closed, is not used; an unused spare closes', async () => {
  const w = new WarmTls();
  const before = { ...seen };
  w.preconnect({ ...opts(), host: 'localhost' }, 10_000); // the same server under another name
  await until(() => seen.accepted === before.accepted + 1);
  const s = w.connect(opts());
  assert.is(await echo(s, 'c'), 'echo:c');
  assert.is(seen.accepted, before.accepted + 2, 'a new connection');
  await until(() => seen.closed >= before.closed + 1);
  assert.ok(seen.closed >= before.closed + 1, 'the other-endpoint spare was closed');
  s.end();

  const b2 = { ...seen };
  w.preconnect(opts(), 50);
  await until(() => seen.closed >= b2.closed + 2); // s, and the spare after 50 ms
  assert.ok(seen.accepted === b2.accepted + 1 && seen.closed >= b2.closed + 2, 'the idle spare closed');
  const s3 = w.connect(opts());
  assert.is(await echo(s3, 'd'), 'echo:d');
  s3.end();
});

test('renew() replaces the spare the last connect() took, once; never one it did not take; the new one idles out', async () => {
  const w = new WarmTls();
  const before = { ...seen };
  w.renew(); // nothing taken yet
  w.preconnect(opts(), 10_000);
  await until(() => seen.accepted === before.accepted + 1);
  const s = w.connect(opts()); // takes the spare
  assert.is(seen.accepted, before.accepted + 1);
  w.renew(); // the dial is through: a new spare
  w.renew(); // once
  await until(() => seen.accepted === before.accepted + 2);
  await new Promise((r) => setTimeout(r, 50));
  assert.is(seen.accepted, before.accepted + 2, 'one replacement');
  const s2 = w.connect(opts()); // the replacement, already up
  assert.is(await echo(s2, 'e'), 'echo:e');
  assert.is(seen.accepted, before.accepted + 2, 'the next connect() used it');
  assert.ok(s2.isSessionReused(), 'the replacement resumed the session');
  // A connect() that found no spare made its own connection: renew() opens nothing.
  const s3 = w.connect(opts());
  assert.is(await echo(s3, 'f'), 'echo:f');
  w.renew();
  await new Promise((r) => setTimeout(r, 50));
  assert.is(seen.accepted, before.accepted + 3, 'no spare for a connection that was not one');
  // The replacement of a spare keeps its idle bound.
  const b2 = { ...seen };
  w.preconnect(opts(), 50);
  const s4 = w.connect(opts()); // taken while still handshaking
  w.renew();
  await until(() => seen.accepted === b2.accepted + 2);
  await until(() => seen.closed >= b2.closed + 1);
  assert.is(seen.accepted, b2.accepted + 2);
  assert.ok(seen.closed >= b2.closed + 1, 'the unused replacement closed after its idle time');
  assert.is(await echo(s4, 'g'), 'echo:g', 'the taken one is not subject to it');
  for (const x of [s, s2, s3, s4]) x.end();
});

test.run();
