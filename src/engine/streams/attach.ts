/**
 * @module engine/streams/attach
 * Docker attach on Kubernetes (moby daemon/attach.go + container/stream/attach.go, the route in
 * api/server/router/container/container_routes.go postContainersAttach; Kubernetes pods/attach
 * through client-go tools/remotecommand, and pods/log). The design is in src/ARCHITECTURE.md,
 * "Stream guarantees";
 * in short:
 *
 * - **Attach before the run** (what `docker run` and `docker start -a` do: the container is
 *   created, exited, or its Pod is still coming up): wait (by watch) for the run's container to
 *   run, then
 *   - without a TTY: the output is the Pod's log followed from the instance's first byte
 *     (logs.ts: `stream=Stdout` + `stream=Stderr` merged by timestamp where the cluster has split
 *     streams, the one merged body on stdout where it does not), so nothing is lost however short
 *     the container lived; stdin goes through a stdin-only pods/attach;
 *   - with a TTY: pods/attach (stdin + the terminal), its output held back while the log of what
 *     the terminal printed before is replayed, then released minus the overlap (attach-replay.ts);
 *     the client's stdin is held until then, so nothing typed is echoed twice.
 * - **Attach to a running container**: pods/attach, output from now on (stdout and stderr on their
 *   own channels), bridged to the client (src/stream/bridge.ts).
 * - `logs=1` replays the current run's log first. The stream ends when the container exits (our FIN
 *   after the last byte). A client that goes away, or types the detach keys (TTY), detaches: the
 *   container keeps running and a `detach` event is published. Resize goes to every TTY session of
 *   the container as channel 4; a size that arrives before a session exists is kept for it.
 */
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { conflict } from '../../errors.js';
import type { Logger } from '../../log.js';
import { bridgeStreams, InputPump } from '../../stream/bridge.js';
import { parseDetachKeys } from '../../stream/detach-keys.js';
import { closeStdinMessage, resizeMessage, CHANNEL_STDOUT, canCloseStdin } from '../../stream/k8s-channel.js';
import { readChannels } from '../../stream/channel-reader.js';
import { ReplayJoin } from './attach-replay.js';
import { openPodLog } from '../../kube/pod-log.js';
import { streamPodLog } from './logs.js';
import { mainState, type StreamPod, type StreamsHost, type StreamTarget } from './host.js';
import type { ClientConn, LogSink } from '../backend/streams.js';
import type { AttachEnd, AttachOptions, AttachStart } from '../backend/streams.js';
import type { BridgeEnd } from '../../stream/bridge.js';

export interface AttachServiceOptions {
  /** follow + merge: how long a quiet stream may hold the other one's lines (ms). */
  holdMs: number;
  /** TTY replay: attach output held back while the log is replayed (bytes) before the WebSocket is paused. */
  replayHoldBytes: number;
}

/** A TTY session of a container that resizes reach. */
interface TtySession {
  ws?: WebSocket;
}

interface SizeState {
  size?: { width: number; height: number };
  sessions: Set<TtySession>;
}

/** A bridge's end as the session's: everything but the container's own end is a detach. */
function sessionEnd(end: BridgeEnd): AttachEnd {
  if (end.reason === 'detach') return 'detach-keys';
  if (end.reason === 'stdin-eof') return 'stdin-eof';
  return end.reason === 'client-closed' ? 'client-gone' : 'ended';
}

type RunReady = { kind: 'running' | 'terminated'; pod: StreamPod; run: number } | { kind: 'gone' };

export class AttachService {
  private readonly sizes = new Map<string, SizeState>();

  constructor(
    private readonly host: StreamsHost,
    private readonly opts: AttachServiceOptions,
    private readonly log: Logger,
  ) {}

  private sizeState(id: string): SizeState {
    let s = this.sizes.get(id);
    if (!s) this.sizes.set(id, (s = { sessions: new Set() }));
    return s;
  }

