import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { imageHistory } from '../../../src/engine/images/history.js';
import type { ImageEntry } from '../../../src/engine/images/store.js';

const ID = 'sha256:' + 'c'.repeat(64);
const entry = (e: Partial<ImageEntry>): ImageEntry => ({
  id: ID,
  repoTags: [],
  repoDigests: [],
  source: 'registry',
  size: 0,
  fetchedAt: 0,
  ...e,
});

test('~> newest first, sizes of non-empty layers in order, the ID and tags on the newest only (moby image_history.go)', () => {
  const h = imageHistory(
    entry({
      repoTags: ['docker.io/library/app:1', 'docker.io/library/app:latest'],
      layers: [
        { digest: 'sha256:l1', size: 100 },
        { digest: 'sha256:l2', size: 20 },
      ],
      config: {
        history: [
          { created: '2024-01-01T00:00:00Z', created_by: '/bin/sh -c #(nop) ADD file:x in /' },
          { created: '2024-01-01T00:00:01Z', created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true },
          { created: '2024-01-02T00:00:00Z', created_by: 'RUN apk add curl', comment: 'buildkit.dockerfile.v0' },
        ],
      },
    }),
  );
  assert.equal(h, [
    {
      Id: ID,
      Created: 1704153600,
      CreatedBy: 'RUN apk add curl',
      Tags: ['app:1', 'app:latest'],
      Size: 20,
      Comment: 'buildkit.dockerfile.v0',
    },
    {
      Id: '<missing>',
      Created: 1704067201,
      CreatedBy: '/bin/sh -c #(nop)  CMD ["sh"]',
      Tags: null,
      Size: 0,
      Comment: '',
    },
    {
      Id: '<missing>',
      Created: 1704067200,
      CreatedBy: '/bin/sh -c #(nop) ADD file:x in /',
      Tags: null,
      Size: 100,
      Comment: '',
    },
  ]);
});

test('~> an untagged image has null Tags; a config without history has none; a recorded image one entry saying why', () => {
  assert.is(imageHistory(entry({ config: { history: [{ created: '2024-01-01T00:00:00Z' }] } }))[0]!.Tags, null);
  assert.equal(imageHistory(entry({ config: {} })), []);
  assert.equal(
    imageHistory(
      entry({
        source: 'recorded',
        repoTags: ['docker.io/library/busybox:latest'],
        note: 'configuration not read: offline',
      }),
    ),
    [
      {
        Id: ID,
        Created: 0,
        CreatedBy: '',
        Tags: ['busybox:latest'],
        Size: 0,
        Comment: 'configuration not read: offline',
      },
    ],
  );
});

test.run();
