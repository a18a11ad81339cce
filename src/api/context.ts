/**
 * @module api/context
 * What every Docker API handler gets besides the request: the engine (`Backend`), the options,
 * and the seams the engine plugs into later (`EventsSource` for GET /events).
 * Handlers are `(ctx, req, res) => Promise<void>`, named like moby's, exported from
 * `src/api/<family>.ts`; src/api/index.ts registers every export whose name appears in the route
 * table (src/router/routes.ts). A handler throws an `EngineError` to answer with an error.
 */
import type { Options } from '../config.js';
import type { Backend } from '../engine/backend/backend.js';
import type { Request, Response } from '../http/index.js';
import type { Filters } from '../router/query.js';

export type ApiHandler = (ctx: ApiContext, req: Request, res: Response) => void | Promise<void>;

/** A Docker event in the API 1.52 shape; the handler adds the legacy fields for older clients. */
export interface DockerEvent {
  Type: 'container' | 'image' | 'network' | 'volume' | 'daemon' | 'plugin' | 'builder' | string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local' | 'swarm';
  /** Unix seconds. */
  time: number;
  /** Unix nanoseconds. */
  timeNano: number;
}

export interface EventsQuery {
  /** Replay stored events at or after this time (epoch ms, may be fractional); absent = live only. */
  since?: number;
  /** Stop at this time (epoch ms); the handler ends the stream then. */
  until?: number;
  /** Docker event filters (type, container, event, label, image, network, volume...), normalised. */
  filters: Filters;
}

/**
 * The seam GET /events reads from (the engine implements it). `subscribe` first replays past
 * events matching `q` (when `since` is set), then delivers live ones, in causal order, until the
 * returned function is called. It must not block: `onEvent` is called synchronously.
 */
export interface EventsSource {
  subscribe(q: EventsQuery, onEvent: (e: DockerEvent) => void): () => void;
}

export interface ApiContext {
  readonly backend: Backend;
  readonly options: Options;
  /** Absent until the engine provides events: GET /events then streams nothing until it ends. */
  readonly events?: EventsSource;
  /** The Docker Engine release the advertised API version belongs to (e.g. 28.3.3 for 1.51). */
  readonly engineVersion: string;
  /** kuber-api's own version (package.json). */
  readonly version: string;
  /** A stable id of this kuber-api instance (GET /info `ID`). */
  readonly instanceId: string;
}
