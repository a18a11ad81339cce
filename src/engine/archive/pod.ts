/**
 * @module engine/archive/pod
 * `docker cp` against a container process that runs in a Pod (the container's own, or the
 * inspector pod of a created container: engine/archive/inspector.ts), through pods/exec and the
 * image's `sh`, `stat` and `tar`:
 * - stat: `stat -c '%f %s %y'` (+ `readlink -f` for a symlink) -> the PathStat header;
 * - get: the same stat on stderr, then `tar -c` of the path's base name from its parent, so the
 *   member names are moby's (the base name; "./" for a trailing "/.");
 * - put: check the extraction point (missing: 404, not a directory: moby's error), then `tar -x`
 *   fed with the normalised archive.
 * Errors take moby's wording: "Could not find the file <path> in container <name>" (404),
 * "lstat <path>: not a directory"; an image without sh/stat/tar gets a message naming it.
 */
import { posix } from 'node:path';
import type { Writable } from 'node:stream';
import { EngineError, invalid, notFound, systemError } from '../../errors.js';
import { TarFormatError } from './tar/index.js';
import { ExecChannel, execFailure, scriptArgv, type ExecOutcome, type ExecTarget } from './exec.js';
import { goFileMode, parseStatTime, statName, tarSource } from './stat.js';
import type { PathStat } from '../backend/archive.js';

/** The stat part of the scripts: "kapi:stat <hex mode> <size> <%y>" [+ "kapi:link <target>"] or "kapi:err <message>". */
const STAT = `if s=$(stat -c '%f %s %y' -- "$1" 2>&1); then printf 'kapi:stat %s\\n' "$s"; if [ -L "$1" ]; then printf 'kapi:link %s\\n' "$(readlink -f "$1" 2>/dev/null || readlink "$1")"; fi; else printf 'kapi:err %s\\n' "$s"; exit 97; fi`;

export const STAT_SCRIPT = STAT;
/** stat on stderr, then the archive on stdout (only if the stat succeeded). */
export const GET_SCRIPT = `{ ${STAT}; } >&2 || exit 97; printf 'kapi:end\\n' >&2; cd "$2" && exec tar -c -f - "$3"`;
/** moby's checks of the extraction point, then tar reading stdin. */
export const PUT_SCRIPT = `if [ ! -e "$1" ]; then echo kapi:enoent >&2; exit 96; fi; if [ ! -d "$1" ]; then echo kapi:enotdir >&2; exit 95; fi; cd "$1" && exec tar -x -f -`;

export interface CopyContext {
  /** The container as the client named it (moby's messages use that). */
  name: string;
  /** The path as the client gave it. */
  path: string;
  /** The cleaned absolute path (trailing "/" or "/." kept). */
  abs: string;
}

/** Parse the stat script's output; throws moby's errors. */
export function parseStatOutput(out: string, c: CopyContext): PathStat {
  const lines = out.split('\n');
  const err = lines.find((l) => l.startsWith('kapi:err '));
  if (err) throw statError(err.slice(9), c);
  const st = lines.find((l) => l.startsWith('kapi:stat '));
  if (!st) throw statError(out.trim() || 'no output', c);
  const m = /^kapi:stat ([0-9a-fA-F]+) (\d+) (.+)$/.exec(st);
  const mtime = m && parseStatTime(m[3]!);
  if (!m || !mtime)
    throw systemError(
      `cannot read the stat of ${c.abs} in container ${c.name}: unexpected output ${JSON.stringify(st)}`,
    );
  const link = lines.find((l) => l.startsWith('kapi:link '));
  let linkTarget = link ? link.slice(10).trim() : '';
  if (linkTarget && !linkTarget.startsWith('/'))
    linkTarget = posix.join(posix.dirname(c.abs.replace(/\/+$/, '')), linkTarget);
  return { name: statName(c.abs), size: Number(m[2]), mode: goFileMode(parseInt(m[1]!, 16)), mtime, linkTarget };
}

function statError(message: string, c: CopyContext): EngineError {
  if (/no such file or directory/i.test(message))
    return notFound(`Could not find the file ${c.path} in container ${c.name}`);
  if (/not a directory/i.test(message)) return systemError(`lstat ${c.abs}: not a directory`);
  if (/permission denied/i.test(message)) return systemError(`lstat ${c.abs}: permission denied`);
  if (/stat: not found|stat: command not found|executable file not found/i.test(message))
    return missingTool('stat', message, c);
  return systemError(`stat ${c.abs} in container ${c.name}: ${message}`);
}