  private dropSession(id: string, sess: TtySession): void {
    const s = this.sizes.get(id);
    if (!s) return;
    s.sessions.delete(sess);
    if (!s.sessions.size && !s.size) this.sizes.delete(id);
  }

  /**
   * POST /containers/{id}/resize: answered at once (the docker CLI resizes right after start, when
   * the process may not exist yet); applied to every TTY session of the container, and kept for
   * the next one.
   */
  resize(nameOrId: string, height: number, width: number): void {
    const t = this.host.target(nameOrId);
    const s = this.sizeState(t.id);
    s.size = { width, height };
    if (!t.config.Tty) return;
    for (const sess of s.sessions) if (sess.ws?.readyState === 1) sess.ws.send(resizeMessage(width, height));
  }

  /** Forget what is kept for a removed container. */
  forget(id: string): void {
    this.sizes.delete(id);
  }

  /** Checks before the hijack (moby: 404, 400 detach keys, 409 paused/restarting). */
  attach(nameOrId: string, o: AttachOptions): AttachStart {
    const keys = parseDetachKeys(o.detachKeys || undefined);
    const t = this.host.target(nameOrId);
    if (t.state.Paused) throw conflict(`container ${nameOrId} is paused, unpause the container before attach`);
    if (t.state.Restarting) throw conflict(`container ${nameOrId} is restarting, wait until the container is running`);
    const tty = !!t.config.Tty;
    // Decided now, before the 101 goes out: `docker run` starts the container as soon as it has the
    // 101, so by the time the session runs the container may already be running (or gone), and a
    // live attach then would miss its first bytes. Not running now = the session is for the run
    // that is coming up (the current one if its Pod is starting, else the next).
    const rec = this.host.index.get(t.id);
    const now = mainState(rec ? this.host.index.currentPod(rec) : undefined, t.containerName);
    const wantRun = now === 'running' ? undefined : now === 'waiting' ? t.run : t.run + 1;
    this.log.debug({ container: t.id, now, wantRun, run: t.run }, 'attach: session planned');
    return { tty, run: (conn) => this.run(t, o, keys, conn, wantRun) };
  }

  private event(t: StreamTarget, action: 'attach' | 'detach'): void {
    const rec = this.host.index.get(t.id);
    if (rec) this.host.events.container(this.host.eventSource(rec), action);
  }

  private async run(
    t: StreamTarget,
    o: AttachOptions,
    keys: Buffer,
    conn: ClientConn,
    wantRun: number | undefined,
  ): Promise<AttachEnd> {
    const tty = !!t.config.Tty;
    const useStdin = o.stdin && !!t.config.OpenStdin;
    const abort = new AbortController();
    conn.onClose(() => abort.abort());
    if (!useStdin) conn.input.resume(); // the client's FIN is ignored without stdin; stray bytes dropped
    const out = conn.output as unknown as LogSink & { end(): void };
    let end: AttachEnd = 'ended';
    // AutoRemove waits (bounded) until the session is over: `docker run --rm` of a short-lived
    // container would otherwise lose the Pod (and its log) before the first byte was read.
    const release = this.host.holdAutoRemove?.(t.id);
    try {
      if (o.logs && t.podName) {
        await streamPodLog(
          this.host.kube.client,
          { namespace: t.namespace, pod: t.podName, container: t.containerName, tty },
          { stdout: o.stdout, stderr: o.stderr, follow: false, timestamps: false, holdMs: 0, signal: abort.signal },
          out,
        );
      }
      this.event(t, 'attach');
      if (!o.stream || abort.signal.aborted) return abort.signal.aborted ? 'client-gone' : 'ended';
      let run = t.run;
      if (wantRun === undefined) end = await this.live(t, o, keys, conn, useStdin);
      else {
        const ready = await this.waitRun(t, wantRun, abort.signal);
        if (ready.kind === 'gone' || abort.signal.aborted) return abort.signal.aborted ? 'client-gone' : 'ended';
        run = ready.run;
        end = await (tty
          ? this.freshTty(t, ready, keys, conn, useStdin, abort.signal)
          : this.freshLog(t, o, ready, conn, useStdin, abort.signal));
      }
      // The output ended because the container did: let the engine see the exit before our FIN,
      // so that a client that inspects (or removes) right after EOF finds it exited, as on dockerd.
      this.log.debug({ container: t.id, end, aborted: abort.signal.aborted }, 'attach: stream ended');
      if (end === 'ended' && !abort.signal.aborted) await this.exitSeen(t, run);
    } catch (err) {
      if (!abort.signal.aborted) {
        this.log.warn({ err, container: t.id }, 'attach failed');
        if (!conn.closed) conn.output.write(Buffer.from(`Error attaching: ${(err as Error).message}\n`));
      }
    } finally {
      release?.();
      if (abort.signal.aborted || end !== 'ended') this.event(t, 'detach');
      if (abort.signal.aborted) conn.destroy();
      else conn.closeWrite();
    }
    return abort.signal.aborted ? 'client-gone' : end;
  }

