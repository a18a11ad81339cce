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
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Store, StoreDump } from './store.js';

export const STORE_FILE = 'store.json';
const FORMAT = 1;

export interface PersistOptions {
  /** Write at most this long after a change (default 200 ms). */
  debounceMs?: number;
  /** Told when a write fails (a full disk): kube-sim keeps serving from memory. */
  onError?: (err: Error) => void;
}

/** The dump at `<dir>/store.json`, or undefined when there is none (first start) or it is unreadable. */
export function readStoreFile(dir: string): StoreDump | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, STORE_FILE), 'utf8');
  } catch {
    return undefined;
  }
  const d = JSON.parse(text) as { format?: number } & StoreDump;
  if (d.format !== FORMAT || typeof d.rv !== 'number' || !d.tables || typeof d.tables !== 'object') throw new Error(`${join(dir, STORE_FILE)}: not a kube-sim store (format ${FORMAT})`);
  return { rv: d.rv, tables: d.tables };
}

export class StorePersistence {
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private closed = false;
  readonly file: string;

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
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.opts.debounceMs ?? 200);
  }

  /** Write the store now if anything changed since the last write. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.dirty) return;
    this.dirty = false;
    const tmp = `${this.file}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify({ format: FORMAT, ...this.store.dump() }), { mode: 0o600 });
      renameSync(tmp, this.file);
    } catch (err) {
      this.dirty = true;
      this.opts.onError?.(err as Error);
    }
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
    if (Date.now() >= deadline) throw new Error(`the state directory ${dir} is in use by another kube-sim (pid ${holder})`);
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
