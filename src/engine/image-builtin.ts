/**
 * @module engine/image-builtin
 * Images kuber-api provides itself instead of pulling them: `testcontainers/ryuk` (any registry
 * prefix, any tag), which kuber-api emulates (engine/ryuk) because a Ryuk Pod could not reach a
 * Docker socket. A "pull" of it needs no registry (so Ryuk works on air-gapped clusters too) and
 * its config is the real image's as far as clients can see it: `CMD ["/bin/ryuk"]` and the label
 * `org.testcontainers.ryuk=true` (moby-ryuk linux/Dockerfile), which testcontainers relies on to
 * find a running Ryuk (it reaches the container's labels through Docker's image-label merge).
 */
import { createHash } from 'node:crypto';
import type { ImageRef } from './image-ref.js';
import type { OciImageConfig } from './image-store.js';
import { hostPlatform } from './registry.js';

export interface BuiltinImage {
  title: string;
  id: string;
  configBlob: string;
  config: OciImageConfig;
  note: string;
  matches(ref: ImageRef): boolean;
}

export const RYUK_LABEL = 'org.testcontainers.ryuk';

/** testcontainers/ryuk under any registry or mirror prefix (`myreg/testcontainers/ryuk:0.14.0`). */
export function isRyukRef(ref: ImageRef): boolean {
  return ref.path === 'testcontainers/ryuk' || ref.path.endsWith('/testcontainers/ryuk');
}

function builtin(title: string, note: string, config: OciImageConfig, matches: (r: ImageRef) => boolean): BuiltinImage {
  const configBlob = JSON.stringify(config);
  return { title, id: `sha256:${createHash('sha256').update(configBlob).digest('hex')}`, configBlob, config, note, matches };
}

export const BUILTIN_IMAGES: readonly BuiltinImage[] = [
  builtin(
    'Ryuk (testcontainers/ryuk)',
    'kuber-api emulates Ryuk: containers of this image run inside kuber-api (no Pod) and reap by label when their clients disconnect',
    {
      architecture: hostPlatform().architecture,
      os: 'linux',
      created: '2024-01-01T00:00:00Z',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/ryuk'], Labels: { [RYUK_LABEL]: 'true' } },
      rootfs: { type: 'layers', diff_ids: [] },
    },
    isRyukRef,
  ),
];

export function builtinImageFor(ref: ImageRef): BuiltinImage | undefined {
  return BUILTIN_IMAGES.find((b) => b.matches(ref));
}
