/**
 * @module engine/events/types
 * The event seam: what the engine publishes and what GET /events (src/api/system.ts) reads. It
 * lives in the engine, which owns the events (moby daemon/events, api/types/events/events.go for
 * the message shape); the API layer imports these types, never the reverse.
 */
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
  filters: Record<string, string[]>;
}

/**
 * The seam GET /events reads from (the engine implements it). `subscribe` first replays past
 * events matching `q` (when `since` is set), then delivers live ones, in causal order, until the
 * returned function is called. It must not block: `onEvent` is called synchronously.
 */
export interface EventsSource {
  subscribe(q: EventsQuery, onEvent: (e: DockerEvent) => void): () => void;
}
