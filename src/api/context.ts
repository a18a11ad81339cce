/**
 * @module api/context
 * What every Docker API handler gets besides the request: the engine (`Backend`), the options,
 * and the engine's event stream (`EventsSource`, engine/events/types.ts) for GET /events.
 * Handlers are `(ctx, req, res) => Promise<void>`, named like moby's, exported from
 * `src/api/<family>.ts`; src/api/index.ts registers every export whose name appears in the route
 * table (src/router/routes.ts). A handler throws an `EngineError` to answer with an error.
 */
import type { Options } from '../config.js';
import type { Backend } from '../engine/backend/backend.js';
import type { Request, Response } from '../http/index.js';
import type { EventsSource } from '../engine/events/types.js';
import type { CliDetaches } from './cli-detach.js';

export type { DockerEvent, EventsQuery, EventsSource } from '../engine/events/types.js';

export type ApiHandler = (ctx: ApiContext, req: Request, res: Response) => void | Promise<void>;

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
  /** The docker CLI's open waits, ended by its TTY detach (api/cli-detach.ts). */
  readonly detaches: CliDetaches;
}
