/**
 * @module engine/model/human
 * Human-readable times, as dockerd prints them: go-units `HumanDuration` (docker/go-units
 * duration.go) and moby's `State.String()` (container/state.go), which `docker ps` shows as STATUS.
 */
import type { DockerState } from './types.js';
import { ZERO_TIME } from './types.js';

/** go-units HumanDuration, for a duration in milliseconds. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000); // d.Round(time.Hour).Hours()
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

const since = (now: number, t: string) => Math.max(0, now - Date.parse(t));

/** moby container.State.String(): "Up 3 seconds", "Up 2 minutes (healthy)", "Exited (3) 2 seconds ago"... */
export function statusString(s: DockerState, now = Date.now()): string {
  if (s.Running) {
    if (s.Paused) return `Up ${humanDuration(since(now, s.StartedAt))} (Paused)`;
    if (s.Restarting) return `Restarting (${s.ExitCode}) ${humanDuration(since(now, s.FinishedAt))} ago`;
    if (s.Health)
      return `Up ${humanDuration(since(now, s.StartedAt))} (${s.Health.Status === 'starting' ? 'health: starting' : s.Health.Status})`;
    return `Up ${humanDuration(since(now, s.StartedAt))}`;
  }
  if (s.Status === 'removing') return 'Removal In Progress';
  if (s.Dead) return 'Dead';
  if (s.StartedAt === ZERO_TIME) return 'Created';
  if (s.FinishedAt === ZERO_TIME) return '';
  return `Exited (${s.ExitCode}) ${humanDuration(since(now, s.FinishedAt))} ago`;
}

let lastNs = 0n;
/**
 * Now as RFC 3339 with nanoseconds (Docker's `Created`), strictly increasing within this process so
 * that the list's before/since order is total even for containers created in the same millisecond.
 */
export function nowRfc3339Nano(): string {
  let ns = BigInt(Date.now()) * 1_000_000n;
  if (ns <= lastNs) ns = lastNs + 1n;
  lastNs = ns;
  return nsToRfc3339(ns);
}

export function nsToRfc3339(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, `.${frac}Z`);
}

/** Parse RFC 3339 (any fraction length) to nanoseconds since the epoch, for ordering. */
export function rfc3339ToNs(t: string): bigint {
  const m = /^(.*?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(t);
  if (!m) return BigInt(Date.parse(t) || 0) * 1_000_000n;
  const secs = Date.parse(`${m[1]}${m[3]}`);
  const frac = (m[2] ?? '').padEnd(9, '0').slice(0, 9);
  return BigInt(secs) * 1_000_000n + BigInt(frac);
}
