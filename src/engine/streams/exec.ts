/**
 * @module engine/streams/exec
 * Docker exec on pods/exec (moby daemon/exec.go + api/server/router/container/exec.go; the
 * channel protocol of client-go tools/remotecommand, read by stream/channel-reader.ts).
 *
 * - create: the container must be running (409 "container <id> is not running", moby
 *   getActiveContainer); the instance is kept in memory (exec-store.ts); event `exec_create: <cmd>`.
 * - start: dials pods/exec before the hijack (so a container that stopped meanwhile is still an HTTP
 *   error), then bridges the WebSocket and the hijacked connection (src/stream/bridge.ts) with
 *   backpressure both ways. The process gets a terminal when the exec was *created* with Tty; the
 *   framing (raw or stdcopy) follows the *start* body's Tty, as moby. Env/WorkingDir/User are
 *   carried by exec-command.ts. The client's half-close closes the process's stdin (v5 `[255,0]`)
 *   without a TTY, and ends the session with one (moby CopyStreams).
 * - The exit code comes from the channel-3 Status and is recorded **before** the client's stream is
 *   closed: clients inspect right after EOF (docker/cli cli/command/container/exec.go getExecExitStatus). A process that could not be started
 *   (an InternalError status: the runtime's "OCI runtime exec failed...") gets what dockerd gives:
 *   the message on the stream's stdout with "\r\n", ExitCode 126. A non-zero exit the runtime
 *   reports as such (126 "permission denied", 127 "not found") passes through.
 * - A client that goes away ends the session: the WebSocket closes, the kubelet closes the
 *   process's stdio (it sees EOF/EPIPE); dockerd kills it (the Kubernetes API cannot).
 * - Detach (`Detach: true`): no hijack; the exec runs with its output read and dropped, and its exit
 *   code is recorded when it ends. Each holds a WebSocket to the apiserver: at most `maxDetached`
 *   run at once (503 beyond), and one silent for `detachedIdleMs` is let go (its WebSocket closed,
 *   which closes the process's stdio; its exit code stays unknown, null, in inspect).
 */
import { conflict, invalid, systemError, unavailable } from '../../errors.js';
import type { Logger } from '../../log.js';
import { KubeApiError } from '../../kube/client.js';
import type { WebSocket } from 'ws';
import { bridgeStreams, type BridgeEnd } from '../../stream/bridge.js';
import { parseDetachKeys } from '../../stream/detach-keys.js';
import { resizeMessage, CHANNEL_STDOUT, type ChannelStatus } from '../../stream/k8s-channel.js';
import { readChannels, type ChannelEnd } from '../../stream/channel-reader.js';
import { execArgv, explainWrapperFailure } from './exec-command.js';
import { ExecInstance, ExecStore, type ExecConfig, type ExecStoreOptions } from './exec-store.js';
import { mainState, type StreamsHost } from './host.js';
import type { ClientConn, ExecStartOptions, ExecStart } from '../backend/streams.js';

export interface ExecServiceOptions {
  store: ExecStoreOptions;
  /** Detached execs drained at once (503 beyond). */
  maxDetached: number;
  /** A detached exec that sends nothing for this long is let go (0 = never). */
  detachedIdleMs: number;
  /** create opens the apiserver connection start will dial on (ws-dialer preconnect); closed unused after this long (ms; 0 or absent: off). */
  preconnectMs?: number;
  /** Stdin watermarks on the WebSocket's bufferedAmount. */
  stdinHighWater?: number;
  stdinLowWater?: number;
}

/** moby's exec_* event action: `exec_create: <entrypoint> <args...>`. */
const action = (what: string, e: ExecInstance) => `${what}: ${e.config.Cmd.join(' ')}`.trimEnd();

/** The exec create body as dockerd reads it (unknown fields ignored, null lists allowed). */
export function execConfigOf(body: Record<string, unknown> | undefined): ExecConfig {
  const b = body ?? {};
  const strs = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
  const cmd = typeof b.Cmd === 'string' ? [b.Cmd] : strs(b.Cmd);
  const cs = b.ConsoleSize;
  return {
    Cmd: cmd,
    Env: strs(b.Env),
    WorkingDir: typeof b.WorkingDir === 'string' ? b.WorkingDir : '',
    User: typeof b.User === 'string' ? b.User : '',
    Tty: !!b.Tty,
    AttachStdin: !!b.AttachStdin,
    AttachStdout: !!b.AttachStdout,
    AttachStderr: !!b.AttachStderr,
    DetachKeys: typeof b.DetachKeys === 'string' ? b.DetachKeys : '',
    Privileged: !!b.Privileged,
    ConsoleSize: Array.isArray(cs) && cs.length === 2 ? [Number(cs[0]) || 0, Number(cs[1]) || 0] : null,
  };
}

