/**
 * Retries that cannot double (issue 14, item 4), with the real docker CLI against kuber-api on a
 * kube-sim that carries out a write and then hides its outcome (a 500 after the commit, or the
 * connection dropped after the write), or refuses with a storm of 429s: one container gets exactly
 * one record and one Pod, and one start gets exactly one run (the run number is bumped once, the
 * command runs once).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'node:https';
import { cliSuite } from '../helpers/streams-env.js';
import { ok } from './containers-cases.js';

const { t, d, env, sim } = cliSuite('retry fault tests', { timeoutMs: 60_000 });

/** GET from the simulator as its admin (what exists, whatever kuber-api believes). */
function get(path: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, sim().url),
      { ca: sim().caPem, headers: { authorization: `Bearer ${sim().token}` } },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () =>
          res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`${path}: ${res.statusCode} ${text}`)),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const ofContainer = async (kind: 'configmaps' | 'pods', id: string) =>
  (
    await get(
      `/api/v1/namespaces/default/${kind}?labelSelector=${encodeURIComponent(`kuber-api.io/instance=${env().api.instanceId},kuber-api.io/container=${id.slice(0, 12)}`)}`,
    )
  ).items as any[];

const records = async (id: string) =>
  (await ofContainer('configmaps', id)).filter((c) => c.metadata.labels['kuber-api.io/kind'] === 'container');
const runOf = (rec: any) => JSON.parse(rec.metadata.annotations['kuber-api.io/state']).run;

for (const action of ['fail', 'drop'] as const) {
  t(`~> a create whose answer is lost (${action} after commit) makes exactly one record`, async () => {
    await sim().setFaults({ afterCommit: { action, count: 1, method: 'POST', pathContains: '/configmaps' } });
    const id = ok(await d('create', '--name', `once-${action}`, 'busybox', 'echo', 'ran'));
    assert.is((await records(id)).length, 1);
    assert.is(ok(await d('ps', '-a', '--filter', `name=once-${action}`, '--format', '{{.ID}}')), id.slice(0, 12));
    ok(await d('rm', id));
  });

  t(
    `~> a start whose Pod create answer is lost (${action} after commit) makes exactly one Pod, and runs once`,
    async () => {
      const id = ok(await d('create', '--name', `pod-${action}`, 'busybox', 'echo', 'ran'));
      await sim().setFaults({ afterCommit: { action, count: 1, method: 'POST', pathContains: '/pods' } });
      assert.is(ok(await d('start', '-a', id)), 'ran');
      const pods = await ofContainer('pods', id);
      assert.is(pods.length, 1, JSON.stringify(pods.map((p) => p.metadata.name)));
      assert.is(runOf((await records(id))[0]), 1);
      assert.is(ok(await d('logs', id)), 'ran');
      ok(await d('rm', id));
    },
  );

  t(`~> a start whose record update answer is lost (${action} after commit) bumps the run exactly once`, async () => {
    const id = ok(await d('create', '--name', `run-${action}`, 'busybox', 'echo', 'ran'));
    const rec = (await records(id))[0];
    await sim().setFaults({
      afterCommit: { action, count: 1, method: 'PATCH', pathContains: `/configmaps/${rec.metadata.name}` },
    });
    assert.is(ok(await d('start', '-a', id)), 'ran');
    assert.is(runOf((await records(id))[0]), 1);
    const pods = await ofContainer('pods', id);
    assert.is(pods.length, 1);
    assert.is(pods[0].metadata.annotations['kuber-api.io/run'], '1');
    ok(await d('rm', id));
  });
}

t('~> rm -v whose record deletion answer is lost (500 after commit) still removes the anonymous volume', async () => {
  // The watch's DELETED of the record is handled while the DELETE is retried: what the removal
  // needs of the record (its mounts) must have been read before (the volumes-compose flake: a
  // claim left after `down -v` when the watch event overtook the DELETE's answer under load).
  const id = ok(await d('create', '-v', '/data', 'busybox', 'true'));
  const vol = JSON.parse(ok(await d('inspect', '--format', '{{json .Mounts}}', id)))[0].Name as string;
  assert.match(vol, /^[0-9a-f]{64}$/);
  const rec = (await records(id))[0];
  await sim().setFaults({
    afterCommit: { action: 'fail', count: 1, method: 'DELETE', pathContains: `/configmaps/${rec.metadata.name}` },
  });
  ok(await d('rm', '-v', id));
  assert.is(ok(await d('volume', 'ls', '-q')), '', 'the anonymous volume outlived rm -v');
  const claims = await get(
    `/api/v1/namespaces/default/persistentvolumeclaims?labelSelector=${encodeURIComponent(`kuber-api.io/instance=${env().api.instanceId}`)}`,
  );
  assert.equal(
    claims.items.filter((c: any) => !c.metadata.deletionTimestamp).map((c: any) => c.metadata.name),
    [],
  );
});

t('~> a storm of 429s on creates is waited out: one record, one Pod, one run', async () => {
  await sim().setFaults({ failRequests: { status: 429, count: 3, method: 'POST' } });
  const out = ok(await d('run', '--name', 'storm', 'busybox', 'echo', 'ran'));
  assert.is(out, 'ran');
  const id = ok(await d('inspect', '--format', '{{.Id}}', 'storm'));
  assert.is((await records(id)).length, 1);
  assert.is((await ofContainer('pods', id)).length, 1);
  assert.is(runOf((await records(id))[0]), 1);
  ok(await d('rm', id));
});

test.run();
