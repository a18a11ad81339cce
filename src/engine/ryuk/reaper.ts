/**
 * @module engine/ryuk/reaper
 * One running Ryuk, in process: moby-ryuk reaper.go's state machine on kuber-api's published port.
 *
 * - The prune check fires RYUK_CONNECTION_TIMEOUT after the start when nobody connected, and
 *   RYUK_RECONNECTION_TIMEOUT after the last connection closed; a connection stops it (pruneWait).
 * - Each connection sends filter lines (engine/ryuk/protocol.ts); each is made durable in the
 *   container's record before its `ACK` (so that a kuber-api restart right after still reaps it).
 *   Lines are handled in order, one at a time: the socket is paused meanwhile (backpressure).
 * - SIGTERM (`docker stop`) closes the listener; with no client the prune runs at once, else after
 *   RYUK_SHUTDOWN_TIMEOUT or when the last client leaves. SIGKILL ends it without pruning.
 * - The check finds what matches (engine/ryuk/prune.ts); anything created after the check began
 *   (RYUK_RETRY_OFFSET) makes it wait RYUK_CHANGES_RETRY_INTERVAL and check again; then the
 *   listener closes, the resources are removed, and Ryuk exits: 0, or 1 when something failed.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../../log.js';
import type { RyukConfig } from './config.js';
import { configAttrs } from './config.js';
import { formatGoDuration, goList, type FilterArgs } from './go.js';
import { ACK, LineScanner, parseFilterLine } from './protocol.js';
import type { Pruner } from './prune.js';
import type { RyukLog } from './ryuk-log.js';

export interface ReaperDeps {
  log: RyukLog;
  pruner: Pruner;
  /** kuber-api's own log (limits reached, persistence failures). */
  klog: Logger;
  /** Make the current filters durable; resolves once a write that includes them is done. */
  persist(): Promise<void>;
  /** The process ended with this exit code. */
  exited(code: number): void;
  maxLineBytes: number;
  maxFilters: number;
  maxConnections: number;
}

/** What survives a kuber-api restart (the record's `kuber-api.io/ryuk` annotation). */
export interface ReaperSaved {
  filters: string[];
  connectedOnce: boolean;
}

/** Go's net.Addr String of the client: `1.2.3.4:port`, `[::1]:port` (an IPv4-mapped address as IPv4). */
function addrOf(s: Socket): string {
  const ip = (s.remoteAddress ?? '').replace(/^::ffff:(?=\d+\.)/, '');
  return ip.includes(':') ? `[${ip}]:${s.remotePort}` : `${ip}:${s.remotePort}`;
}

export class Reaper {
  /** filters.Args JSON -> args. */
  readonly filters = new Map<string, FilterArgs>();
  connectedOnce = false;
  private readonly clients = new Set<Socket>();
  private readonly held: Socket[] = [];
  private timer: NodeJS.Timeout | undefined;
  private listening = true;
  private checking = false;
  /** The prune runs: Ryuk no longer reads connection changes (pruneWait has returned). */
  private pruning = false;
  private shutdownDeadline: number | undefined;
  private ended = false;

  constructor(
    readonly cfg: RyukConfig,
    private readonly d: ReaperDeps,
  ) {}

  get exited(): boolean {
    return this.ended;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Connections accepted during a prune check, waiting for it to end (bounded by maxConnections with the clients). */
  get heldCount(): number {
    return this.held.length;
  }

  saved(): ReaperSaved {
    return { filters: [...this.filters.keys()], connectedOnce: this.connectedOnce };
  }

  /** A fresh start: what newReaper and processClients log, then the connection timeout runs. */
  start(port: number): void {
    const log = this.d.log;
    log.emit('INFO', 'starting', configAttrs(this.cfg), 'Pinging Docker...');
    log.emit('INFO', '', [], 'Docker daemon is available!');
    log.emit('INFO', '', [], `Starting on port ${port}...`);
    log.emit('INFO', 'Started', [['address', `[::]:${port}`]], 'Started!');
    log.emit('INFO', 'client processing started');
    this.arm(this.cfg.connectionTimeoutMs);
  }

  /**
   * After a kuber-api restart: the filters come back from the record, every connection was cut by
   * the restart, so the prune check runs a reconnection timeout from now (or what is left of the
   * connection timeout when nobody ever connected).
   */
  resume(saved: ReaperSaved, startedAt: number, filters: Map<string, FilterArgs>): void {
    for (const [k, v] of filters) this.filters.set(k, v);
    this.connectedOnce = saved.connectedOnce;
    this.arm(
      saved.connectedOnce
        ? this.cfg.reconnectionTimeoutMs
        : Math.max(0, startedAt + this.cfg.connectionTimeoutMs - Date.now()),
    );
  }

  private arm(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pruneCheck(), Math.max(0, ms));
  }

