/**
 * How staged archives reach a container at start (pure): the merged tree of every copy in order,
 * one subPath mount per file, what cannot be mounted, and the init container that extracts them.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  compactMembers,
  finalTree,
  stagedMounts,
  stagingPodParts,
  chunkObjectName,
  type StagedArchive,
} from '../../../src/engine/archive/plan.js';

const a = (seq: number, path: string, members: StagedArchive['members']): StagedArchive => ({
  seq,
  path,
  chunks: 1,
  bytes: 1024,
  members,
});

test('~> files are mounted one by one at their exact path; directories only when empty', () => {
  const { mounts, problems } = stagedMounts([
    a(1, '/tmp', [
      ['app', 'd'],
      ['app/conf.d', 'd'],
      ['app/conf.d/a.conf', 'f'],
      ['app/run.sh', 'f'],
      ['app/empty', 'd'],
    ]),
  ]);
  assert.equal(problems, []);
  assert.equal(mounts, [
    { mountPath: '/tmp/app/conf.d/a.conf', subPath: 'a1/app/conf.d/a.conf' },
    { mountPath: '/tmp/app/empty', subPath: 'a1/app/empty' },
    { mountPath: '/tmp/app/run.sh', subPath: 'a1/app/run.sh' },
  ]);
});

test('~> a later copy overrides an earlier one; a file replacing a directory drops its contents', () => {
  const archives = [
    a(1, '/', [
      ['etc/config.txt', 'f'],
      ['srv', 'd'],
      ['srv/x', 'f'],
    ]),
    a(2, '/etc', [['config.txt', 'f']]),
    a(3, '/', [['srv', 'f']]),
  ];
  const tree = finalTree(archives);
  assert.is(tree.get('/etc/config.txt')?.sub, 'a2/config.txt');
  assert.not.ok(tree.has('/srv/x'));
  assert.equal(stagedMounts(archives).mounts, [
    { mountPath: '/etc/config.txt', subPath: 'a2/config.txt' },
    { mountPath: '/srv', subPath: 'a3/srv' },
  ]);
});

test('~> links: a symlink to a copied file is mounted as that file; anything else is a problem; devices too', () => {
  const { mounts, problems } = stagedMounts([
    a(1, '/opt', [
      ['real', 'f'],
      ['alias', 'l', 'real'],
      ['abs', 'l', '/opt/real'],
      ['hard', 'h', 'real'],
      ['out', 'l', '/usr/share/x'],
      ['dev', 'c'],
    ]),
  ]);
  assert.equal(mounts, [
    { mountPath: '/opt/abs', subPath: 'a1/real' },
    { mountPath: '/opt/alias', subPath: 'a1/real' },
    { mountPath: '/opt/hard', subPath: 'a1/hard' },
    { mountPath: '/opt/real', subPath: 'a1/real' },
  ]);
  assert.equal(problems, [
    '/opt/dev is a character device',
    '/opt/out is a symbolic link to /usr/share/x, which is not among the copied files',
  ]);
});

test('~> members are compacted without the root entry', () => {
  assert.equal(
    compactMembers([
      { path: '', type: 'dir', size: 0, mode: 0o755, uid: 0, gid: 0, mtime: 0, linkname: '' },
      { path: 'f', type: 'file', size: 3, mode: 0o644, uid: 0, gid: 0, mtime: 0, linkname: '' },
      { path: 'l', type: 'symlink', size: 0, mode: 0o777, uid: 0, gid: 0, mtime: 0, linkname: 'f' },
    ]),
    [
      ['f', 'f'],
      ['l', 'l', 'f'],
    ],
  );
});

test('~> the init container extracts every archive, chunks concatenated in order, as root', () => {
  const sources = [
    {
      dir: 'a1',
      kind: 's' as const,
      seq: 1,
      objects: [chunkObjectName('kapi-abc', 1, 0), chunkObjectName('kapi-abc', 1, 1)],
    },
    { dir: 'a2', kind: 's' as const, seq: 2, objects: [chunkObjectName('kapi-abc', 2, 0)] },
  ];
  const parts = stagingPodParts(sources, 'busybox:1.36', 'IfNotPresent')!;
  assert.equal(
    parts.volumes.map((v) => v['name']),
    ['kapi-staged', 'kapi-s1-0', 'kapi-s1-1', 'kapi-s2-0'],
  );
  assert.equal((parts.volumes[1] as { configMap: unknown }).configMap, {
    name: 'kapi-abc-s1-0',
    items: [{ key: 'data', path: 'data' }],
  });
  const script = (parts.initContainer['command'] as string[])[2]!;
  assert.match(script, 'x /kapi/out/a1 /kapi/src/kapi-s1-0/data /kapi/src/kapi-s1-1/data\n');
  assert.match(script, 'x /kapi/out/a2 /kapi/src/kapi-s2-0/data');
  assert.equal(
    [
      parts.initContainer['securityContext']?.runAsUser,
      parts.initContainer['securityContext']?.allowPrivilegeEscalation,
      parts.initContainer['securityContext']?.capabilities?.drop,
    ],
    [0, false, ['ALL']],
  );
  assert.equal(
    stagingPodParts(sources, 'busybox:1.36', 'IfNotPresent', 'restricted', 1000)!.initContainer['securityContext']
      ?.runAsUser,
    1000,
    'restricted: non-root',
  );
  assert.is(stagingPodParts([], 'busybox', 'IfNotPresent'), undefined);
});

test.run();
