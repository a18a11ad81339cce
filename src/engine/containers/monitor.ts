/**
 * @module engine/containers/monitor
 * What dockerd's container monitor does (moby daemon/monitor.go), driven by the watch caches:
 * - `start` when a run's container is first seen running, `die` (exitCode, execDuration) when it
 *   is first seen terminated: a container that exits on its own dies with its real exit code;
 * - `health_status: healthy|unhealthy` on transitions of the derived health;
 * - `destroy` when a record disappears (our `rm`, AutoRemove, or someone else's delete);
 * - AutoRemove after the exit, and the restart policy (always / unless-stopped / on-failure[:N])
 *   as new runs with moby's backoff (100 ms doubling, reset after 10 s of running), marked
 *   "restarting" in the record so that a restarted kuber-api resumes it.
 * Events are only emitted for changes observed live; after a restart (`catchUp`) the monitor only
 * finishes what was pending (AutoRemove, restarts).
 */
import type { MonitorHost } from './host.js';
import type { PodObject } from '../core/container-index.js';
import { giveUpMs, health, mainStatus, runSummary, START_FAILED } from '../model/state.js';
import { healthTiming, readinessProbe } from '../model/translate.js';
import type { ContainerRecord, RunSummary } from '../model/types.js';

interface Seen {
  started: boolean;
  died: boolean;
}

/**
 * moby restartmanager (restartmanager/restartmanager.go): the delay starts at 100 ms and doubles
 * per restart; a run of 10 s or more resets it. These are Docker's semantics, not limits; the
 * ceiling (moby: 1 minute) is the named option --restart-max-backoff-ms.
 */
const BACKOFF_START_MS = 100;
const BACKOFF_RESET_AFTER_MS = 10_000;