  /** A connection on the published Ryuk port (paused: pauseOnConnect). */
  accept(sock: Socket): void {
    if (this.ended || !this.listening) {
      this.d.log.emit('WARN', 'shutdown, aborting client', [['address', addrOf(sock)]]);
      sock.destroy();
      return;
    }
    // Held connections count against the limit too: a flood during a long check is refused, not queued.
    if (this.clients.size + this.held.length >= this.d.maxConnections) {
      this.d.klog.warn({ limit: this.d.maxConnections }, 'ryuk: connection refused: --ryuk-max-connections reached');
      sock.destroy();
      return;
    }
    if (this.checking) {
      this.held.push(sock); // Ryuk's accept loop blocks until the check is over (unbuffered channel)
      return;
    }
    const addr = addrOf(sock);
    this.clients.add(sock);
    this.d.log.emit(
      'INFO',
      'client connected',
      [
        ['address', addr],
        ['clients', this.clients.size],
      ],
      `New client connected: ${addr}`,
    );
    if (this.clients.size === 1) clearTimeout(this.timer);
    if (!this.connectedOnce) {
      this.connectedOnce = true;
      void this.d.persist().catch(() => {});
    }
    sock.once('close', () => this.disconnected(sock, addr));
    sock.on('error', () => {});
    this.serve(sock, addr);
  }

  private disconnected(sock: Socket, addr: string): void {
    if (!this.clients.delete(sock) || this.ended || this.pruning) return;
    this.d.log.emit(
      'INFO',
      'client disconnected',
      [
        ['address', addr],
        ['clients', this.clients.size],
      ],
      `Client disconnected: ${addr}`,
    );
    // No clients: the prune check after the reconnection timeout, overriding a shutdown's.
    if (this.clients.size === 0) this.arm(this.cfg.reconnectionTimeoutMs);
  }

  /** reaper.go handle: read lines, add filters, ACK each; close when the client is done. */
  private serve(sock: Socket, addr: string): void {
    const scanner = new LineScanner(this.d.maxLineBytes);
    let queue = Promise.resolve();
    const run = (lines: string[], then?: () => void) => {
      sock.pause();
      queue = queue
        .then(async () => {
          for (const line of lines) await this.line(sock, addr, line);
          if (then) then();
          else if (!sock.destroyed) sock.resume();
        })
        .catch(() => {
          sock.destroy();
        });
    };
    sock.on('data', (chunk: Buffer) => {
      try {
        run(scanner.push(chunk));
      } catch (err) {
        sock.removeAllListeners('data');
        this.d.log.emit(
          'ERROR',
          'scan',
          [
            ['address', addr],
            ['error', (err as Error).message],
          ],
          (err as Error).message,
        );
        run([], () => sock.destroy());
      }
    });
    sock.once('end', () => run(scanner.end(), () => sock.end()));
    sock.resume();
  }

