/**
 * @module sim/store/persist
 * kube-sim's etcd on disk: the whole store written to `<stateDir>/store.json` a short while after
 * each burst of writes (write-behind, `debounceMs`), and at once by `flush()` (a graceful stop),
 * and read back when the simulator starts again on the same state directory. A real cluster keeps
 * its objects across an apiserver restart (they live in etcd); without this, stopping kube-sim lost
 * every object — and with it every container, network and log kuber-api keeps in them.
 *
 * The file is replaced atomically (write a temporary file, then rename(2)), so a crash (SIGKILL)
 * leaves either the previous or the new state, never half of one; what was written in the last
 * `debounceMs` before a SIGKILL is lost, as with an etcd that had not yet synced.
 */
import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { KObject } from '../types.js';
import type { Store, StoreDump } from './store.js';

export const STORE_FILE = 'store.json';
const FORMAT = 2;
/** Lines are gathered into writes of about this size. */
const WRITE_BYTES = 1 << 20;

export interface PersistOptions {
  /** Write at most this long after a change (default 200 ms). */
  debounceMs?: number;
  /**
   * A write blocks the simulator's event loop for as long as it takes (a store with staged archives
   * can hold hundreds of MiB): the next one waits at least this many times as long (default 10), so
   * saving takes at most about a tenth of the time.
   */
  spacingFactor?: number;
  /** Told when a write fails (a full disk): kube-sim keeps serving from memory. */
  onError?: (err: Error) => void;
}

/**
 * The file: JSON lines, a header `{"format":2,"rv":N}` then one `{"r":resourceKey,"o":object}` per
 * object, so that neither the write nor the read builds one string of the whole store (V8 strings
 * stop at about 512 MiB).
 */
function writeDump(file: string, d: StoreDump): void {
  const fd = openSync(file, 'w', 0o600);
  try {
    let parts: string[] = [JSON.stringify({ format: FORMAT, rv: d.rv })];
    let size = parts[0]!.length;
    const out = () => {
      writeSync(fd, parts.join('\n') + '\n');
      parts = [];
      size = 0;
    };
    for (const [r, objs] of Object.entries(d.tables)) {
      for (const o of objs) {
        const line = JSON.stringify({ r, o });
        parts.push(line);
        size += line.length;
        if (size >= WRITE_BYTES) out();
      }
    }
    if (parts.length) out();
  } finally {
    closeSync(fd);
  }
}

/** The dump at `<dir>/store.json`, or undefined when there is none (first start). */
export function readStoreFile(dir: string): StoreDump | undefined {
  let buf: Buffer;
  try {
    buf = readFileSync(join(dir, STORE_FILE));
  } catch {
    return undefined;
  }
  const bad = () => new Error(`${join(dir, STORE_FILE)}: not a kube-sim store (format ${FORMAT})`);
  let at = buf.indexOf(10);
  const header = JSON.parse(buf.subarray(0, at < 0 ? buf.length : at).toString('utf8')) as {
    format?: number;
    rv?: number;
  };
  if (header.format !== FORMAT || typeof header.rv !== 'number') throw bad();
  const tables: Record<string, KObject[]> = {};
  while (at >= 0 && at + 1 < buf.length) {
    const next = buf.indexOf(10, at + 1);
    const line = buf.subarray(at + 1, next < 0 ? buf.length : next);
    at = next;
    if (!line.length) continue;
    const { r, o } = JSON.parse(line.toString('utf8')) as { r: string; o: KObject };
    (tables[r] ??= []).push(o);
  }
  return { rv: header.rv, tables };
}

export class StorePersistence {
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private closed = false;
  /** The next write starts no earlier than this (spacing after a slow write). */
  private notBefore = 0;
  readonly file: string;
  /** Duration of the last write (ms). */
  lastWriteMs = 0;

  constructor(
    private readonly store: Store,
    dir: string,
    private readonly opts: PersistOptions = {},
  ) {
    this.file = join(dir, STORE_FILE);
    store.afterWrite.push(() => this.changed());
  }

  private changed(): void {
    if (this.closed) return;
    this.dirty = true;
    this.timer ??= setTimeout(
      () => {
        this.timer = undefined;
        this.flush();
      },
      Math.max(this.opts.debounceMs ?? 200, this.notBefore - Date.now()),
    );
  }

  /** Write the store now if anything changed since the last write. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.dirty) return;
    this.dirty = false;
    const tmp = `${this.file}.tmp`;
    const t0 = Date.now();
    try {
      writeDump(tmp, this.store.dump());
      renameSync(tmp, this.file);
    } catch (err) {
      this.dirty = true;
      this.opts.onError?.(err as Error);
    }
    this.lastWriteMs = Date.now() - t0;
    this.notBefore = Date.now() + this.lastWriteMs * (this.opts.spacingFactor ?? 10);
  }

  /** Last write, then no more (the simulator stops). */
  close(): void {
    this.flush();
    this.closed = true;
  }
}

const LOCK_FILE = 'kube-sim.pid';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * One kube-sim per persisted state directory (as one etcd per data directory): `<dir>/kube-sim.pid`.
 * A previous simulator that still runs there is waited for (it is saving the store: its parent, an
 * embedded kuber-api, has just gone) for up to `waitMs`, then this start fails and names it.
 * Returns the release function.
 */
export async function lockStateDir(dir: string, waitMs: number): Promise<() => void> {
  const file = join(dir, LOCK_FILE);
  const deadline = Date.now() + waitMs;
  for (;;) {
    let holder = NaN;
    try {
      holder = Number(readFileSync(file, 'utf8').trim());
    } catch {
      /* no lock */
    }
    if (!Number.isInteger(holder) || holder <= 0 || holder === process.pid || !alive(holder)) break;
    if (Date.now() >= deadline)
      throw new Error(`the state directory ${dir} is in use by another kube-sim (pid ${holder})`);
    await new Promise((r) => setTimeout(r, 50));
  }
  writeFileSync(file, `${process.pid}\n`);
  return () => {
    try {
      if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
    } catch {
      /* already gone */
    }
  };
}