export class ExecService {
  readonly store: ExecStore;
  /** Detached execs whose output is being drained now. */
  detachedRunning = 0;

  constructor(
    private readonly host: StreamsHost,
    private readonly opts: ExecServiceOptions,
    private readonly log: Logger,
  ) {
    this.store = new ExecStore(opts.store);
  }

  /** POST /containers/{id}/exec */
  create(nameOrId: string, body: Record<string, unknown> | undefined): { Id: string } {
    const t = this.host.target(nameOrId);
    const config = execConfigOf(body);
    if (config.Cmd.length === 0) throw invalid('No exec command specified');
    // moby getActiveContainer: paused/restarting have their own texts; everything not running is 409.
    if (t.state.Restarting) throw conflict(`Container ${t.id} is restarting, wait until the container is running`);
    if (t.state.Paused) throw conflict(`Container ${t.id} is paused, unpause the container before exec`);
    const rec = this.host.index.get(t.id);
    const pod = rec && this.host.index.currentPod(rec);
    if (!t.state.Running || !t.podName || mainState(pod, t.containerName) !== 'running')
      throw conflict(`container ${t.id} is not running`);
    const keys = parseDetachKeys(config.DetachKeys || undefined);
    const e = new ExecInstance(
      t.id,
      { namespace: t.namespace, name: t.podName, container: t.containerName },
      config,
      keys,
      Date.now(),
    );
    this.store.add(e);
    if (rec) this.host.events.container(this.host.eventSource(rec), action('exec_create', e), { execID: e.id });
    // Only start may dial pods/exec (the command runs at the dial), but the TCP and TLS handshakes
    // can happen while the client sends it (bench/optimisations.md 6).
    if (this.opts.preconnectMs)
      this.host.kube.dialer
        .preconnect(this.opts.preconnectMs)
        .catch((err: Error) => this.log.debug({ err: err.message }, 'exec preconnect failed'));
    return { Id: e.id };
  }

  /** GET /exec/{id}/json */
  inspect(id: string): Record<string, unknown> {
    return this.store.get(id).inspect();
  }

  /** POST /exec/{id}/resize: remembered, applied now or when the session opens (moby waits for it). */
  resize(id: string, height: number, width: number): void {
    this.store.get(id).resize(width, height);
  }

  /** POST /exec/{id}/start: the checks and the dial; the caller hijacks and calls run(). */
  async start(id: string, so: ExecStartOptions): Promise<ExecStart> {
    const e = this.store.get(id);
    if (so.Detach && this.detachedRunning >= this.opts.maxDetached && e.exitCode === null && !e.started) {
      throw unavailable(
        `cannot start exec ${id}: ${this.detachedRunning} detached execs are running, the most kuber-api keeps (--max-detached-execs); wait for one to end`,
      );
    }
    e.begin();
    if (so.ConsoleSize && so.ConsoleSize[0] > 0 && so.ConsoleSize[1] > 0)
      e.size = { height: so.ConsoleSize[0], width: so.ConsoleSize[1] };
    const c = e.config;
    const spec = {
      cmd: c.Cmd,
      env: c.Env,
      workingDir: c.WorkingDir,
      user: c.User,
      containerUser: this.containerUser(e),
    };
    const detach = !!so.Detach;
    let ws: WebSocket;
    try {
      ({ ws } = await this.host.kube.dialer.exec(e.pod.namespace, e.pod.name, {
        container: e.pod.container,
        command: execArgv(spec),
        stdin: !detach && c.AttachStdin,
        // pods/exec needs at least one stream; a detached exec reads and drops its output.
        stdout: detach || c.AttachStdout || (!c.AttachStdin && !c.AttachStderr),
        stderr: !c.Tty && (detach || c.AttachStderr),
        tty: c.Tty,
      }));
    } catch (err) {
      e.finish(126, Date.now());
      if (err instanceof KubeApiError && (err.status === 404 || err.status === 400))
        throw conflict(`container ${e.containerId} is not running`);
      throw systemError(`exec: ${(err as Error).message}`, err);
    }
    const rec = this.host.index.get(e.containerId);
    if (rec) this.host.events.container(this.host.eventSource(rec), action('exec_start', e), { execID: e.id });
    if (c.Tty && e.size) ws.send(resizeMessage(e.size.width, e.size.height));
    e.session = { resize: (w, h) => c.Tty && ws.readyState === ws.OPEN && ws.send(resizeMessage(w, h)) };
    const tty = !!so.Tty;
    if (detach) {
      void this.runDetached(e, ws);
      return { detach: true, tty, run: async () => {} };
    }
    return { detach: false, tty, run: (conn) => this.run(e, ws, conn, tty, spec) };
  }

