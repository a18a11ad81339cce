/**
 * @module engine/ryuk/service
 * Ryuk in process. A container of the Ryuk image (engine/ryuk/config.ts isRyukImage) gets no Pod:
 * Ryuk removes a test session's resources through the Docker socket mounted into it, which a Pod
 * cannot reach, so kuber-api plays Ryuk itself (engine/ryuk/reaper.ts) on the container's published
 * port (engine/ports/publisher.ts hands the connections over: `localService`). The record is a
 * container like any other (create, inspect, ps, rename, rm, events); its state, filters and log
 * live in the record (engine/ryuk/record.ts), so a restarted kuber-api resumes every running Ryuk
 * and reaps its pending filters once the timeouts pass. Lifecycle, as dockerd's for the real one:
 * start (`start`), stop (SIGTERM: Ryuk prunes at once when no client is connected, else the
 * kill after the stop timeout), kill, restart; the exit emits `die`, and AutoRemove (set by
 * testcontainers for its Ryuk) removes the container after it exits.
 */
import type { Socket } from 'node:net';
import { conflict, invalid, notFound, notImplemented, notModified } from '../../errors.js';
import type { AttachOptions, AttachStart, ContainerLogs, LogsOptions } from '../backend/streams.js';
import { signalName, signalNumber } from '../model/signals.js';
import type { ContainerRecord, CreateBody, DockerState } from '../model/types.js';
import { isRyukImage, legacyLog, RYUK_LABEL, ryukConfig, type RyukConfig } from './config.js';
import { filtersFromKey } from './go.js';
import type { RyukHost, RyukOptions } from './host.js';
import { ryukAttach, ryukLogs, type LogSubject } from './logs.js';
import { Pruner } from './prune.js';
import { Reaper } from './reaper.js';
import { ANN_RYUK, RecordWriter, ryukState, savedLog, savedStatus, type RyukStatus } from './record.js';
import { RyukLog } from './ryuk-log.js';