  private async line(sock: Socket, addr: string, line: string): Promise<void> {
    if (this.ended) return;
    if (line === '') {
      this.d.log.emit('WARN', 'empty filter received', [['address', addr]]);
      return;
    }
    const f = parseFilterLine(line);
    if ('error' in f) {
      this.d.log.emit(
        'ERROR',
        'add filter',
        [
          ['address', addr],
          ['error', f.error],
        ],
        f.error.replace(/^parse query: /, ''),
      );
    } else {
      for (const [type, values] of f.types)
        this.d.log.emit('INFO', 'adding filter', [
          ['type', type],
          ['values', goList(values)],
        ]);
      this.d.log.emit('INFO', '', [], `Adding ${f.key}`);
      if (!this.filters.has(f.key)) {
        if (this.filters.size >= this.d.maxFilters) {
          this.d.klog.warn({ limit: this.d.maxFilters }, 'ryuk: filter dropped: --ryuk-max-filters reached');
          sock.destroy();
          return;
        }
        this.filters.set(f.key, f.args);
        await this.d.persist();
      }
    }
    if (!sock.destroyed) sock.write(ACK);
  }

  /** SIGTERM (reaper.go pruneWait `<-done`). */
  signal(): void {
    if (this.ended || this.shutdownDeadline !== undefined) return;
    this.d.log.emit(
      'INFO',
      'signal received',
      [
        ['clients', this.clients.size],
        ['shutdown_timeout', formatGoDuration(this.cfg.shutdownTimeoutMs)],
      ],
      'Signal received',
    );
    this.shutdownListener();
    this.shutdownDeadline = Date.now() + this.cfg.shutdownTimeoutMs;
    this.arm(this.clients.size === 0 ? 0 : this.cfg.shutdownTimeoutMs);
  }

  /** SIGKILL: the process is gone, nothing is pruned. */
  kill(): void {
    this.finish(137);
  }

  /** The container was removed: stop everything, report nothing. */
  dispose(): void {
    if (this.ended) return;
    this.ended = true;
    this.stopAll();
  }

  private shutdownListener(): void {
    if (!this.listening) return;
    this.listening = false;
    for (const s of this.held.splice(0)) this.accept(s);
    this.d.log.emit('INFO', 'client processing stopped');
  }

  /** reaper.go pruneWait's `<-pruneCheck.C` and pruner. */
  private async pruneCheck(): Promise<void> {
    if (this.ended || this.checking || this.pruning) return;
    const log = this.d.log;
    log.emit(
      this.clients.size ? 'WARN' : 'INFO',
      'prune check',
      [['clients', this.clients.size]],
      'Timeout waiting for connection',
    );
    this.checking = true;
    const now = Date.now();
    const sel = await this.d.pruner.select([...this.filters.values()], now + this.cfg.retryOffsetMs);
    this.checking = false;
    if (this.ended) return;
    if (sel.changes.length) {
      if (this.shutdownDeadline === undefined || now < this.shutdownDeadline) {
        log.emit('WARN', 'change detected, waiting again', [['error', sel.changes.join('\n')]]);
        for (const s of this.held.splice(0)) this.accept(s);
        this.arm(this.cfg.changesRetryIntervalMs);
        return;
      }
      log.emit('WARN', 'shutdown timeout reached, forcing prune', [['error', sel.changes.join('\n')]]);
    }
    this.pruning = true;
    clearTimeout(this.timer);
    this.shutdownListener();
    const report = await this.d.pruner.prune(sel.resources, this.cfg.removeRetries, () => this.ended);
    if (this.ended) return;
    const c = report.counts;
    log.emit(
      'INFO',
      'removed',
      [
        ['containers', c.container],
        ['networks', c.network],
        ['volumes', c.volume],
        ['images', c.image],
      ],
      `Removed ${c.container} container(s), ${c.network} network(s), ${c.volume} volume(s) ${c.image} image(s)`,
    );
    log.emit('INFO', 'done');
    const errors = [
      ...sel.errors.map((e) => `prune wait: resources: ${e}`),
      ...report.errors.map((e) => `prune: ${e}`),
    ];
    if (errors.length) log.emit('ERROR', 'run', [['error', `run: ${errors.join('\n')}`]]);
    this.finish(errors.length ? 1 : 0);
  }

  private finish(code: number): void {
    if (this.ended) return;
    this.ended = true;
    this.stopAll();
    this.d.exited(code);
  }

  private stopAll(): void {
    clearTimeout(this.timer);
    this.listening = false;
    for (const s of [...this.clients, ...this.held.splice(0)]) s.destroy();
    this.clients.clear();
  }
}
