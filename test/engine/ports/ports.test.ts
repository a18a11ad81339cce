import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  bindAddresses,
  decodePorts,
  encodePorts,
  exposedPortKeys,
  inspectPorts,
  listPorts,
  normalisePortKey,
  parseHostPort,
  requestedBindings,
  validatePorts,
} from '../../../src/engine/ports/ports.js';
import { EngineError, statusFromError } from '../../../src/errors.js';
import type { CreateBody } from '../../../src/engine/model/types.js';

const status = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    assert.instance(err, EngineError);
    return { status: statusFromError(err), message: (err as Error).message };
  }
  throw new Error('expected a throw');
};

test('~> port keys normalise as moby nat.ParsePort: 80, 80/TCP -> 80/tcp; junk is a 400', () => {
  assert.is(normalisePortKey('80'), '80/tcp');
  assert.is(normalisePortKey('8080/TCP'), '8080/tcp');
  assert.is(normalisePortKey('53/udp'), '53/udp');
  assert.equal(
    status(() => normalisePortKey('http')),
    { status: 400, message: 'invalid port specification: "http"' },
  );
  assert.is(status(() => normalisePortKey('70000')).status, 400);
  assert.equal(
    status(() => normalisePortKey('80/xyz')),
    { status: 400, message: 'invalid proto: xyz' },
  );
});

test('~> host ports: empty and 0 are random, N and ranges A-B are fixed; bad values are 400', () => {
  assert.equal(parseHostPort(''), { random: true });
  assert.equal(parseHostPort('0'), { random: true });
  assert.equal(parseHostPort(undefined), { random: true });
  assert.equal(parseHostPort('18080'), { from: 18080, to: 18080 });
  assert.equal(parseHostPort('9000-9005'), { from: 9000, to: 9005 });
  assert.is(status(() => parseHostPort('9005-9000')).status, 400);
  assert.is(status(() => parseHostPort('abc')).status, 400);
});

test('~> requested bindings: PortBindings keys normalised (testcontainers sends "8080"), -P adds every exposed port', () => {
  const c: CreateBody = {
    ExposedPorts: { '8080': {}, '9090/tcp': {} },
    HostConfig: { PortBindings: { '8080': [{ HostPort: '0' }] } },
  } as CreateBody;
  assert.equal(requestedBindings(c), { '8080/tcp': [{ HostIp: '', HostPort: '0' }] });
  const all = { ...c, HostConfig: { ...c.HostConfig, PublishAllPorts: true } } as CreateBody;
  assert.equal(requestedBindings(all), {
    '8080/tcp': [{ HostIp: '', HostPort: '0' }],
    '9090/tcp': [{ HostIp: '', HostPort: '' }],
  });
  assert.equal(exposedPortKeys(c, ['7000/tcp']), ['7000/tcp', '8080/tcp', '9090/tcp']);
  // A binding list given as empty still publishes (moby: one random binding).
  assert.equal(requestedBindings({ HostConfig: { PortBindings: { '80/tcp': [] } } } as unknown as CreateBody), {
    '80/tcp': [{ HostIp: '', HostPort: '' }],
  });
});

test('~> create-time validation: UDP publishing is a 501 naming the feature; network none discards with a warning', () => {
  const udp = status(() =>
    validatePorts({ HostConfig: { PortBindings: { '53/udp': [{ HostPort: '53' }] } } } as CreateBody),
  );
  assert.is(udp.status, 501);
  assert.match(udp.message, /publishing UDP ports \(53\/udp\) is not supported by kuber-api/);
  assert.is(
    status(() => validatePorts({ HostConfig: { PortBindings: { '80/tcp': [{ HostPort: 'x' }] } } } as CreateBody))
      .status,
    400,
  );
  assert.equal(
    validatePorts({
      HostConfig: { NetworkMode: 'none', PortBindings: { '80/tcp': [{ HostPort: '80' }] } },
    } as CreateBody),
    ['kuber-api: published ports are discarded when using network mode "none"'],
  );
  assert.equal(validatePorts({ ExposedPorts: { '80/tcp': {} } } as CreateBody), []);
});

test('~> bind addresses: "" means every --publish-address, 0.0.0.0 / :: the family, anything else itself', () => {
  const pub = ['127.0.0.1', '::1'];
  assert.equal(bindAddresses('', pub), ['127.0.0.1', '::1']);
  assert.equal(bindAddresses('0.0.0.0', pub), ['127.0.0.1']);
  assert.equal(bindAddresses('::', pub), ['::1']);
  assert.equal(bindAddresses('::', ['127.0.0.1']), ['::']);
  assert.equal(bindAddresses('10.0.0.5', pub), ['10.0.0.5']);
});

test('~> views: NetworkSettings.Ports has null for exposed-only ports; list Ports one entry per binding; nothing when stopped', () => {
  const alloc = {
    '8080/tcp': [
      { HostIp: '127.0.0.1', HostPort: '32768' },
      { HostIp: '::1', HostPort: '32768' },
    ],
  };
  assert.equal(inspectPorts(['80/tcp', '8080/tcp'], alloc, true), { '80/tcp': null, '8080/tcp': alloc['8080/tcp'] });
  assert.equal(inspectPorts(['80/tcp'], alloc, false), {});
  assert.equal(listPorts(['80/tcp', '8080/tcp'], alloc, true), [
    { PrivatePort: 80, Type: 'tcp' },
    { IP: '127.0.0.1', PrivatePort: 8080, PublicPort: 32768, Type: 'tcp' },
    { IP: '::1', PrivatePort: 8080, PublicPort: 32768, Type: 'tcp' },
  ]);
  assert.equal(listPorts(['80/tcp'], alloc, false), []);
  assert.equal(decodePorts(encodePorts(alloc)), alloc);
  assert.is(decodePorts('{broken'), undefined);
});

test.run();
