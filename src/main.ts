/**
 * @module main
 * `kuber-api [flags]`: parse the options, build the Docker API on a backend, listen on every
 * `-H` address, and shut down gracefully on SIGTERM/SIGINT (stop accepting, let running
 * requests and streams finish for up to --shutdown-grace-ms, then cut them).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TlsOptions } from 'node:tls';
import { loadOptions, usage, type Options } from './config.js';
import { configureLogger, logger, type Logger, type LogFormat } from './log.js';
import { createServer, type Bound, type HttpServer } from './http/index.js';
import { DEFAULT_SOCKET_GROUP, socketGid } from './http/unix-group.js';
import { exposureProblem, tlsFromOptions } from './exposure.js';
import { createApi } from './api/index.js';
import type { ApiContext, EventsSource } from './api/context.js';
import type { Backend } from './engine/backend/backend.js';
import type { Booted } from './engine/boot.js';
import { EventBus } from './engine/events/events.js';
import { engineOptionsFrom } from './engine/engine-options.js';
import { lazyBackend } from './engine/backend/lazy-backend.js';
import { engineVersionFor } from './router/version.js';
import { CliDetaches } from './api/cli-detach.js';
import type { LevelWithSilent } from 'pino';

/** kuber-api's package.json: the first above this module (dist/src/main.js, or a chunk of the build's dist/bundle). */
function packageVersion(): string {
  for (let dir = new URL('.', import.meta.url); ; dir = new URL('..', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'kuber-api') return pkg.version;
    } catch {
      /* none here: look further up */
    }
    if (new URL('..', dir).href === dir.href) return '0.0.0';
  }
}

export const VERSION = packageVersion();

export interface Running {
  server: HttpServer;
  bound: Bound[];
  ctx: ApiContext;
  /** Graceful close (see HttpServer.close). */
  close(graceMs?: number): Promise<void>;
}

/** Build the API on `backend` and listen on `options.hosts`. Used by main() and by tests. */
export async function serve(
  options: Options,
  backend: Backend,
  extra: {
    events?: EventsSource;
    log?: Logger;
    tls?: TlsOptions;
    socketGid?: number;
    socketGidOptional?: boolean;
  } = {},
): Promise<Running> {
  const log = extra.log ?? logger();
  const ctx: ApiContext = {
    backend,
    options,
    ...(extra.events ? { events: extra.events } : {}),
    engineVersion: engineVersionFor(options.apiVersion),
    version: VERSION,
    instanceId: randomUUID(),
    detaches: new CliDetaches(),
  };
  const { handler } = createApi(ctx);
  const server = createServer(handler, {
    maxHeaderBytes: options.maxHeaderBytes,
    maxBodyBytes: options.maxBodyBytes,
    streamBatchBytes: options.streamBatchBytes,
    headerTimeoutMs: options.headerTimeoutMs,
    bodyTimeoutMs: options.bodyTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    maxConnections: options.maxConnections,
    socketMode: parseInt(options.socketMode, 8),
    ...(extra.tls ? { tls: extra.tls } : {}),
    ...(extra.socketGid !== undefined
      ? { socketGid: extra.socketGid, socketGidOptional: !!extra.socketGidOptional }
      : {}),
    log,
  });
  const bound = await server.listen(options.hosts);
  return { server, bound, ctx, close: (graceMs = options.shutdownGraceMs) => server.close(graceMs) };
}

/** One line and a hint, as dockerd's cobra prints a wrong flag. */
function usageError(message: string): void {
  process.stderr.write(`${message}\nSee 'kuber-api --help'.\n`);
  process.exitCode = 2;
}

export async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage());
    return;
  }
  if (argv.includes('--version') || argv.includes('-v')) {
    process.stdout.write(`kuber-api ${VERSION} (Docker Engine API ${loadOptions([], {}).apiVersion})\n`);
    return;
  }
  let options: Options;
  try {
    options = loadOptions(argv);
  } catch (err) {
    return usageError((err as Error).message);
  }
  const log = configureLogger(options.logLevel as LevelWithSilent, undefined, options.logFormat as LogFormat);
  if (!['IfNotPresent', 'Always', 'Never'].includes(options.imagePullPolicy))
    return usageError('--image-pull-policy must be IfNotPresent, Always or Never');
  const exposed = exposureProblem(options);
  if (exposed) {
    log.fatal(exposed);
    process.exitCode = 1;
    return;
  }
  let tls: TlsOptions | undefined;
  let gid: number | undefined;
  try {
    tls = tlsFromOptions(options);
    gid = socketGid(options.socketGroup, (msg) => log.debug(msg));
  } catch (err) {
    log.fatal((err as Error).message);
    process.exitCode = 1;
    return;
  }
  // The Kubernetes backend: the kubeconfig's cluster, in-cluster config, or the embedded kube-sim.
  // It boots while the API already listens (engine/backend/lazy-backend.ts): calls wait for it.
  const events = new EventBus(options.eventsBufferSize);
  const { boot, startup, listened } = bootWithDeadline(options, events, log);
  const backend: Backend = lazyBackend(boot.then((b) => b.engine));
  let running: Running;
  try {
    running = await serve(options, backend, {
      log,
      events,
      ...(tls ? { tls } : {}),
      ...(gid !== undefined ? { socketGid: gid, socketGidOptional: options.socketGroup === DEFAULT_SOCKET_GROUP } : {}),
    });
  } catch (err) {
    log.fatal({ err }, 'cannot listen');
    process.exitCode = 1;
    startup.abort(err);
    return;
  }
  for (const b of running.bound)
    log.info(
      { host: b.url },
      `listening on ${b.url}${tls && b.address.kind === 'tcp' ? (options.tlsVerify ? ' (TLS, client certificates required)' : ' (TLS)') : ''}`,
    );
  listened();
  handleSignals(options, log, running, boot, startup);
  try {
    await boot;
  } catch (err) {
    if (stopping) return;
    stopping = true;
    log.fatal(`cannot start: ${(err as Error).message}`);
    await running.close(0);
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 2000).unref();
  }
}