  /** Resolves once the engine no longer sees run `run` of the container running (at most 5 s). */
  private async exitSeen(t: StreamTarget, run: number): Promise<void> {
    await this.host.index
      .when(
        () => {
          const r = this.host.index.get(t.id);
          if (!r || r.state.run !== run) return true;
          return mainState(this.host.index.currentPod(r), t.containerName) === 'running' ? undefined : true;
        },
        { timeoutMs: 5000 },
      )
      .catch(() => undefined);
  }

  /** Wait for run `want` (or a later one) of the container to run or end; 'gone' when removed or failed to start. */
  private waitRun(t: StreamTarget, want: number, signal: AbortSignal): Promise<RunReady> {
    const since = Date.now();
    return this.host.index
      .when<RunReady>(
        () => {
          const r = this.host.index.get(t.id);
          if (!r) return { kind: 'gone' };
          if (r.state.run < want) return undefined;
          const pod = this.host.index.currentPod(r);
          const st = mainState(pod, t.containerName);
          if (st === 'running' || st === 'terminated') return { kind: st, pod: pod!, run: r.state.run };
          const failedAt = r.state.startError ? Date.parse(r.state.startError.at) : NaN;
          if (st === 'absent' && failedAt >= since - 1000) return { kind: 'gone' }; // the start failed: its error went to `docker start`
          return undefined;
        },
        { signal },
      )
      .catch((): RunReady => ({ kind: 'gone' }));
  }

  /**
   * Non-TTY, attached before the run: output from the Pod log (from its first byte), stdin through
   * a stdin-only pods/attach. Resolves 'stdin-eof' if the session ended as a detach (the client's
   * half-close without StdinOnce: moby ends the session, the container runs on).
   */
  private async freshLog(
    t: StreamTarget,
    o: AttachOptions,
    ready: Extract<RunReady, { pod: StreamPod }>,
    conn: ClientConn,
    useStdin: boolean,
    signal: AbortSignal,
  ): Promise<AttachEnd> {
    const pod = ready.pod.metadata.name;
    const local = new AbortController();
    const onAbort = () => local.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const stdin = useStdin && ready.kind === 'running' ? this.stdinOnly(t, pod, conn, local.signal) : undefined;
    let endSession = false;
    void stdin?.done.then((r) => {
      if (r === 'end-session') {
        endSession = true;
        local.abort();
      }
    });
    try {
      await streamPodLog(
        this.host.kube.client,
        { namespace: t.namespace, pod, container: t.containerName, tty: false },
        {
          stdout: o.stdout,
          stderr: o.stderr,
          follow: true,
          timestamps: false,
          holdMs: this.opts.holdMs,
          signal: local.signal,
        },
        conn.output as unknown as LogSink,
      );
    } finally {
      signal.removeEventListener('abort', onAbort);
      stdin?.stop();
    }
    return endSession ? 'stdin-eof' : 'ended';
  }

