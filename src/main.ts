/**
 * @module main
 * `kuber-api [flags]`: parse the options, build the Docker API on a backend, listen on every
 * `-H` address, and shut down gracefully on SIGTERM/SIGINT (stop accepting, let running
 * requests and streams finish for up to --shutdown-grace-ms, then cut them).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadOptions, usage, type Options } from './config.js';
import { configureLogger, logger, type Logger } from './log.js';
import { createServer, type Bound, type HttpServer } from './http/index.js';
import { createApi } from './api/index.js';
import type { ApiContext, EventsSource } from './api/context.js';
import type { Backend } from './engine/backend/backend.js';
import type { Booted } from './engine/boot.js';
import { EventBus } from './engine/events/events.js';
import { engineOptionsFrom } from './engine/engine-options.js';
import { lazyBackend } from './engine/backend/lazy-backend.js';
import { engineVersionFor } from './router/version.js';
import type { LevelWithSilent } from 'pino';

function packageVersion(): string {
  try {
    // dist/src/main.js -> package.json
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
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
export async function serve(options: Options, backend: Backend, extra: { events?: EventsSource; log?: Logger } = {}): Promise<Running> {
  const log = extra.log ?? logger();
  const ctx: ApiContext = {
    backend,
    options,
    ...(extra.events ? { events: extra.events } : {}),
    engineVersion: engineVersionFor(options.apiVersion),
    version: VERSION,
    instanceId: randomUUID(),
  };
  const { handler } = createApi(ctx);
  const server = createServer(handler, {
    maxHeaderBytes: options.maxHeaderBytes,
    maxBodyBytes: options.maxBodyBytes,
    headerTimeoutMs: options.headerTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    maxConnections: options.maxConnections,
    log,
  });
  const bound = await server.listen(options.hosts);
  return { server, bound, ctx, close: (graceMs = options.shutdownGraceMs) => server.close(graceMs) };
}

export async function main(argv: string[]): Promise<void> {
  const options = commandLine(argv);
  if (!options) return;
  const log = configureLogger(options.logLevel as LevelWithSilent);
  // The Kubernetes backend: the kubeconfig's cluster, in-cluster config, or the embedded kube-sim.
  // It boots while the API already listens (engine/backend/lazy-backend.ts): calls wait for it.
  const events = new EventBus(options.eventsBufferSize);
  const { boot, listened } = bootLater(options, events, log);
  const backend: Backend = lazyBackend(boot.then((b) => b.engine));
  let running: Running;
  try {
    running = await serve(options, backend, { log, events });
  } catch (err) {
    log.fatal({ err }, 'cannot listen');
    process.exitCode = 1;
    return;
  }
  for (const b of running.bound) log.info({ host: b.url }, `listening on ${b.url}`);
  listened();
  const shutdown = onSignals(options, running, boot, log);
  try {
    await boot;
  } catch (err) {
    if (shutdown.stopping) return;
    shutdown.stopping = true;
    log.fatal({ err }, `cannot reach Kubernetes: ${(err as Error).message}`);
    await running.close(0);
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 2000).unref();
  }
}

/** The options, or undefined when the command line was answered (--help, --version) or refused (exit code 2). */
function commandLine(argv: string[]): Options | undefined {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage());
    return undefined;
  }
  if (argv.includes('--version') || argv.includes('-v')) {
    process.stdout.write(`kuber-api ${VERSION} (Docker Engine API ${loadOptions([], {}).apiVersion})\n`);
    return undefined;
  }
  let options: Options;
  try {
    options = loadOptions(argv);
  } catch (err) {
    process.stderr.write(`kuber-api: ${(err as Error).message}\n\n${usage()}`);
    process.exitCode = 2;
    return undefined;
  }
  if (!['IfNotPresent', 'Always', 'Never'].includes(options.imagePullPolicy)) {
    process.stderr.write(`kuber-api: --image-pull-policy must be IfNotPresent, Always or Never\n`);
    process.exitCode = 2;
    return undefined;
  }
  if (!['none', 'restricted'].includes(options.podSecurity)) {
    process.stderr.write(`kuber-api: --pod-security must be none or restricted\n`);
    process.exitCode = 2;
    return undefined;
  }
  return options;
}

/**
 * Boot the engine once `listened()` is called. The engine is loaded here, not at the top: the
 * Kubernetes client takes seconds to import, and --help, --version and flag errors should not
 * wait for it; the import starts once the listeners are up, so that under load reading the
 * client's many modules does not delay the socket.
 */
function bootLater(options: Options, events: EventBus, log: Logger): { boot: Promise<Booted>; listened: () => void } {
  let listened!: () => void;
  const boot: Promise<Booted> = new Promise<void>((r) => (listened = r)).then(() => import('./engine/boot.js')).then(({ bootKubeBackend }) =>
    bootKubeBackend(
      {
        kubeconfig: options.kubeconfig,
        context: options.context,
        namespace: options.namespace,
        instanceId: options.instanceId,
        stateDir: options.stateDir,
        engine: { events, ...engineOptionsFrom(options, `kuber-api/${VERSION}`) },
      },
      log,
    ),
  );
  boot.catch(() => {}); // handled by main, after listening
  return { boot, listened };
}

/** SIGTERM/SIGINT: drain the listeners and streams (shutdownGraceMs), then the engine; a second signal exits at once. */
function onSignals(options: Options, running: Running, boot: Promise<Booted>, log: Logger): { stopping: boolean } {
  const state = { stopping: false };
  const stop = (signal: NodeJS.Signals) => {
    if (state.stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    state.stopping = true;
    log.info({ signal, graceMs: options.shutdownGraceMs }, 'shutting down');
    running.close(options.shutdownGraceMs).then(() => boot.then((b) => b.close(), () => {})).then(
      () => {
        log.info('stopped');
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
  return state;
}
