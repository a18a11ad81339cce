/**
 * @module engine/ryuk/protocol
 * Ryuk's TCP protocol (pure). A client sends lines; each non-empty line is a URL query of docker
 * filters (`label=org.testcontainers.session-id=<uuid>`, `label=a&label=b` for both at once) and
 * is answered `ACK\n` (moby-ryuk reaper.go handle: ACK even when the line does not parse; an empty
 * line is skipped with a warning and no ACK). Lines are read as bufio.Scanner's ScanLines reads
 * them: split on `\n`, one trailing `\r` dropped, a last line without newline still counts at EOF,
 * and a line longer than the scanner's buffer (bufio.MaxScanTokenSize, 64 KiB) ends the connection
 * with "bufio.Scanner: token too long".
 */
import { filtersKey, parseGoQuery, type FilterArgs } from './go.js';

export const ACK = Buffer.from('ACK\n');

export const TOKEN_TOO_LONG = 'bufio.Scanner: token too long';

/** Splits a byte stream into lines, bounded by `maxLine` bytes of pending input. */
export class LineScanner {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxLine: number) {}

  /** The complete lines in `chunk` (with what came before); throws TOKEN_TOO_LONG past the bound. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      if (this.pendingBytes + nl - start >= this.maxLine) throw new Error(TOKEN_TOO_LONG);
      this.pending.push(chunk.subarray(start, nl));
      lines.push(this.take());
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.pending.push(chunk.subarray(start));
      this.pendingBytes += chunk.length - start;
      if (this.pendingBytes >= this.maxLine) throw new Error(TOKEN_TOO_LONG);
    }
    return lines;
  }

  /** At EOF: the last line if it had no newline. */
  end(): string[] {
    return this.pendingBytes ? [this.take()] : [];
  }

  private take(): string {
    let line = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    if (line.length && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    return line.toString('utf8');
  }
}

export interface ParsedFilter {
  /** filters.Args JSON: equal filters are one (reaper.go addFilter). */
  key: string;
  args: FilterArgs;
  /** What Ryuk logs per filter type ("adding filter" type=... values=[...]). */
  types: Array<[string, string[]]>;
}

/** One filter line as Ryuk's addFilter reads it; `error` ("parse query: ...") means it is not added. */
export function parseFilterLine(line: string): ParsedFilter | { error: string } {
  const q = parseGoQuery(line);
  if (q.error !== undefined) return { error: `parse query: ${q.error}` };
  const args: FilterArgs = {};
  for (const [k, vs] of q.values) args[k] = [...vs];
  return { key: filtersKey(args), args, types: [...q.values.entries()] };
}