interface Instance {
  id: string;
  log: RyukLog;
  writer: RecordWriter;
  status: RyukStatus | undefined;
  reaper: Reaper | undefined;
  cfg: RyukConfig | undefined;
  /** Settles when the current run's exit is recorded. */
  exit: Promise<void> | undefined;
  exitListeners: Set<() => void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export class RyukService {
  private readonly instances = new Map<string, Instance>();
  /** Records (decoded anew on every change) whose image is a Ryuk image: stateOf asks often. */
  private readonly isImage = new WeakMap<ContainerRecord, boolean>();
  private closed = false;

  constructor(
    private readonly e: RyukHost,
    private readonly opts: RyukOptions,
  ) {
    e.index.listen({
      record: (ev) => {
        if (ev.type !== 'DELETED') return;
        const inst = this.instances.get(ev.rec.id);
        inst?.reaper?.dispose();
        this.instances.delete(ev.rec.id);
      },
    });
  }

  /** Is this a Ryuk container (its image, or a Ryuk status already recorded)? */
  owns(rec: ContainerRecord): boolean {
    let image = this.isImage.get(rec);
    if (image === undefined) this.isImage.set(rec, (image = isRyukImage(rec.config.Image, this.opts.images)));
    return image || this.saved(rec) !== undefined;
  }

  /** The create body of a Ryuk image: what the image itself would add (its label, its command). */
  adjustCreate(body: Record<string, unknown>): Record<string, unknown> {
    const b = body as CreateBody;
    if (!isRyukImage(b.Image, this.opts.images)) return body;
    const cmd = b.Cmd;
    return {
      ...body,
      Labels: { [RYUK_LABEL]: 'true', ...(b.Labels ?? {}) },
      ...(cmd === undefined || cmd === null || (Array.isArray(cmd) && !cmd.length) ? { Cmd: ['/bin/ryuk'] } : {}),
    };
  }

  /** Docker's State of a Ryuk container (undefined: not a Ryuk). */
  state(rec: ContainerRecord): DockerState | undefined {
    if (!this.owns(rec)) return undefined;
    return ryukState(this.instances.get(rec.id)?.status ?? this.saved(rec));
  }

  private saved(rec: ContainerRecord): RyukStatus | undefined {
    return savedStatus(this.e.index.records.get(rec.object.name));
  }

  private instance(rec: ContainerRecord): Instance {
    let inst = this.instances.get(rec.id);
    if (inst) return inst;
    const obj = this.e.index.records.get(rec.object.name);
    const log = new RyukLog(this.opts.logLines, legacyLog(rec.config.Image), savedLog(obj));
    const created: Instance = {
      id: rec.id,
      log,
      status: savedStatus(obj),
      reaper: undefined,
      cfg: undefined,
      exit: undefined,
      exitListeners: new Set(),
      writer: undefined as unknown as RecordWriter,
    };
    created.writer = new RecordWriter(this.e, rec, () => ({
      status: created.reaper ? { ...created.status!, ...created.reaper.saved() } : created.status,
      log: created.log.all(),
    }));
    log.follow(
      () =>
        void created.writer
          .write()
          .catch((err: Error) => this.e.log.warn({ id: rec.id, err: err.message }, 'ryuk: could not record the log')),
    );
    this.instances.set(rec.id, created);
    return created;
  }

  private running(rec: ContainerRecord): boolean {
    return this.state(rec)?.Running === true;
  }

  // ------------------------------------------------------------------ lifecycle

  async start(rec: ContainerRecord): Promise<void> {
    await this.e.withLock(rec.id, async () => {
      const cur = this.e.index.get(rec.id);
      if (!cur) throw notFound(`No such container: ${rec.id}`);
      if (this.running(cur)) throw notModified();
      const published = await this.e.ports.beforeStart(cur.id);
      try {
        await this.launch(cur);
      } finally {
        published();
      }
    });
  }

  private async launch(rec: ContainerRecord): Promise<void> {
    const inst = this.instance(rec);
    const startedAt = new Date().toISOString();
    let cfg: RyukConfig | undefined;
    let failure: string | undefined;
    try {
      cfg = ryukConfig(rec.config.Env);
    } catch (err) {
      failure = `new reaper: load config: ${(err as Error).message}`;
    }
    inst.cfg = cfg;
    inst.status = { status: 'running', startedAt, filters: [], connectedOnce: false };
    if (cfg) {
      inst.log.setVerbose(cfg.verbose);
      inst.reaper = this.reaper(rec, inst, cfg);
      inst.reaper.start(cfg.port);
    }
    await inst.writer.write();
    this.e.events.container(this.e.eventSource(rec), 'start');
    if (failure) {
      inst.log.emit('ERROR', 'run', [['error', failure]], `panic: ${failure}`);
      this.exited(rec.id, inst, 1);
    }
  }

  private reaper(rec: ContainerRecord, inst: Instance, cfg: RyukConfig): Reaper {
    const pruner = new Pruner(
      this.e.docker,
      {
        listError: (what, err) => inst.log.emit('ERROR', what, [['error', err]], err),
        removeError: (kind, id, attempt, err) =>
          inst.log.emit(
            'ERROR',
            'remove',
            [
              ['resource', kind],
              ['id', id],
              ['attempt', attempt],
              ['error', err],
            ],
            err,
          ),
      },
      sleep,
    );
    return new Reaper(cfg, {
      log: inst.log,
      pruner,
      klog: this.e.log,
      persist: () => inst.writer.write(),
      exited: (code) => this.exited(rec.id, inst, code),
      maxLineBytes: this.opts.maxLineBytes,
      maxFilters: this.opts.maxFilters,
      maxConnections: this.opts.maxConnections,
    });
  }

  /** The run ended: record it, `die`, wake `docker wait`, then AutoRemove. */
  private exited(id: string, inst: Instance, code: number): void {
    const startedAt = inst.status?.startedAt ?? new Date().toISOString();
    const filters = inst.reaper?.saved() ?? {
      filters: inst.status?.filters ?? [],
      connectedOnce: !!inst.status?.connectedOnce,
    };
    inst.reaper = undefined;
    inst.status = { status: 'exited', startedAt, finishedAt: new Date().toISOString(), exitCode: code, ...filters };
    for (const l of [...inst.exitListeners]) l();
    inst.exit = (async () => {
      await inst.writer
        .write()
        .catch((err: Error) => this.e.log.warn({ id, err: err.message }, 'ryuk: could not record the exit'));
      const rec = this.e.index.get(id);
      if (!rec) return;
      const secs = Math.max(0, Math.round((Date.now() - Date.parse(startedAt)) / 1000));
      this.e.events.container(this.e.eventSource(rec), 'die', { exitCode: String(code), execDuration: String(secs) });
      this.e.noteExit(id, code);
      if (rec.config.HostConfig?.AutoRemove && !this.closed) void this.autoRemove(id);
    })();
  }

  private async autoRemove(id: string): Promise<void> {
    await this.e.autoRemoveHeld(id);
    await this.e
      .withLock(id, () => this.e.removeLocked(id, false))
      .catch((err: Error) => this.e.log.warn({ id, err: err.message }, 'ryuk: AutoRemove failed'));
  }

  async stop(rec: ContainerRecord, opts: { timeout?: number; signal?: string }): Promise<void> {
    await this.e.withLock(rec.id, async () => {
      const cur = this.e.index.get(rec.id);
      if (!cur) throw notFound(`No such container: ${rec.id}`);
      if (!this.running(cur)) throw notModified();
      const inst = this.instance(cur);
      const timeout = opts.timeout ?? (typeof cur.config.StopTimeout === 'number' ? cur.config.StopTimeout : 10);
      const sig = signalName(opts.signal || cur.config.StopSignal || 'SIGTERM') ?? 'SIGTERM';
      this.e.events.container(this.e.eventSource(cur), 'kill', { signal: String(signalNumber(sig)) });
      if (sig !== 'SIGKILL' && timeout !== 0) {
        this.deliver(inst, sig);
        await this.waitExit(inst, timeout < 0 ? undefined : timeout * 1000);
      }
      if (inst.reaper) {
        this.e.events.container(this.e.eventSource(cur), 'kill', { signal: '9' });
        this.deliver(inst, 'SIGKILL');
      }
      await this.finishedRun(cur, inst);
      await inst.exit;
      this.e.events.container(this.e.eventSource(this.e.index.get(cur.id) ?? cur), 'stop');
    });
  }

  async kill(rec: ContainerRecord, signal: string): Promise<void> {
    const sig = signalName(signal || 'SIGKILL');
    if (!sig) throw invalid(`Invalid signal: ${signal}`);
    await this.e.withLock(rec.id, async () => {
      const cur = this.e.index.get(rec.id);
      if (!cur || !this.running(cur))
        throw conflict(`cannot kill container: ${rec.name}: container ${rec.id} is not running`);
      const inst = this.instance(cur);
      this.e.events.container(this.e.eventSource(cur), 'kill', { signal: String(signalNumber(sig)) });
      this.deliver(inst, sig);
      if (sig === 'SIGKILL') {
        await this.finishedRun(cur, inst);
        await inst.exit;
      }
    });
  }

  async restart(rec: ContainerRecord, opts: { timeout?: number; signal?: string }): Promise<void> {
    await this.stop(rec, opts).catch((err: { category?: string }) => {
      if (err.category !== 'not-modified') throw err;
    });
    await this.start(rec);
    this.e.events.container(this.e.eventSource(this.e.index.get(rec.id) ?? rec), 'restart');
  }

  /**
   * A signal to the Ryuk process: SIGTERM/SIGINT start its shutdown (main.go NotifyContext);
   * SIGKILL ends it; any other signal's default action in a Go program ends it too (128+n).
   */
  private deliver(inst: Instance, sig: string): void {
    const r = inst.reaper;
    if (!r) return;
    if (sig === 'SIGTERM' || sig === 'SIGINT') r.signal();
    else if (sig === 'SIGKILL') r.kill();
    else if (sig !== 'SIGCHLD' && sig !== 'SIGWINCH' && sig !== 'SIGURG' && sig !== 'SIGPIPE') {
      r.dispose();
      this.exited(inst.id, inst, 128 + (signalNumber(sig) ?? 0));
    }
  }

  /** A Ryuk recorded as running without a live reaper (its start failed half-way): end it now. */
  private async finishedRun(rec: ContainerRecord, inst: Instance): Promise<void> {
    if (!inst.exit && inst.status?.status === 'running' && !inst.reaper) this.exited(rec.id, inst, 137);
  }

  private waitExit(inst: Instance, timeoutMs?: number): Promise<void> {
    return new Promise((resolve) => {
      if (!inst.reaper) return resolve();
      const t = timeoutMs === undefined ? undefined : setTimeout(done, timeoutMs);
      inst.exitListeners.add(done);
      function done() {
        clearTimeout(t);
        inst.exitListeners.delete(done);
        resolve();
      }
    });
  }

  // ------------------------------------------------------------------ streams, top, what it cannot do

  private subject(rec: ContainerRecord): LogSubject {
    const inst = this.instance(rec);
    return {
      log: inst.log,
      tty: !!rec.config.Tty,
      running: () => !!inst.reaper,
      onExit: (cb) => {
        inst.exitListeners.add(cb);
        return () => inst.exitListeners.delete(cb);
      },
    };
  }

  logs(rec: ContainerRecord, opts: LogsOptions): ContainerLogs {
    return ryukLogs(this.subject(rec), opts);
  }

  attach(rec: ContainerRecord, opts: AttachOptions): AttachStart {
    return ryukAttach(this.subject(rec), opts);
  }

  /** docker top: the one process of the Ryuk image. */
  top(rec: ContainerRecord): { Titles: string[]; Processes: string[][] } {
    const st = this.state(rec);
    if (!st?.Running) throw conflict(`Container ${rec.id} is not running`);
    const stime = st.StartedAt.slice(11, 16);
    return {
      Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'],
      Processes: [['root', '1', '0', '0', stime, '?', '00:00:00', '/bin/ryuk']],
    };
  }

  /** exec, docker cp: nothing runs and there is no filesystem: Ryuk is played by kuber-api. */
  refuse(what: string): never {
    throw notImplemented(
      `${what} is not supported by kuber-api on a Ryuk container: kuber-api plays Ryuk itself (no Pod, no processes, no filesystem)`,
    );
  }

  // ------------------------------------------------------------------ published port

  /** The handler of a connection to a published port of container `id`, when it is a Ryuk. */
  connectionHandler(id: string, containerPort: number): ((sock: Socket) => void) | undefined {
    const rec = this.e.index.get(id);
    if (!rec || !this.owns(rec)) return undefined;
    return (sock) => {
      const inst = this.instances.get(id);
      // Nothing listens on another container port, nor once Ryuk exited (connection reset).
      if (!inst?.reaper || inst.cfg?.port !== containerPort) return void sock.destroy();
      inst.reaper.accept(sock);
    };
  }

  // ------------------------------------------------------------------ kuber-api restarts

  /** After the first sync: resume the Ryuks that were running, finish pending AutoRemoves. */
  catchUp(): void {
    for (const rec of this.e.index.all()) {
      const saved = this.saved(rec);
      if (!saved || this.instances.get(rec.id)?.reaper) continue;
      const inst = this.instance(rec);
      if (saved.status === 'exited') {
        if (rec.config.HostConfig?.AutoRemove) void this.autoRemove(rec.id);
        continue;
      }
      let cfg: RyukConfig;
      try {
        cfg = ryukConfig(rec.config.Env);
      } catch {
        this.exited(rec.id, inst, 1);
        continue;
      }
      inst.cfg = cfg;
      inst.log.setVerbose(cfg.verbose);
      inst.reaper = this.reaper(rec, inst, cfg);
      const filters = new Map(saved.filters.map((k) => [k, filtersFromKey(k)]));
      inst.reaper.resume(
        { filters: saved.filters, connectedOnce: saved.connectedOnce },
        Date.parse(saved.startedAt) || Date.now(),
        filters,
      );
      this.e.log.info(
        { id: rec.id, filters: saved.filters.length },
        'ryuk: resumed after a restart; its clients must reconnect within the reconnection timeout',
      );
    }
  }

  close(): void {
    this.closed = true;
    for (const inst of this.instances.values()) inst.reaper?.dispose();
  }
}

export { ANN_RYUK };
