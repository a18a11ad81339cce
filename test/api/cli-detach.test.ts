/**
 * api/cli-detach: which wait a docker CLI's TTY detach ends. Only the docker CLI's own wait for the
 * same container from the same address, the one opened nearest the attach; only after a TTY
 * session that detached; every other client and session keeps moby's semantics.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CliDetaches, detachedWaitBody } from '../../src/api/cli-detach.js';
import type { Request } from '../../src/http/index.js';

const CLI = 'Docker-Client/28.2.2 (linux)';

function req(agent: string | undefined, remoteAddress?: string): Request {
  return {
    headers: agent === undefined ? {} : { 'user-agent': agent },
    socket: { remoteAddress },
  } as unknown as Request;
}

/** Register a wait; report whether (and in which order) the detach ended it. */
function wait(d: CliDetaches, r: Request, container: string, log: string[], label: string) {
  const w = d.watchWait(r, container);
  void w?.detached.then(() => log.push(label));
  return w;
}

const tick = () => new Promise((r) => setImmediate(r));

test('~> only the docker CLI registers a wait', () => {
  const d = new CliDetaches();
  assert.is(d.watchWait(req('docker-modem'), 'c'), undefined);
  assert.is(d.watchWait(req(undefined), 'c'), undefined);
  assert.ok(d.watchWait(req(CLI, '127.0.0.1'), 'c'));
  assert.is(d.size, 1);
});

test('~> a TTY detach (half-close or keys) ends the same client wait for the same container; done() forgets it', async () => {
  const d = new CliDetaches();
  const log: string[] = [];
  const w = wait(d, req(CLI, '127.0.0.1'), 'box', log, 'cli')!;
  wait(d, req(CLI, '10.0.0.9'), 'box', log, 'other-address');
  wait(d, req('Docker-Client/27.0.0 (linux)', '127.0.0.1'), 'box', log, 'other-agent');
  wait(d, req(CLI, '127.0.0.1'), 'other-box', log, 'other-container');
  const at = performance.now();
  for (const end of ['ended', 'client-gone', undefined] as const)
    assert.is(d.attachEnded(req(CLI, '127.0.0.1'), 'box', true, at, end), false, String(end));
  assert.is(d.attachEnded(req(CLI, '127.0.0.1'), 'box', false, at, 'stdin-eof'), false, 'non-TTY');
  assert.is(d.attachEnded(req('dockerode', '127.0.0.1'), 'box', true, at, 'stdin-eof'), false, 'another client');
  await tick();
  assert.equal(log, []);
  assert.is(d.attachEnded(req(CLI, '127.0.0.1'), 'box', true, at, 'stdin-eof'), true);
  await tick();
  assert.equal(log, ['cli']);
  assert.is(d.attachEnded(req(CLI, '127.0.0.1'), 'box', true, at, 'detach-keys'), false, 'each wait is ended once');
  w.done();
  assert.is(d.size, 3);
});

test('~> of two waits of the same client, the one opened nearest the attach', async () => {
  const d = new CliDetaches();
  const log: string[] = [];
  wait(d, req(CLI), 'box', log, 'older docker wait');
  await new Promise((r) => setTimeout(r, 30));
  wait(d, req(CLI), 'box', log, 'the attach command');
  assert.is(d.attachEnded(req(CLI), 'box', true, performance.now(), 'detach-keys'), true);
  await tick();
  assert.equal(log, ['the attach command']);
});

test('~> the wait body: docker attach (not-running) gets the escape error, run/start a plain 0', () => {
  assert.equal(detachedWaitBody('not-running'), { StatusCode: 0, Error: { Message: 'read escape sequence' } });
  assert.equal(detachedWaitBody('next-exit'), { StatusCode: 0 });
  assert.equal(detachedWaitBody('removed'), { StatusCode: 0 });
});

test.run();