  private containerUser(e: ExecInstance): string {
    return this.host.index.get(e.containerId)?.config.User ?? '';
  }

  private async run(
    e: ExecInstance,
    ws: WebSocket,
    conn: ClientConn,
    tty: boolean,
    spec: Parameters<typeof explainWrapperFailure>[0],
  ): Promise<void> {
    const c = e.config;
    const bridge = bridgeStreams({
      ws,
      output: conn.output,
      ...(c.AttachStdin ? { input: conn.input } : {}),
      tty,
      stdinEof: c.Tty ? 'end-session' : 'close-stdin',
      detachKeys: c.Tty ? e.detachKeys : null,
      ...(this.opts.stdinHighWater ? { stdinHighWater: this.opts.stdinHighWater } : {}),
      ...(this.opts.stdinLowWater ? { stdinLowWater: this.opts.stdinLowWater } : {}),
    });
    if (!c.AttachStdin) conn.input.resume(); // read and drop (dockerode's chunk terminator, stray bytes)
    const end = await bridge.done;
    // What the engine itself says on the stream goes through the bridge's output: one framing.
    this.finish(e, end, (b) => !conn.closed && bridge.output.write(CHANNEL_STDOUT, b), spec);
    // The client's EOF first (it inspects the exit code next), then our side of the WebSocket:
    // after the status the apiserver waits for the client to close (channel-reader.ts).
    if (end.reason === 'client-closed') conn.destroy();
    else conn.closeWrite();
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1000);
  }

  /** Record the outcome (before the stream closes), write a start failure like dockerd, emit exec_die. */
  private finish(
    e: ExecInstance,
    end: BridgeEnd | ChannelEnd,
    say: ((b: Buffer) => void) | undefined,
    spec: Parameters<typeof explainWrapperFailure>[0],
  ): void {
    let code: number | null = null;
    if (end.reason === 'closed') code = this.exitCode(end.status, say, spec);
    else if (end.reason === 'error') code = this.exitCode({ kind: 'error', message: end.error.message }, say, spec);
    e.finish(code, Date.now());
    const rec = this.host.index.get(e.containerId);
    if (rec && code !== null)
      this.host.events.container(this.host.eventSource(rec), 'exec_die', { execID: e.id, exitCode: String(code) });
    this.log.debug({ exec: e.id, reason: end.reason, exitCode: code }, 'exec session ended');
  }

  private exitCode(
    s: ChannelStatus,
    say: ((b: Buffer) => void) | undefined,
    spec: Parameters<typeof explainWrapperFailure>[0],
  ): number {
    if (s.kind === 'exit') return s.exitCode;
    // moby ContainerExecStart: a process that cannot start -> the error on stdout + "\r\n", exit 126.
    const m = /OCI runtime exec failed.*$/s.exec(s.message);
    const text = explainWrapperFailure(spec, m ? m[0] : s.message) ?? (m ? m[0] : s.message);
    say?.(Buffer.from(`${text}\r\n`));
    return 126;
  }

  /** A detached exec: drain its output, record its exit code; let it go after `detachedIdleMs` of silence. */
  private async runDetached(e: ExecInstance, ws: WebSocket): Promise<void> {
    this.detachedRunning++;
    let idle: NodeJS.Timeout | undefined;
    let letGo = false;
    try {
      const end = await new Promise<ChannelEnd>((resolve) => {
        const arm = () => {
          if (!this.opts.detachedIdleMs) return;
          clearTimeout(idle);
          idle = setTimeout(() => {
            letGo = true;
            reading.stop();
            ws.terminate();
            resolve({ reason: 'error', error: new Error(`no output for ${this.opts.detachedIdleMs} ms`) });
          }, this.opts.detachedIdleMs);
        };
        const reading = readChannels(ws, arm, resolve);
        arm();
      });
      if (end.reason === 'error') ws.terminate();
      else if (ws.readyState === ws.OPEN) ws.close(1000); // the status came first: ours to close
      if (letGo) {
        e.finish(null, Date.now());
        this.log.info(
          { exec: e.id, container: e.containerId, idleMs: this.opts.detachedIdleMs },
          'detached exec let go after its idle timeout (--detached-exec-idle-ms); its exit code is unknown',
        );
      } else this.finish(e, end, undefined, { cmd: e.config.Cmd });
    } finally {
      clearTimeout(idle);
      this.detachedRunning--;
    }
  }
}
