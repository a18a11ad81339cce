import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { diskUsage, NO_VOLUMES } from '../../../src/engine/inventory/disk-usage.js';
import { DISK_USAGE_TYPES, type DiskUsageType } from '../../../src/engine/backend/inventory.js';

const img = (id: string, size: number, containers: number) => ({
  Containers: containers,
  Created: 1,
  Id: id,
  Labels: {},
  ParentId: '',
  RepoDigests: [],
  RepoTags: ['x:1'],
  SharedSize: -1,
  Size: size,
});
const src = (calls: string[]) => ({
  images: async () => (calls.push('images'), [img('sha256:a', 10, 2), img('sha256:b', 5, -1)]),
  containers: async (v: string) => (calls.push(`containers ${v}`), [{ Id: 'c1' }]),
  volumes: {
    diskUsageVolumes: async () => (calls.push('volumes'), [{ Name: 'v', UsageData: { Size: -1, RefCount: 0 } }]),
  },
});

test('~> every type: images with SharedSize 0 and counted containers, LayersSize their sum, BuildCache []', async () => {
  const calls: string[] = [];
  const du = await diskUsage(src(calls), new Set(DISK_USAGE_TYPES), '1.45');
  assert.is(du.LayersSize, 15);
  assert.equal(du.Images, [
    {
      Containers: 2,
      Created: 1,
      Id: 'sha256:a',
      Labels: null,
      ParentId: '',
      RepoDigests: null,
      RepoTags: ['x:1'],
      SharedSize: 0,
      Size: 10,
    },
    {
      Containers: 0,
      Created: 1,
      Id: 'sha256:b',
      Labels: null,
      ParentId: '',
      RepoDigests: null,
      RepoTags: ['x:1'],
      SharedSize: 0,
      Size: 5,
    },
  ]);
  assert.equal(du.Containers, [{ Id: 'c1' }]);
  assert.equal(du.Volumes, [{ Name: 'v', UsageData: { Size: -1, RefCount: 0 } }]);
  assert.equal(du.BuildCache, []);
  assert.equal(calls.sort(), ['containers 1.45', 'images', 'volumes']);
});

test('~> only the types asked for are read; the others are null as dockerd sends them; VirtualSize below 1.44', async () => {
  const calls: string[] = [];
  const du = await diskUsage(src(calls), new Set<DiskUsageType>(['build-cache']), '1.45');
  assert.equal(du, { LayersSize: 0, Images: null, Containers: null, Volumes: null, BuildCache: [] });
  assert.equal(calls, []);
  const old = await diskUsage(src([]), new Set<DiskUsageType>(['image']), '1.41');
  assert.is((old.Images![0] as Record<string, unknown>).VirtualSize, 10);
});

test('~> before the volumes wing provides an inventory, df lists no volumes', async () => {
  assert.equal(await NO_VOLUMES.diskUsageVolumes(), []);
});

test.run();