export class Monitor {
  private readonly seen = new Map<string, Seen>(); // pod uid ->
  private readonly exits = new Map<string, { count: number; code?: number }>(); // container id ->
  private readonly restartTimers = new Map<string, NodeJS.Timeout>();
  private readonly health = new Map<string, string>(); // pod uid -> last health status
  private readonly healthTimers = new Map<string, NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly e: MonitorHost) {
    e.index.listen({
      record: (ev) => {
        if (ev.type !== 'DELETED') return;
        this.forget(ev.rec.id);
        this.e.events.container(this.e.eventSource(ev.rec), 'destroy');
      },
      pod: (ev) => {
        if (ev.type === 'DELETED') {
          this.seen.delete(ev.object.metadata.uid ?? '');
          this.health.delete(ev.object.metadata.uid ?? '');
          return;
        }
        this.onPod(ev.id, ev.run, ev.object, ev.initial);
      },
    });
  }

  close(): void {
    this.closed = true;
    for (const t of this.restartTimers.values()) clearTimeout(t);
    for (const t of this.healthTimers.values()) clearTimeout(t);
    this.restartTimers.clear();
    this.healthTimers.clear();
  }

  exitCount(id: string): number {
    return this.exits.get(id)?.count ?? 0;
  }

  lastExitCode(id: string): number | undefined {
    return this.exits.get(id)?.code;
  }

  /** Count an exit (the die event) and wake `wait` callers. */
  noteExit(id: string, code = 137): void {
    const x = this.exits.get(id) ?? { count: 0 };
    x.count++;
    x.code = code;
    this.exits.set(id, x);
    this.e.index.changed();
  }

  cancelRestart(id: string): void {
    const t = this.restartTimers.get(id);
    if (t) clearTimeout(t);
    this.restartTimers.delete(id);
  }

  /** The container is gone: drop timers (exit counts stay, for `wait --condition removed`). */
  /** Removed containers whose exit codes are still kept, oldest first (a `wait` may answer after the removal). */
  private readonly removed: string[] = [];

  forget(id: string): void {
    this.removed.push(id);
    while (this.removed.length > this.e.opts.removedExitsKept) this.exits.delete(this.removed.shift()!);
    this.cancelRestart(id);
    const t = this.healthTimers.get(id);
    if (t) clearTimeout(t);
    this.healthTimers.delete(id);
  }

  /** After the first sync: finish what was pending while kuber-api was away. */
  catchUp(): void {
    for (const rec of this.e.index.all()) {
      this.reconcile(rec.id);
      const pod = this.e.index.currentPod(rec);
      if (pod) this.checkHealth(rec, pod, true);
    }
  }

  private onPod(id: string, run: number, pod: PodObject, initial: boolean): void {
    const rec = this.e.index.get(id);
    if (!rec) return;
    const uid = pod.metadata.uid ?? pod.metadata.name;
    let s = this.seen.get(uid);
    if (!s) this.seen.set(uid, (s = { started: false, died: false }));
    const cs = mainStatus(pod)?.state;
    if (initial) {
      s.started = !!(cs?.running || cs?.terminated);
      s.died = !!cs?.terminated;
      return;
    }
    if (run !== rec.state.run) return;
    const term = cs?.terminated;
    const startFailed = !!term && START_FAILED.has(term.reason ?? '');
    if ((cs?.running || (term && !startFailed)) && !s.started) {
      s.started = true;
      this.e.events.container(this.e.eventSource(rec), 'start');
    }
    if (term && !s.died) {
      s.died = true;
      if (!startFailed) {
        const dur =
          term.startedAt && term.finishedAt
            ? Math.max(0, Math.round((Date.parse(term.finishedAt) - Date.parse(term.startedAt)) / 1000))
            : 0;
        this.e.events.container(this.e.eventSource(rec), 'die', {
          exitCode: String(term.exitCode),
          execDuration: String(dur),
        });
        this.noteExit(id, term.exitCode);
      }
      this.reconcile(id);
    }
    this.checkHealth(rec, pod, false);
  }

  /** Emit health_status on a change of the derived health; re-check when "starting" may time out. */
  private checkHealth(rec: ContainerRecord, pod: PodObject, silent: boolean): void {
    if (!readinessProbe(rec.config.Healthcheck)) return;
    const uid = pod.metadata.uid ?? pod.metadata.name;
    const running = mainStatus(pod)?.state?.running;
    if (!running) return;
    const h = health(rec, pod);
    if (!h) return;
    const prev = this.health.get(uid);
    this.health.set(uid, h.Status);
    // moby logs health_status on each change of a probe verdict; "starting" is the initial state.
    if (!silent && prev !== h.Status && h.Status !== 'starting')
      this.e.events.container(this.e.eventSource(rec), `health_status: ${h.Status}`);
    const old = this.healthTimers.get(rec.id);
    if (old) clearTimeout(old);
    this.healthTimers.delete(rec.id);
    if (h.Status === 'starting' && !this.closed) {
      const t = healthTiming(rec.config.Healthcheck);
      const due = Date.parse(running.startedAt ?? '') + giveUpMs(t) + 50 - Date.now();
      const timer = setTimeout(
        () => {
          this.healthTimers.delete(rec.id);
          const r = this.e.index.get(rec.id);
          const p = r && this.e.index.currentPod(r);
          if (r && p) this.checkHealth(r, p, false);
          this.e.index.changed();
        },
        Math.max(0, due),
      );
      timer.unref();
      this.healthTimers.set(rec.id, timer);
    }
  }

  private shouldRestart(rec: ContainerRecord, sum: RunSummary): boolean {
    const p = rec.config.HostConfig?.RestartPolicy;
    const name = p?.Name ?? '';
    if (rec.state.manuallyStopped) return false;
    if (name === 'always' || name === 'unless-stopped') return true;
    if (name === 'on-failure')
      return sum.exitCode !== 0 && (!p?.MaximumRetryCount || rec.state.restartCount < p.MaximumRetryCount);
    return false;
  }

  /** moby restartmanager: 100 ms doubling per restart, back to 100 ms after a run of 10 s or more. */
  private backoffMs(rec: ContainerRecord, sum: RunSummary): number {
    const ran = Date.parse(sum.finishedAt) - Date.parse(sum.startedAt);
    if (Number.isFinite(ran) && ran >= BACKOFF_RESET_AFTER_MS) return BACKOFF_START_MS;
    return Math.min(this.e.opts.restartMaxBackoffMs, BACKOFF_START_MS * 2 ** Math.min(rec.state.restartCount, 20));
  }

  /** Idempotent: AutoRemove a finished container, or start the restart policy's next run. */
  reconcile(id: string): void {
    if (this.closed) return;
    void this.e
      .withLock(id, async () => {
        const rec = this.e.index.get(id);
        if (!rec || rec.state.run === 0) return;
        const pod = this.e.index.currentPod(rec);
        if (!pod) {
          if (rec.state.restarting && !this.restartTimers.has(id)) this.scheduleRun(id, rec.state.run, 0);
          return;
        }
        const sum = runSummary(pod);
        if (!sum || sum.error) return;
        if (rec.config.HostConfig?.AutoRemove) {
          await this.e.autoRemoveHeld(id); // attach/logs readers draining the last output
          return this.e.removeLocked(id, false, true); // --rm takes the anonymous volumes too (moby daemon/delete.go)
        }
        if (!this.shouldRestart(rec, sum)) return;
        const delay = this.backoffMs(rec, sum);
        const updated = await this.e.updateState(id, (s) => ({
          ...s,
          run: s.run + 1,
          restartCount: s.restartCount + 1,
          restarting: true,
          last: sum,
          startError: undefined,
        }));
        this.scheduleRun(id, updated.state.run, delay);
      })
      .catch((err) => this.e.log.warn({ err, id }, 'reconcile failed'));
  }

  private scheduleRun(id: string, run: number, delayMs: number): void {
    this.cancelRestart(id);
    const timer = setTimeout(() => {
      this.restartTimers.delete(id);
      void this.e
        .withLock(id, async () => {
          const rec = this.e.index.get(id);
          if (
            !rec ||
            rec.state.run !== run ||
            !rec.state.restarting ||
            rec.state.manuallyStopped ||
            this.e.index.currentPod(rec)
          )
            return;
          await this.e.launchRun(id, 'restart');
        })
        .catch((err) => this.e.log.warn({ err, id }, 'restart failed'));
    }, delayMs);
    timer.unref();
    this.restartTimers.set(id, timer);
  }
}
