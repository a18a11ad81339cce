/**
 * `__proto__` keys from outside stay data (issue 14: the prototype-key spots): untrusted JSON
 * drops them, maps built from outside keys define them as own properties, and the engine's spots
 * (image ExposedPorts merged into a create, NetworkSettings.Networks by network name, an image
 * config from a registry) never change an object's prototype.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mergeImageConfig } from '../../../src/engine/images/config.js';
import { parseUntrusted, setOwn } from '../../../src/engine/model/own-keys.js';
import { networksView, type Endpoint } from '../../../src/engine/networks/endpoints.js';
import type { ContainerRecord, CreateBody } from '../../../src/engine/model/types.js';

const polluted = (o: object) => Object.getPrototypeOf(o) !== Object.prototype;

test('parseUntrusted drops __proto__ keys at every depth; setOwn defines one as a plain key', () => {
  const v = parseUntrusted<any>(
    '{"a":1,"__proto__":{"polluted":true},"config":{"ExposedPorts":{"__proto__":{"x":1},"80/tcp":{}}}}',
  );
  assert.equal(Object.keys(v), ['a', 'config']);
  assert.equal(Object.keys(v.config.ExposedPorts), ['80/tcp']);
  assert.not.ok(polluted(v) || polluted(v.config.ExposedPorts));
  const o: Record<string, unknown> = {};
  setOwn(o, '__proto__', { polluted: true });
  assert.not.ok(polluted(o));
  assert.ok(Object.hasOwn(o, '__proto__'));
  assert.is((o as { polluted?: boolean }).polluted, undefined);
});

test('an image ExposedPorts key "__proto__" merged into a create body stays a key', () => {
  // As JSON.parse leaves it (own property): what an image config stored before this fix holds.
  const exposed = JSON.parse('{"__proto__":{"polluted":true},"80/tcp":{}}') as Record<string, object>;
  const out = mergeImageConfig({ Image: 'x', ExposedPorts: { '8080/tcp': {} } } as CreateBody, {
    ExposedPorts: exposed,
  });
  const ports = out.ExposedPorts as Record<string, unknown>;
  assert.not.ok(polluted(ports));
  assert.is((ports as { polluted?: boolean }).polluted, undefined);
  assert.equal(Object.keys(ports).sort(), ['80/tcp', '8080/tcp', '__proto__']);
});

test('NetworkSettings.Networks keyed by a network named "__proto__" stays a plain object', () => {
  const rec = {
    id: 'd'.repeat(64),
    name: 'web',
    config: {},
    state: { run: 0, restartCount: 0 },
  } as unknown as ContainerRecord;
  const net = { id: 'n'.repeat(64), name: '__proto__', predefined: false } as never;
  const eps: Endpoint[] = [
    { NetworkID: 'n'.repeat(64), Name: '__proto__', Aliases: [], Links: null, IPAMConfig: null, DriverOpts: null },
  ];
  const v = networksView({ rec, endpoints: eps, nets: [net], apiVersion: '1.51', lt: () => false });
  assert.not.ok(polluted(v));
  assert.equal(Object.keys(v), ['__proto__']);
  assert.is(JSON.parse(JSON.stringify(v)).__proto__.NetworkID, 'n'.repeat(64));
});

test.run();
