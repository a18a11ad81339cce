/**
 * @module engine/images/history
 * `docker image history` (GET /images/{name}/history) from the image config kept in Kubernetes
 * (pure), as moby's daemon/images/image_history.go builds it: one entry per `history` item of the
 * config, newest first; a non-empty layer (`empty_layer` unset) takes the next layer's size in
 * order; the newest entry carries the image ID and its tags, older ones `<missing>` and no tags
 * (there are no parent images in a registry-pulled image, as with dockerd).
 *
 * What differs from dockerd: sizes are the registry's compressed layer sizes (kuber-api never
 * downloads layers, dockerd shows the unpacked size); an image recorded without its config (an
 * unreachable registry, `--image-metadata off`) has one entry whose Comment says why.
 */
import type { HistoryEntry } from '../backend/inventory.js';
import { familiarRef } from '../model/image-ref.js';
import type { ImageEntry } from './store.js';

interface HistoryItem {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

const unix = (t: string | undefined) => {
  const ms = Date.parse(t ?? '');
  return Number.isFinite(ms) && ms > 0 ? Math.floor(ms / 1000) : 0;
};

export function imageHistory(e: ImageEntry): HistoryEntry[] {
  const tags = e.repoTags.length ? e.repoTags.map(familiarRef) : null;
  const items = (Array.isArray(e.config?.history) ? e.config.history : []) as HistoryItem[];
  if (!e.config) return [{ Id: e.id, Created: 0, CreatedBy: '', Tags: tags, Size: e.size, Comment: e.note ?? '' }];
  const layers = e.layers ?? [];
  let next = 0;
  const out: HistoryEntry[] = items.map((h) => {
    const size = h.empty_layer ? 0 : (layers[next++]?.size ?? 0);
    return {
      Id: '<missing>',
      Created: unix(h.created),
      CreatedBy: h.created_by ?? '',
      Tags: null,
      Size: size,
      Comment: h.comment ?? '',
    };
  });
  out.reverse();
  if (out[0]) Object.assign(out[0], { Id: e.id, Tags: tags });
  return out;
}
