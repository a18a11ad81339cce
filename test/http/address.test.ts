import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseHost, formatHost } from '../../src/http/address.js';

test("~> dockerd's -H syntax", () => {
  assert.equal(parseHost('unix:///var/run/docker.sock'), { kind: 'unix', path: '/var/run/docker.sock' });
  assert.equal(parseHost('unix://'), { kind: 'unix', path: '/tmp/kuber-api.sock' });
  assert.equal(parseHost('/tmp/x.sock'), { kind: 'unix', path: '/tmp/x.sock' });
  assert.equal(parseHost('tcp://127.0.0.1:2375'), { kind: 'tcp', host: '127.0.0.1', port: 2375 });
  assert.equal(parseHost('tcp://:2376'), { kind: 'tcp', host: '0.0.0.0', port: 2376 });
  assert.equal(parseHost('tcp://0.0.0.0'), { kind: 'tcp', host: '0.0.0.0', port: 2375 });
  assert.equal(parseHost('tcp://[::1]:0'), { kind: 'tcp', host: '::1', port: 0 });
  assert.equal(parseHost('localhost:1234'), { kind: 'tcp', host: 'localhost', port: 1234 });
  assert.equal(parseHost('tcp://host:99/'), { kind: 'tcp', host: 'host', port: 99 });
});

test('~> bad addresses are rejected', () => {
  for (const bad of ['ftp://x', 'unix://relative', 'tcp://h:99999', 'tcp://a:b:c', 'tcp://h:1/path'])
    assert.throws(() => parseHost(bad), /invalid listen address/, bad);
});

test('~> formatHost round-trips, bracketing IPv6', () => {
  for (const s of ['unix:///a/b.sock', 'tcp://127.0.0.1:2375', 'tcp://[::1]:80'])
    assert.is(formatHost(parseHost(s)), s);
});

test.run();
