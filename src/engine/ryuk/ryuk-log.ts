/**
 * @module engine/ryuk/ryuk-log
 * What an emulated Ryuk prints, kept as its container log: each line stamped as the kubelet stamps
 * pod log lines (RFC 3339 with nanoseconds, then a space), so `docker logs` serves it through the
 * same framer as a Pod's log (since/until/timestamps/tail). Bounded (`--ryuk-log-lines`: the
 * oldest lines go). Lines are written in the flavour of the image's Ryuk version
 * (engine/ryuk/config.ts legacyLog): log/slog's TextHandler (`time=... level=INFO msg=... k=v`,
 * moby-ryuk reaper.go) or, before 0.10.0, Go's `log` package (`2006/01/02 15:04:05 text`).
 */
import { nowRfc3339Nano } from '../model/human.js';
import { goLogPrefix, slogTime, slogValue } from './go.js';

export type Level = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export class RyukLog {
  /** `<timestamp> <line>\n`, oldest first. */
  private readonly lines: string[];
  private readonly listeners = new Set<(line: string) => void>();

  constructor(
    private readonly maxLines: number,
    readonly legacy: boolean,
    restored: readonly string[] = [],
    private verbose = false,
  ) {
    this.lines = restored.slice(-maxLines);
  }

  setVerbose(v: boolean): void {
    this.verbose = v;
  }

  /**
   * One event: `msg` with slog attributes, or `legacyText` in the old flavour (undefined: the old
   * Ryuk printed nothing for it; an empty `msg`: only the old one printed something).
   */
  emit(level: Level, msg: string, attrs: Array<[string, string | number | boolean]> = [], legacyText?: string): void {
    if (level === 'DEBUG' && !this.verbose) return;
    if (!this.legacy && msg === '') return; // a line only the old Ryuk printed
    const now = new Date();
    let text: string;
    if (this.legacy) {
      if (legacyText === undefined) return;
      text = `${goLogPrefix(now)}${legacyText}`;
    } else {
      text = [
        `time=${slogTime(now)}`,
        `level=${level}`,
        `msg=${slogValue(msg)}`,
        ...attrs.map(([k, v]) => `${k}=${slogValue(String(v))}`),
      ].join(' ');
    }
    this.append(`${nowRfc3339Nano()} ${text}\n`);
  }

  private append(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.maxLines) this.lines.splice(0, this.lines.length - this.maxLines);
    for (const l of [...this.listeners]) l(line);
  }

  /** Every stamped line kept (what `docker logs` reads, and what the record persists). */
  all(): readonly string[] {
    return this.lines;
  }

  /** New lines as they are written; returns the unsubscribe. */
  follow(cb: (line: string) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }
}
