/**
 * @module api/cli-detach
 * The docker CLI's detach (ctrl-p ctrl-q) over TCP, which dockerd leaves hanging.
 *
 * The CLI scans the detach keys itself (moby/term NewEscapeProxy wrapped around stdin, docker/cli
 * cli/command/container/hijack.go setupInput). On the keys, its `io.Copy(resp.Conn, stdin)`
 * returns the proxy's `term.EscapeError`, which beginInputStream recognises with a type assertion
 * (`err.(term.EscapeError)`). Over a unix socket that works and the CLI returns at once. Over TCP
 * `io.Copy` goes through `(*net.TCPConn).ReadFrom`, which wraps the error in a `*net.OpError`: the
 * assertion fails, the CLI half-closes the attach connection (`resp.CloseWrite()`) and waits:
 *
 * - for the attach output to end (hijack.go stream(): `<-outputDone` after `<-inputDone`), then
 * - `docker run -it` / `docker start -ai`: for its `POST /containers/{id}/wait?condition=next-exit`
 *   (or `removed` with --rm), opened before the start (run.go / start.go waitExitOrRemoved);
 * - `docker attach`: for its `POST /containers/{name}/wait` (no condition: not-running), opened
 *   before the attach (attach.go RunAttach -> getExitStatus).
 *
 * With a TTY and stdin from the docker CLI, stdin is its terminal in raw mode (it refuses a non-TTY
 * input: CheckTty, "the input device is not a TTY"), where no byte means end of input: the only
 * thing that makes it half-close is that detach. So kuber-api treats it as one. The engine ends
 * the attach session on a TTY half-close already (the container runs on, a `detach` event); here,
 * for a session opened by the docker CLI (User-Agent `Docker-Client/...`), the same client's
 * pending wait for the same container is answered so that the CLI ends as it does over a unix
 * socket (checked against dockerd): `run -it` / `start -ai` exit 0 silently (`{"StatusCode":0}`);
 * `docker attach` prints "read escape sequence" and exits 1 (the wait's `Error.Message`, which
 * getExitStatus returns as the error). The same holds when the keys reach the server in one read
 * and its own scan detaches (the CLI then reads the end of the output and waits the same way).
 *
 * Pairing: the same client is the same remote address (or the unix socket) and the same
 * User-Agent; the same container is the same path parameter (one CLI command names the container
 * the same way in its wait and its attach); of several such waits, the one opened nearest in time
 * to the attach, because the CLI opens both within a moment (a `docker wait` typed in another
 * terminal is older). Any other client, and any non-TTY session, keeps moby's semantics exactly.
 * The set holds open wait requests only, so it is bounded by `--max-connections`.
 */
import type { Request } from '../http/index.js';
import type { AttachEnd } from '../engine/backend/streams.js';
import type { WaitCondition } from '../engine/backend/backend.js';

const DOCKER_CLI_AGENT = /^Docker-Client\//;

/** What the wait answers after a paired detach (see the module comment). */
export function detachedWaitBody(condition: WaitCondition): Record<string, unknown> {
  // moby/term: `func (EscapeError) Error() string { return "read escape sequence" }`.
  return condition === 'not-running'
    ? { StatusCode: 0, Error: { Message: 'read escape sequence' } }
    : { StatusCode: 0 };
}

export function isDockerCli(req: Request): boolean {
  return DOCKER_CLI_AGENT.test(req.headers['user-agent'] ?? '');
}

function clientOf(req: Request): string {
  return `${req.socket.remoteAddress ?? 'unix'} ${req.headers['user-agent'] ?? ''}`;
}

interface PendingWait {
  container: string;
  client: string;
  at: number;
  end(): void;
}

export class CliDetaches {
  private readonly waits = new Set<PendingWait>();

  /** Open waits (for tests and diagnostics). */
  get size(): number {
    return this.waits.size;
  }

  /**
   * A wait request for `container`: for the docker CLI, `detached` resolves when its paired attach
   * detaches; `done()` must be called when the wait ends. Undefined for any other client.
   */
  watchWait(req: Request, container: string): { detached: Promise<void>; done(): void } | undefined {
    if (!isDockerCli(req)) return undefined;
    let end!: () => void;
    const detached = new Promise<void>((resolve) => (end = resolve));
    const w: PendingWait = { container, client: clientOf(req), at: performance.now(), end };
    this.waits.add(w);
    return { detached, done: () => void this.waits.delete(w) };
  }

  /**
   * An attach to `container` begun at `at` (performance.now()) ended as `end`: if it was a TTY
   * session of the docker CLI that detached, end the paired wait. Returns whether one was ended.
   */
  attachEnded(req: Request, container: string, tty: boolean, at: number, end: AttachEnd | void): boolean {
    if (!tty || (end !== 'stdin-eof' && end !== 'detach-keys') || !isDockerCli(req)) return false;
    const client = clientOf(req);
    let best: PendingWait | undefined;
    for (const w of this.waits) {
      if (w.container !== container || w.client !== client) continue;
      if (!best || Math.abs(w.at - at) < Math.abs(best.at - at)) best = w;
    }
    if (!best) return false;
    this.waits.delete(best);
    best.end();
    return true;
  }
}