let stopping = false;

/**
 * Boot the Kubernetes backend once `listened()` is called, with a deadline: the preflight stops
 * retrying an unreachable apiserver at it, and whatever else still waits then makes kuber-api
 * exit (a sidecar that never becomes usable must fail its job, not hang it). Aborting `startup`
 * (the deadline, a SIGTERM) abandons the boot; one that finishes later is closed at once.
 */
function bootWithDeadline(
  options: Options,
  events: EventBus,
  log: Logger,
): { boot: Promise<Booted>; startup: AbortController; listened: () => void } {
  const startup = new AbortController();
  const ms = options.startupTimeoutMs;
  const deadline =
    ms > 0
      ? setTimeout(
          () => startup.abort(new Error(`the Kubernetes backend was not ready within ${ms} ms (--startup-timeout-ms)`)),
          ms,
        )
      : undefined;
  deadline?.unref();
  // At the deadline the boot gets a moment to fail with its own, more precise error (the
  // preflight's last failure); a signal abandons it at once.
  const aborted = new Promise<never>((_, reject) =>
    startup.signal.addEventListener(
      'abort',
      () => (stopping ? reject(startup.signal.reason) : setTimeout(() => reject(startup.signal.reason), 1000).unref()),
      { once: true },
    ),
  );
  aborted.catch(() => {});
  // Loaded only now: the Kubernetes client takes seconds to import, and --help, --version and
  // flag errors should not wait for it; and the import starts once the listeners are up (under
  // load, reading the client's many modules must not delay the socket).
  let listened!: () => void;
  const booting: Promise<Booted> = new Promise<void>((r) => (listened = r))
    .then(() => import('./engine/boot.js'))
    .then(({ bootKubeBackend }) =>
      bootKubeBackend(
        {
          kubeconfig: options.kubeconfig,
          context: options.context,
          namespace: options.namespace,
          instanceId: options.instanceId,
          stateDir: options.stateDir,
          installPrereqs: options.installPrereqs,
          kubeClient: {
            callDeadlineMs: options.kubeCallDeadlineMs,
            wsHandshakeTimeoutMs: options.wsHandshakeTimeoutMs,
          },
          kubeCache: { tombstoneMs: options.watchTombstoneMs, maxTombstones: options.watchTombstones },
          ...(options.operatorUrl
            ? {
                operator: {
                  url: options.operatorUrl,
                  waitMs: options.operatorWaitMs,
                  ...(options.operatorTokenFile ? { tokenFile: options.operatorTokenFile } : {}),
                  ...(options.operatorCaFile ? { caFile: options.operatorCaFile } : {}),
                },
              }
            : {}),
          signal: startup.signal,
          engine: { events, ...engineOptionsFrom(options, `kuber-api/${VERSION}`) },
        },
        log,
      ),
    );
  booting.then(
    (b) => {
      if (startup.signal.aborted) void b.close();
    },
    () => {},
  );
  const boot = Promise.race([booting, aborted]);
  boot.then(
    () => clearTimeout(deadline),
    () => clearTimeout(deadline),
  );
  boot.catch(() => {}); // main handles it, after listening
  return { boot, startup, listened };
}

/**
 * SIGTERM/SIGINT: stop accepting; events, waits and log follows end at once (Request.shutdown);
 * hijacked streams and uploads get --shutdown-grace-ms; then the backend closes and the process
 * exits as soon as nothing is open. A signal during startup abandons the startup. A second
 * signal exits at once.
 */
function handleSignals(
  options: Options,
  log: Logger,
  running: Running,
  boot: Promise<Booted>,
  startup: AbortController,
): void {
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    const t0 = Date.now();
    log.info({ signal, graceMs: options.shutdownGraceMs }, 'shutting down');
    startup.abort(new Error(`${signal} during startup`));
    running
      .close(options.shutdownGraceMs)
      .then(() =>
        boot.then(
          (b) => b.close(),
          () => {},
        ),
      )
      .then(
        () => {
          log.info({ ms: Date.now() - t0 }, 'stopped');
          process.exitCode = 0;
          // Everything we own is closed; a handle someone else left open must not keep a
          // terminated sidecar alive (this timer only fires if the process is still up).
          setTimeout(() => {
            log.warn('handles still open after shutdown: exiting');
            process.exit(0);
          }, 2000).unref();
        },
        (err) => {
          log.error({ err }, 'shutdown failed');
          process.exitCode = 1;
        },
      );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
