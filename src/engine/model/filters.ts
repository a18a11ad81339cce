/**
 * @module engine/model/filters
 * `GET /containers/json` selection (pure), after moby daemon/list.go: newest first; `before`
 * skips down to a container, `since` stops at one; stopped containers only with `all` or `limit`
 * (a `status` filter implies `all`); `name`/`id`/`status` match as unanchored regular expressions
 * or exactly (filters.Args.Match); `label` is `key` or `key=value`, all of them required
 * (MatchKVList); `exited` needs a container that ran; `health` is starting/healthy/unhealthy/none.
 */
import { invalid } from '../../errors.js';
import type { ContainerRecord, DockerState } from './types.js';
import type { PodLike } from './state.js';
import { imageMatches } from './image-names.js';
import { ZERO_TIME } from './types.js';

export interface ListEntry {
  rec: ContainerRecord;
  pod?: PodLike;
  state: DockerState;
  /** Names and IDs of the container's networks (engine/networks/networks.ts); default: its NetworkMode. */
  networks?: string[];
  /** Published host ports of a running container as `<port>/<proto>` (the `publish` filter). */
  published?: string[];
}

export const ACCEPTED_FILTERS = new Set([
  'ancestor',
  'before',
  'exited',
  'expose',
  'health',
  'id',
  'isolation',
  'is-task',
  'label',
  'name',
  'network',
  'publish',
  'since',
  'status',
  'volume',
]);
const STATES = new Set(['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']);
const HEALTH = new Set(['starting', 'healthy', 'unhealthy', 'none']);

/** filters.Args.Match: exact, or an unanchored regular expression (invalid ones never match). */
export function match(values: string[] | undefined, source: string): boolean {
  if (!values || values.length === 0) return true;
  for (const v of values) {
    if (v === source) return true;
    try {
      if (new RegExp(v).test(source)) return true;
    } catch {
      /* not a valid expression: skip, as moby does */
    }
  }
  return false;
}

/** filters.Args.MatchKVList for labels. */
export function matchLabels(values: string[] | undefined, labels: Record<string, string>): boolean {
  if (!values || values.length === 0) return true;
  for (const v of values) {
    const eq = v.indexOf('=');
    const k = eq >= 0 ? v.slice(0, eq) : v;
    if (!Object.hasOwn(labels, k)) return false; // not `in`: a label filter "constructor" must not match every container
    if (eq >= 0 && labels[k] !== v.slice(eq + 1)) return false;
  }
  return true;
}

function exposedPorts(rec: ContainerRecord): Set<string> {
  return new Set(Object.keys(rec.config.ExposedPorts ?? {}).map((p) => (p.includes('/') ? p : `${p}/tcp`)));
}

function portSet(values: string[]): Set<string> {
  const out = new Set<string>();
  for (const v of values) {
    if (v.includes(':')) throw invalid(`filter for 'expose' should not contain ':': ${v}`);
    const [range, proto = 'tcp'] = v.split('/') as [string, string | undefined];
    const [a, b] = range.split('-').map(Number) as [number, number | undefined];
    if (!Number.isInteger(a)) throw invalid(`error while looking up for expose ${v}`);
    for (let p = a; p <= (b ?? a); p++) out.add(`${p}/${proto}`);
  }
  return out;
}

/**
 * Select and order list entries. `entries` may be in any order; `resolve` finds the container a
 * before/since value names (ID, ID prefix or name).
 */
export function selectContainers(
  entries: ListEntry[],
  opts: { all: boolean; limit?: number; filters: Record<string, string[]> },
  resolve: (idOrName: string) => ContainerRecord | undefined,
): ListEntry[] {
  const f = opts.filters;
  for (const k of Object.keys(f)) if (!ACCEPTED_FILTERS.has(k)) throw invalid(`invalid filter '${k}'`);
  let all = opts.all;
  for (const s of f.status ?? []) {
    if (!STATES.has(s)) throw invalid(`invalid filter 'status=${s}'`);
    all = true;
  }
  for (const h of f.health ?? []) if (!HEALTH.has(h)) throw invalid(`Unrecognised filter value for health: ${h}`);
  const exited = (f.exited ?? []).map((v) => {
    if (!/^-?\d+$/.test(v)) throw invalid(`strconv.Atoi: parsing "${v}": invalid syntax`);
    return Number(v);
  });
  const isTask = f['is-task'];
  if (isTask && isTask.some((v) => v !== 'true' && v !== 'false'))
    throw invalid(`invalid filter 'is-task=${isTask.join(',')}'`);
  const one = (key: string) => {
    const v = f[key]?.[f[key]!.length - 1];
    if (v === undefined) return undefined;
    const r = resolve(v);
    if (!r) throw invalid(`No such container: ${v}`);
    return r.id;
  };
  let before = one('before');
  const since = one('since');
  const expose = f.expose ? portSet(f.expose) : undefined;
  const publish = f.publish ? portSet(f.publish) : undefined;
  const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
  const sorted = [...entries].sort((a, b) =>
    a.rec.created < b.rec.created ? 1 : a.rec.created > b.rec.created ? -1 : 0,
  );
  const out: ListEntry[] = [];
  for (const e of sorted) {
    const { rec, state } = e;
    if (before) {
      if (rec.id === before) before = undefined;
      continue;
    }
    if (since && rec.id === since) break;
    if (!state.Running && !all && !limit) continue;
    if (!match(f.name, `/${rec.name}`) && !match(f.name, rec.name)) continue;
    if (!match(f.id, rec.id)) continue;
    if (isTask?.includes('true')) continue; // no swarm tasks here
    if (!matchLabels(f.label, rec.config.Labels ?? {})) continue;
    if (limit && out.length === limit) break;
    if (
      exited.length &&
      !exited.some((code) => code === state.ExitCode && !state.Running && state.StartedAt !== ZERO_TIME)
    )
      continue;
    if (!match(f.status, state.Status)) continue;
    if (f.health?.length && !f.health.includes(state.Health?.Status ?? 'none')) continue;
    if (f.volume?.length) continue; // volumes are not mounted yet (a later issue)
    if (f.ancestor?.length && !f.ancestor.some((a) => imageMatches(a, rec.config.Image ?? '', rec.image?.id))) continue;
    if (f.network?.length) {
      const mode =
        !rec.config.HostConfig?.NetworkMode || rec.config.HostConfig.NetworkMode === 'default'
          ? 'bridge'
          : rec.config.HostConfig.NetworkMode;
      if (!f.network.some((n) => (e.networks ?? [mode]).includes(n))) continue;
    }
    if (expose || publish) {
      // moby daemon/list.go: publish matches a published (host) port, expose a container port.
      const ports = exposedPorts(rec);
      const exposedMatch = !!expose && [...ports].some((p) => expose.has(p));
      const publishedMatch = !!publish && (e.published ?? []).some((p) => publish.has(p));
      if (!exposedMatch && !publishedMatch) continue;
    }
    out.push(e);
  }
  return out;
}