  /**
   * A stdin-only pods/attach for a non-TTY container: client bytes -> channel 0 with backpressure
   * (src/stream InputPump); the client's half-close -> `[255,0]` with StdinOnce (the kubelet then
   * closes the container's stdin; the WebSocket stays until the container exits), or the end of
   * the session without it. On v4 there is no stdin half-close (the CLOSE signal is v5, KEP-4006): stdin stays open.
   */
  private stdinOnly(
    t: StreamTarget,
    pod: string,
    conn: ClientConn,
    signal: AbortSignal,
  ): { done: Promise<'end-session' | 'closed'>; stop(): void } {
    let stop: () => void = () => {};
    let stopped = false;
    const done = (async (): Promise<'end-session' | 'closed'> => {
      let ws: WebSocket;
      let protocol: string;
      try {
        ({ ws, protocol } = await this.host.kube.dialer.attach(
          t.namespace,
          pod,
          { container: t.containerName, stdin: true, stdout: false, stderr: false, tty: false },
          { signal },
        ));
      } catch (err) {
        this.log.debug({ err, pod }, 'stdin attach failed (the container may have exited)');
        conn.input.resume();
        return 'closed';
      }
      if (stopped) {
        ws.close(1000);
        return 'closed';
      }
      const once = !!t.config.StdinOnce;
      return new Promise((resolve) => {
        const pump = new InputPump(ws, conn.input, { detachKeys: null });
        const onData = (c: Buffer) => pump.data(c);
        const onEnd = () => {
          if (!once) return finish('end-session');
          if (canCloseStdin(protocol)) ws.send(closeStdinMessage());
        };
        let settled = false;
        const finish = (r: 'end-session' | 'closed') => {
          if (settled) return;
          settled = true;
          conn.input.removeListener('data', onData);
          conn.input.removeListener('end', onEnd);
          pump.stop(true);
          if (ws.readyState <= 1) ws.close(1000);
          resolve(r);
        };
        stop = () => finish('closed');
        ws.on('message', () => {}); // the empty "connected" frame, and the Success status at the end
        ws.on('error', () => {});
        ws.on('close', () => finish('closed'));
        conn.input.on('data', onData);
        conn.input.on('end', onEnd);
      });
    })();
    return {
      done,
      stop: () => {
        stopped = true;
        stop();
      },
    };
  }

  /**
   * TTY, attached before the run: pods/attach first (output held, stdin held), then the log of
   * what the terminal printed before the attach, then the held output minus the overlap, then the
   * live bridge.
   */
  private async freshTty(
    t: StreamTarget,
    ready: Extract<RunReady, { pod: StreamPod }>,
    keys: Buffer,
    conn: ClientConn,
    useStdin: boolean,
    signal: AbortSignal,
  ): Promise<AttachEnd> {
    const pod = ready.pod.metadata.name;
    const target = { namespace: t.namespace, pod, container: t.containerName, tty: true };
    const replayOnly = async () => {
      await streamPodLog(
        this.host.kube.client,
        target,
        { stdout: true, stderr: false, follow: false, timestamps: false, holdMs: 0, signal },
        conn.output as unknown as LogSink,
      );
      return 'ended' as const;
    };
    if (ready.kind === 'terminated') return replayOnly();
    const sess: TtySession = {};
    const sizes = this.sizeState(t.id);
    sizes.sessions.add(sess);
    try {
      let ws: WebSocket;
      try {
        ({ ws } = await this.host.kube.dialer.attach(
          t.namespace,
          pod,
          { container: t.containerName, stdin: useStdin, stdout: true, stderr: false, tty: true },
          { signal },
        ));
      } catch {
        return replayOnly(); // it ended meanwhile: the log has all of it
      }
      sess.ws = ws;
      if (sizes.size) ws.send(resizeMessage(sizes.size.width, sizes.size.height));
      // Hold the live output until the replay is done (bounded: the socket is paused past the limit).
      const join = new ReplayJoin(this.opts.replayHoldBytes);
      let closed = false;
      const holding = readChannels(
        ws,
        (ch, payload) => {
          if (ch === CHANNEL_STDOUT && !join.hold(payload)) ws.pause();
        },
        () => (closed = true),
      );
      // Replay: the log as it is now, written to the client, its end kept for the overlap.
      const tail = await this.replay(target, conn, signal);
      const statusSeen = holding.statusReceived;
      holding.stop();
      if (signal.aborted) {
        ws.close(1000);
        return 'client-gone';
      }
      for (const b of join.release(tail)) conn.output.write(b);
      if (closed || statusSeen) return 'ended';
      ws.resume();
      const bridge = bridgeStreams({
        ws,
        output: conn.output,
        ...(useStdin ? { input: conn.input } : {}),
        tty: true,
        stdinEof: 'end-session',
        detachKeys: keys,
      });
      const end = await bridge.done;
      if (ws.readyState <= 1) ws.close(1000);
      return sessionEnd(end);
    } finally {
      this.dropSession(t.id, sess);
    }
  }

