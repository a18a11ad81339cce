/**
 * @module test/helpers/fake-backend
 * A recording Backend for API tests: canned answers, and every call's arguments kept.
 */
import { notFound } from '../../src/errors.js';
import type { ListOptions, SystemInfo } from '../../src/engine/backend/backend.js';
import { NoClusterBackend } from '../../src/engine/backend/no-cluster.js';
import type { DockerEvent, EventsQuery, EventsSource } from '../../src/engine/events/types.js';

/** The empty engine (so every Backend method exists), with recorded system/list/inspect calls. */
export class FakeBackend extends NoClusterBackend {
  calls: { method: string; args: unknown[] }[] = [];
  info: SystemInfo = { containers: 3, containersRunning: 1, containersPaused: 0, containersStopped: 2, images: 4 };
  containers: Record<string, unknown>[] = [];

  override async systemInfo(): Promise<SystemInfo> {
    this.calls.push({ method: 'systemInfo', args: [] });
    return this.info;
  }
  override async listContainers(opts: ListOptions, apiVersion: string): Promise<unknown[]> {
    this.calls.push({ method: 'listContainers', args: [opts, apiVersion] });
    return this.containers;
  }
  override async inspectContainer(name: string, opts?: { size: boolean }, apiVersion?: string): Promise<unknown> {
    this.calls.push({ method: 'inspectContainer', args: [name, opts, apiVersion] });
    const c = this.containers.find((x) => x['Id'] === name || x['Name'] === `/${name}`);
    if (!c) throw notFound(`No such container: ${name}`);
    return c;
  }
}

/** An EventsSource that replays `past` and lets a test emit live events. */
export class FakeEvents implements EventsSource {
  past: DockerEvent[] = [];
  subscribers = new Set<(e: DockerEvent) => void>();
  queries: EventsQuery[] = [];
  subscribe(q: EventsQuery, onEvent: (e: DockerEvent) => void): () => void {
    this.queries.push(q);
    if (q.since !== undefined) for (const e of this.past) if (e.time * 1000 >= q.since) onEvent(e);
    this.subscribers.add(onEvent);
    return () => this.subscribers.delete(onEvent);
  }
  emit(e: DockerEvent): void {
    for (const s of this.subscribers) s(e);
  }
}

export function containerEvent(action: string, id = 'c'.repeat(64), t = 1_700_000_000): DockerEvent {
  return {
    Type: 'container',
    Action: action,
    Actor: { ID: id, Attributes: { image: 'busybox', name: 'web' } },
    scope: 'local',
    time: t,
    timeNano: t * 1e9,
  };
}
