/**
 * @module engine/events/events
 * The Docker event bus (moby daemon/events): the engine publishes container events in causal
 * order per container; GET /events subscribes through the `EventsSource` seam (engine/events/types.ts).
 * A bounded ring of past events serves `since` replays. Filters follow moby
 * daemon/events/filter.go: type, container (name, or ID/prefix), event (the action, or its part
 * before ':' as in `health_status`), label (`key` / `key=value` on the attributes), image.
 *
 * Hooks for the streaming side: `attach`, `detach`, `exec_create`, `exec_start`, `exec_die`,
 * `health_status` are published through {@link EventBus.container} with the right attributes (see
 * {@link ContainerEventSource}).
 */
import type { DockerEvent, EventsQuery, EventsSource } from './types.js';
import { normaliseImage } from '../model/image-names.js';

export type { DockerEvent, EventsQuery, EventsSource };

/** What the bus needs to describe a container's actor (name, image, labels). */
export interface ContainerEventSource {
  id: string;
  name: string;
  image: string;
  labels: Record<string, string>;
}

export class EventBus implements EventsSource {
  private readonly ring: Array<{ e: DockerEvent; ms: number }> = [];
  private readonly subs = new Set<{ q: EventsQuery; cb: (e: DockerEvent) => void }>();
  private lastNs = 0;

  constructor(private readonly capacity = 1024) {}

  /** Publish any event (time stamped now, strictly increasing so replays keep the order). */
  publish(type: string, action: string, id: string, attributes: Record<string, string>): DockerEvent {
    // timeNano is a JS number: above 2^53 it moves in steps of 256 ns, so keep times microsecond
    // apart to stay strictly increasing; `ms` (exact) is what since/until compare.
    const ms = Date.now();
    let ns = ms * 1e6;
    if (ns <= this.lastNs) ns = this.lastNs + 1000;
    this.lastNs = ns;
    const e: DockerEvent = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: 'local',
      time: Math.floor(ms / 1000),
      timeNano: ns,
    };
    this.ring.push({ e, ms });
    if (this.ring.length > this.capacity) this.ring.shift();
    for (const s of [...this.subs]) {
      if (s.q.until !== undefined && ms > s.q.until) continue;
      if (matchesEvent(e, s.q.filters)) s.cb(e);
    }
    return e;
  }

  /**
   * A container event: Attributes are the container's labels, then `image` and `name` (moby
   * LogContainerEventWithAttributes), then `extra` (exitCode, signal, execID, oldName...).
   */
  container(c: ContainerEventSource, action: string, extra: Record<string, string> = {}): DockerEvent {
    return this.publish('container', action, c.id, { ...c.labels, image: c.image, name: c.name, ...extra });
  }

  subscribe(q: EventsQuery, onEvent: (e: DockerEvent) => void): () => void {
    if (q.since !== undefined) {
      for (const { e, ms } of this.ring) {
        if (ms < q.since) continue;
        if (q.until !== undefined && ms > q.until) continue;
        if (matchesEvent(e, q.filters)) onEvent(e);
      }
    }
    const sub = { q, cb: onEvent };
    this.subs.add(sub);
    return () => this.subs.delete(sub);
  }

  get listeners(): number {
    return this.subs.size;
  }

  /** Past events (for tests and diagnostics). */
  recent(): DockerEvent[] {
    return this.ring.map((r) => r.e);
  }
}

function matchKV(values: string[] | undefined, attrs: Record<string, string>): boolean {
  if (!values?.length) return true;
  return values.every((v) => {
    const eq = v.indexOf('=');
    const k = eq >= 0 ? v.slice(0, eq) : v;
    if (!(k in attrs)) return false;
    return eq < 0 || attrs[k] === v.slice(eq + 1);
  });
}

function sameImage(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return normaliseImage(a) === normaliseImage(b);
  } catch {
    return false;
  }
}

/** moby daemon/events/filter.go Include. */
export function matchesEvent(e: DockerEvent, f: Record<string, string[]>): boolean {
  const has = (k: string) => (f[k]?.length ?? 0) > 0;
  if (has('type') && !f.type!.includes(e.Type)) return false;
  if (has('event')) {
    const colon = e.Action.indexOf(':');
    const base = colon >= 0 ? e.Action.slice(0, colon) : e.Action;
    if (!f.event!.includes(e.Action) && !f.event!.includes(base)) return false;
  }
  if (has('container')) {
    if (e.Type !== 'container') return false;
    const name = e.Actor.Attributes.name ?? '';
    if (!f.container!.some((v) => v === name || v === `/${name}` || (v.length > 0 && e.Actor.ID.startsWith(v))))
      return false;
  }
  if (has('label') && !matchKV(f.label, e.Actor.Attributes)) return false;
  if (has('image')) {
    const img = e.Type === 'image' ? e.Actor.ID : (e.Actor.Attributes.image ?? '');
    if (!f.image!.some((v) => sameImage(v, img))) return false;
  }
  for (const k of ['network', 'volume', 'plugin', 'daemon', 'node', 'service', 'secret', 'config', 'scope']) {
    if (!has(k)) continue;
    if (k === 'scope') {
      if (!f.scope!.includes(e.scope)) return false;
      continue;
    }
    if (e.Type !== k || !f[k]!.some((v) => v === e.Actor.ID || v === e.Actor.Attributes.name)) return false;
  }
  return true;
}