function missingTool(tool: string, detail: string, c: CopyContext): EngineError {
  return systemError(
    `cannot copy files ${tool === 'tar' && c.path ? 'of' : 'in'} container ${c.name}: on Kubernetes, docker cp runs ${tool} (and sh) inside the running container, and this image has none (${detail.trim()})`,
  );
}

/** A failure to run the script at all (no sh): the runtime's message. */
function execError(o: ExecOutcome, c: CopyContext, tool: string): EngineError {
  const msg = execFailure(o);
  if (o.status.kind === 'error' || (o.status.kind === 'exit' && o.status.exitCode === 127))
    return missingTool(tool, msg, c);
  return systemError(msg);
}

export async function statInPod(t: ExecTarget, c: CopyContext, signal?: AbortSignal): Promise<PathStat> {
  const ch = await ExecChannel.open(t, scriptArgv(t, STAT_SCRIPT, [c.abs]), { signal });
  const chunks: Buffer[] = [];
  ch.stdout.on('data', (d: Buffer) => chunks.push(d));
  const o = await ch.done;
  const out = Buffer.concat(chunks).toString('utf8');
  if (!out.includes('kapi:')) throw execError(o, c, 'stat');
  return parseStatOutput(out, c);
}

export interface PodArchive {
  stat: PathStat;
  /** Copy the archive into `sink` (backpressured); rejects if tar fails midway. */
  pipe(sink: Writable): Promise<void>;
  /** Give up (the client went away). */
  abort(): void;
}

/** Start `tar -c` of a path; resolves once the stat is known (before any archive byte is sent). */
export async function archiveFromPod(t: ExecTarget, c: CopyContext, signal?: AbortSignal): Promise<PodArchive> {
  const { dir, base } = tarSource(c.abs);
  const ch = await ExecChannel.open(t, scriptArgv(t, GET_SCRIPT, [c.abs, dir, base]), { signal });
  const head = await ch.stderrUntil('kapi:end\n');
  if (head === undefined) {
    const o = await ch.done;
    if (!o.stderr.includes('kapi:')) throw execError(o, c, 'stat');
    throw parseStatError(o.stderr, c);
  }
  const stat = parseStatOutput(head, c);
  return {
    stat,
    abort: () => ch.destroy(),
    pipe: async (sink) => {
      const piped = new Promise<void>((resolve, reject) => {
        ch.stdout.on('error', reject);
        sink.on('error', reject);
        ch.stdout.on('end', resolve);
        ch.stdout.pipe(sink, { end: false });
      });
      await piped;
      const o = await ch.done;
      if (o.status.kind !== 'exit' || o.status.exitCode !== 0) {
        const after = o.stderr.slice(o.stderr.indexOf('kapi:end\n') + 9);
        throw systemError(
          o.status.kind === 'exit' && o.status.exitCode === 127
            ? missingTool('tar', after, c).message
            : `tar -c ${c.abs} failed in container ${c.name}: ${after.trim() || execFailure(o)}`,
        );
      }
    },
  };
}

function parseStatError(stderr: string, c: CopyContext): EngineError {
  try {
    parseStatOutput(stderr, c);
  } catch (err) {
    return err as EngineError;
  }
  return systemError(`stat ${c.abs} in container ${c.name} failed: ${stderr.trim()}`);
}

/**
 * Extract `archive` (already normalised) at `c.abs` in the container. Throws moby's errors:
 * 404 for a missing extraction point, "extraction point is not a directory".
 */
export async function extractInPod(
  t: ExecTarget,
  c: CopyContext,
  archive: AsyncIterable<Buffer>,
  signal?: AbortSignal,
): Promise<void> {
  const ch = await ExecChannel.open(t, scriptArgv(t, PUT_SCRIPT, [c.abs]), { stdin: true, signal });
  ch.stdout.resume();
  let feedError: unknown;
  const fed = ch.feed(archive).catch((err) => {
    feedError = err;
    ch.destroy(); // a bad archive: stop tar rather than let it wait for more input
  });
  const o = await ch.done;
  await fed;
  if (o.stderr.includes('kapi:enoent')) throw notFound(`Could not find the file ${c.path} in container ${c.name}`);
  if (o.stderr.includes('kapi:enotdir')) throw invalid('extraction point is not a directory'); // moby: errdefs.InvalidParameter
  // A bad archive (archive/tar's error) or a limit: that is the answer, whatever tar made of the cut.
  if (feedError instanceof EngineError || feedError instanceof TarFormatError) throw feedError;
  if (o.status.kind === 'exit' && o.status.exitCode === 0) {
    if (feedError) throw systemError(`copying into container ${c.name}: ${(feedError as Error).message}`);
    return;
  }
  throw execError(o, c, 'tar');
}
