/**
 * @module test/helpers/tmux
 * Drive an interactive program (docker run -it, docker exec -it) through a real terminal: tmux
 * 3.3 on a private server socket, so tests never touch a user's tmux and run in parallel. The
 * pane stays after the program exits (`remain-on-exit`); its exit status is written to a file by a
 * wrapper shell (tmux's `#{pane_dead_status}` is the fallback).
 *
 *   const t = await Tmux.start(['docker', 'run', '-it', 'busybox', 'sh'], { env, width: 80, height: 24 });
 *   await t.waitFor(/# $/m);
 *   await t.type('stty size\n');
 *   await t.resize(100, 30);
 *   const code = await t.exitCode();
 *   await t.kill();
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function run(args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('tmux', args, { env: env ?? process.env, timeout: 10_000 }, (err, stdout, stderr) => {
      const code = err
        ? typeof (err as { code?: unknown }).code === 'number'
          ? (err as { code: number }).code
          : 1
        : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The status the wrapper shell wrote when the program ended (128+n for a signal), if it has. */
function readExit(file: string): number | undefined {
  try {
    const t = readFileSync(file, 'utf8');
    return t.endsWith('\n') ? Number(t.trim()) : undefined;
  } catch {
    return undefined;
  }
}

/** Quote one argument for the shell tmux runs the command with. */
function shq(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface TmuxOptions {
  /** Environment of the command (DOCKER_HOST, DOCKER_CONFIG...). PATH and HOME are passed along. */
  env?: Record<string, string>;
  width?: number;
  height?: number;
}

export class Tmux {
  private constructor(
    private readonly socket: string,
    private readonly dir: string,
    readonly session: string,
  ) {}

  /** tmux is on PATH. */
  static async available(): Promise<boolean> {
    return (await run(['-V'])).code === 0;
  }

  /** Start `argv` in a detached session of a private tmux server. */
  static async start(argv: string[], opts: TmuxOptions = {}): Promise<Tmux> {
    const dir = mkdtempSync(join(tmpdir(), 'kapi-tmux-'));
    const socket = join(dir, 'sock');
    const session = 's';
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TERM: 'xterm-256color',
      ...opts.env,
    };
    // The command line carries its environment explicitly: a tmux server's global environment is
    // the first client's, and `env` makes the child's environment exact whatever tmux keeps.
    const envArgs = Object.entries(opts.env ?? {}).map(([k, v]) => shq(`${k}=${v}`));
    // The exit status goes to a file as well: under load tmux 3.3 can mark the pane dead and
    // never fill in #{pane_dead_status} (seen as "1::"), which read as a program that never exited.
    // The wrapper exits with the program's status too, so that tmux's status (read when the file
    // is not there yet) never reports the wrapper's own `echo`.
    const script = `"$@"; s=$?; echo $s > ${shq(join(dir, 'exit'))}; exit $s`;
    const cmd = ['env', ...envArgs, 'sh', '-c', shq(script), 'sh', ...argv.map(shq)].join(' ');
    const w = String(opts.width ?? 80);
    const h = String(opts.height ?? 24);
    const r = await run(
      ['-S', socket, '-f', '/dev/null', 'new-session', '-d', '-s', session, '-x', w, '-y', h, cmd],
      env,
    );
    if (r.code !== 0) throw new Error(`tmux new-session failed: ${r.stderr}`);
    const t = new Tmux(socket, dir, session);
    await t.tmux(['set-option', '-t', session, 'remain-on-exit', 'on']);
    // A detached session sizes windows to the largest client; with none, keep the size we set.
    await t.tmux(['set-option', '-t', session, 'window-size', 'manual']);
    return t;
  }

  private async tmux(args: string[]): Promise<string> {
    const r = await run(['-S', this.socket, ...args]);
    if (r.code !== 0) throw new Error(`tmux ${args[0]} failed: ${r.stderr}`);
    return r.stdout;
  }

  /** Type `text` literally (a trailing "\n" is sent as Enter). */
  async type(text: string): Promise<void> {
    const parts = text.split('\n');
    for (let i = 0; i < parts.length; i++) {
      if (parts[i]) await this.tmux(['send-keys', '-t', this.session, '-l', parts[i]!]);
      if (i < parts.length - 1) await this.tmux(['send-keys', '-t', this.session, 'Enter']);
    }
  }

  /** Send tmux key names, e.g. 'C-p', 'C-q', 'C-d', 'Enter'. */
  async keys(...names: string[]): Promise<void> {
    await this.tmux(['send-keys', '-t', this.session, ...names]);
  }

  /** The visible pane text (trailing blank lines dropped). */
  async capture(): Promise<string> {
    const out = await this.tmux(['capture-pane', '-p', '-t', this.session]);
    return out.replace(/\n+$/, '\n');
  }

  /** Poll the pane until `re` matches; returns the pane text. */
  async waitFor(re: RegExp, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      last = await this.capture();
      if (re.test(last)) return last;
      await sleep(100);
    }
    throw new Error(`tmux: timed out after ${timeoutMs} ms waiting for ${re}; pane:\n${last}`);
  }

  /**
   * Type `text` until the pane matches `re`, at most once per `everyMs`; returns how many times it
   * was typed. For effects that are asynchronous end to end, e.g. a window resize: tmux -> SIGWINCH
   * -> the docker CLI's resize call -> the Kubernetes resize channel -> the pty.
   */
  async typeUntil(text: string, re: RegExp, opts: { everyMs?: number; timeoutMs?: number } = {}): Promise<number> {
    const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
    let typed = 0;
    for (;;) {
      await this.type(text);
      typed++;
      const until = Math.min(deadline, Date.now() + (opts.everyMs ?? 1000));
      while (Date.now() < until) {
        if (re.test(await this.capture())) return typed;
        await sleep(100);
      }
      if (Date.now() >= deadline)
        throw new Error(
          `tmux: timed out waiting for ${re} after typing ${JSON.stringify(text)} ${typed} times; pane:\n${await this.capture()}`,
        );
    }
  }

  /** Resize the window (the program gets SIGWINCH through its pty). */
  async resize(width: number, height: number): Promise<void> {
    await this.tmux(['resize-window', '-t', this.session, '-x', String(width), '-y', String(height)]);
  }

  /** Whether the program in the pane has exited. */
  async dead(): Promise<boolean> {
    return (await this.tmux(['display-message', '-p', '-t', this.session, '#{pane_dead}'])).trim() === '1';
  }

  /** Wait for the program to exit and return its exit status. */
  async exitCode(timeoutMs = 15_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let out = '';
    while (Date.now() < deadline) {
      const recorded = readExit(join(this.dir, 'exit'));
      if (recorded !== undefined) return recorded;
      out = (
        await this.tmux([
          'display-message',
          '-p',
          '-t',
          this.session,
          '#{pane_dead}:#{pane_dead_status}:#{pane_dead_signal}',
        ])
      ).trim();
      const [dead, status, signal] = out.split(':');
      if (dead === '1') {
        if (status) return Number(status);
        // A program killed by a signal has no exit status, only #{pane_dead_signal}. Both empty:
        // tmux has marked the pane dead but not yet recorded how it died; ask again.
        if (signal) throw new Error(`tmux: the program was killed by signal ${signal}; pane:\n${await this.capture()}`);
      }
      await sleep(100);
    }
    throw new Error(
      `tmux: the program did not exit within ${timeoutMs} ms (pane_dead:status:signal = "${out}"); pane:\n${await this.capture()}`,
    );
  }

  /** Kill the tmux server (and the program, if still running) and remove the socket dir. */
  async kill(): Promise<void> {
    await run(['-S', this.socket, 'kill-server']);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
