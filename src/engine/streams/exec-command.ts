/**
 * @module engine/streams/exec-command
 * The argv that carries out a Docker exec on Kubernetes (pure). `pods/exec` takes an argv and
 * nothing else (core/v1 PodExecOptions): no environment, no working directory, no user. Docker's
 * exec has all three (moby api/types/container ExecOptions `Env`, `WorkingDir`, `User`), so when
 * they are set the command is wrapped in tools every Linux image with a shell has:
 *
 * - Env only: `env -- K=V ... cmd args` (POSIX env; busybox, coreutils, toybox). The container's
 *   own environment is inherited as with Docker (the exec's entries override it).
 * - WorkingDir and/or User: `/bin/sh -c SCRIPT kuber-api-exec DIR USER cmd args` (behind `env`
 *   when Env is set): `cd` (failing like runc's chdir with dockerd's exit code 126), then the user
 *   switch through whichever of `setpriv` (util-linux), `su-exec` or `gosu` the image has, then
 *   `exec "$@"` so the command replaces the shell (same PID, signals and exit status).
 *
 * Images without `/bin/sh` (distroless, scratch) cannot use WorkingDir/User; their exec then fails
 * with the runtime's "no such file" for /bin/sh, which {@link explainWrapperFailure} turns into a
 * clear message. A plain exec (no Env, WorkingDir or User) is passed through unchanged.
 */

export interface ExecSpec {
  cmd: readonly string[];
  env?: readonly string[] | null;
  workingDir?: string | null;
  user?: string | null;
  /** The container's own User (Config.User): an exec as the same user needs no switch. */
  containerUser?: string | null;
}

/** argv[0] of the wrapper script, shown by `ps` inside the container. */
export const WRAPPER_NAME = 'kuber-api-exec';

/**
 * The wrapper script. Positional parameters: $1 the working dir ('' = keep), $2 the user ('' =
 * keep), then the command. Messages mirror dockerd/runc's, so clients matching on them work.
 */
export const WRAPPER_SCRIPT = [
  'd=$1; u=$2; shift 2',
  'if [ -n "$d" ]; then cd -- "$d" 2>/dev/null || { printf \'OCI runtime exec failed: exec failed: unable to start container process: chdir to cwd ("%s") set in config.json failed: no such file or directory: unknown\\r\\n\' "$d"; exit 126; }; fi',
  'if [ -n "$u" ]; then',
  // busybox's setpriv applet has no --reuid: only util-linux's will do.
  '  if setpriv --help 2>&1 | grep -q -e --reuid; then g=${u#*:}; exec setpriv --reuid="${u%%:*}" --regid="$g" --clear-groups -- "$@"; fi',
  '  if command -v su-exec >/dev/null 2>&1; then exec su-exec "$u" "$@"; fi',
  '  if command -v gosu >/dev/null 2>&1; then exec gosu "$u" "$@"; fi',
  '  printf \'kuber-api: exec --user %s needs setpriv (util-linux), su-exec or gosu in the image: Kubernetes exec has no user option\\r\\n\' "$u"; exit 126',
  'fi',
  'exec "$@"',
].join('\n');

/** Env entries that set a variable (`K=V`); moby ignores malformed ones as well. */
function assignments(env: readonly string[] | null | undefined): string[] {
  return (env ?? []).filter((e) => e.indexOf('=') > 0);
}

/** True when the exec needs a user switch (a User other than the container's own). */
export function needsUserSwitch(spec: ExecSpec): boolean {
  const u = spec.user ?? '';
  return u !== '' && u !== (spec.containerUser ?? '');
}

/** The argv to run through pods/exec for a Docker exec. */
export function execArgv(spec: ExecSpec): string[] {
  const cmd = [...spec.cmd];
  const env = assignments(spec.env);
  const dir = spec.workingDir ?? '';
  const user = needsUserSwitch(spec) ? spec.user! : '';
  // `env` reads leading NAME=VALUE words as assignments: a command that looks like one needs the shell.
  const envSafe = !(cmd[0] ?? '').includes('=');
  if (!dir && !user && (env.length === 0 || envSafe)) return env.length ? ['env', '--', ...env, ...cmd] : cmd;
  const sh = ['/bin/sh', '-c', WRAPPER_SCRIPT, WRAPPER_NAME, dir, user, ...cmd];
  return env.length ? ['env', '--', ...env, ...sh] : sh;
}

/** The command is wrapped (Env, WorkingDir or User are set). */
export function isWrapped(spec: ExecSpec): boolean {
  return assignments(spec.env).length > 0 || !!spec.workingDir || needsUserSwitch(spec);
}

/**
 * When a wrapped exec could not start because the image lacks the wrapper's tools, say why
 * (the runtime only says that `/bin/sh` or `env` was not found). Returns undefined when the
 * message is about something else.
 */
export function explainWrapperFailure(spec: ExecSpec, runtimeMessage: string): string | undefined {
  if (!isWrapped(spec)) return undefined;
  const tool = execArgv(spec)[0];
  if (!tool || !runtimeMessage.includes(`"${tool}"`)) return undefined;
  const what = [
    assignments(spec.env).length ? 'Env' : '',
    spec.workingDir ? 'WorkingDir' : '',
    needsUserSwitch(spec) ? 'User' : '',
  ]
    .filter(Boolean)
    .join(', ');
  return `${runtimeMessage}: kuber-api runs an exec with ${what} through ${tool === 'env' ? '`env`' : '/bin/sh'} (Kubernetes exec takes only a command), and the image has none`;
}