  /** Write the Pod log (TTY: raw) to the client; returns its last bytes (for the overlap). */
  private async replay(
    target: { namespace: string; pod: string; container: string },
    conn: ClientConn,
    signal: AbortSignal,
  ): Promise<Buffer> {
    const keep = this.opts.replayHoldBytes;
    let tail = Buffer.alloc(0);
    let res: IncomingMessage;
    try {
      res = await openPodLog(
        this.host.kube.client,
        target.namespace,
        target.pod,
        { container: target.container },
        { signal },
      );
    } catch {
      return tail;
    }
    const out = conn.output;
    await new Promise<void>((resolve) => {
      res.on('data', (c: Buffer) => {
        tail = tail.length + c.length <= keep ? Buffer.concat([tail, c]) : Buffer.concat([tail, c]).subarray(-keep);
        if (!out.write(c)) {
          res.pause();
          out.once('drain', () => res.resume());
        }
      });
      res.on('end', resolve);
      res.on('error', () => resolve());
      res.on('close', () => resolve());
    });
    return tail;
  }

  /** Attach to a running container: pods/attach bridged to the client. Resolves how the session ended. */
  private async live(
    t: StreamTarget,
    o: AttachOptions,
    keys: Buffer,
    conn: ClientConn,
    useStdin: boolean,
  ): Promise<AttachEnd> {
    const tty = !!t.config.Tty;
    const sess: TtySession = {};
    const sizes = this.sizeState(t.id);
    if (tty) sizes.sessions.add(sess);
    try {
      const stdout = tty || o.stdout;
      const stderr = !tty && o.stderr;
      let ws: WebSocket;
      try {
        ({ ws } = await this.host.kube.dialer.attach(t.namespace, t.podName!, {
          container: t.containerName,
          stdin: useStdin,
          stdout: stdout || (!useStdin && !stderr),
          stderr,
          tty,
        }));
      } catch (err) {
        this.log.debug({ err, container: t.id }, 'attach to a running container failed (it may have exited)');
        return 'ended';
      }
      sess.ws = ws;
      if (tty && sizes.size) ws.send(resizeMessage(sizes.size.width, sizes.size.height));
      const bridge = bridgeStreams({
        ws,
        output: conn.output,
        ...(useStdin ? { input: conn.input } : {}),
        tty,
        stdinEof: t.config.StdinOnce && !tty ? 'close-stdin' : 'end-session',
        detachKeys: tty ? keys : null,
      });
      const end = await bridge.done;
      if (ws.readyState <= 1) ws.close(1000);
      return sessionEnd(end);
    } finally {
      this.dropSession(t.id, sess);
    }
  }
}
