/**
 * @module sim/kubelet/sandbox
 * Process sandboxes under bubblewrap, shaped like a runc pod:
 *
 * - The pod sandbox ("pause"): a bwrap process that owns the pod's network, IPC and UTS namespaces
 *   (hostname = pod hostname) and, with shareProcessNamespace, its PID namespace. It dies with the
 *   kubelet (--die-with-parent), and the pod's netns and veth disappear with it.
 * - A container: `nsenter` into the pause's net/ipc/uts namespaces, then bwrap with its own mount
 *   namespace (root = the image root filesystem copy, or a read-only view of the host root with a
 *   private /tmp), its own PID namespace with the command as PID 1 (--as-pid-1, as with runc: a
 *   PID 1 without a SIGTERM handler ignores SIGTERM), Docker's default capabilities minus MKNOD,
 *   no-new-privs, volumes bound at their mountPath, the kubelet-managed /etc/hosts, resolv.conf,
 *   hostname.
 * - An exec: the same bwrap view (same backing directories, so it sees what the container wrote)
 *   joined to the container's PID namespace (--pidns), in the pod's namespaces.
 *
 * Never `--pidns` with `--die-with-parent`. To join a PID namespace, bwrap's namespace child forks
 * once more and exits (bubblewrap utils.c fork_intermediate_child), while the grandchild goes on to
 * set its parent-death signal (bubblewrap.c handle_die_with_parent) and exec the command. When
 * the intermediate is slow to exit — it only has to lose the CPU for the few milliseconds the
 * grandchild needs for its setup, which a loaded 2-core machine does often — the grandchild has
 * already armed PR_SET_PDEATHSIG against it, and the kernel SIGKILLs the command the moment the
 * intermediate's exit completes (prctl(2): the signal follows the death of the parent *thread*).
 * That was the exec streams ending in exit code 137 (killed after its output) or with 0 bytes
 * (killed during setup) whenever something else, such as a second simulator, loaded the machine.
 * A process that joins a PID namespace needs no death signal anyway: it lives inside a namespace
 * whose init dies with the kubelet (the container's PID 1 or the pause), which takes it along, and
 * the kubelet kills it by the host PID that bwrap reports on --info-fd.
 *
 * runAsUser/runAsGroup switch identity inside the sandbox with busybox's `nsenter -S -G` (the host's
 * static busybox, bound read-only at /dev/.kubesim/busybox): a real uid on the host, so files it
 * creates are owned by that uid and root-owned directories are read-only to it.
 */
import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync, promises as fsp, type Dirent } from 'node:fs';
import { join, posix } from 'node:path';

export const SETUID_HELPER = '/dev/.kubesim/busybox';
export const HOST_BUSYBOX = '/bin/busybox';

/** Docker's default capability set (moby oci/caps/defaults.go) without CAP_MKNOD (no cgroup device rules here). */
export const DEFAULT_CAPS = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

export interface Mount {
  /** Path inside the container. */
  dest: string;
  /** Host path (file or directory). */
  src: string;
  ro: boolean;
}

/** Everything that defines what a container (and its execs) sees. */
export interface ContainerView {
  rootfs: 'busybox' | 'host';
  /** busybox: the container's writable root copy. */
  rootDir?: string;
  /** host: the container's private /tmp. */
  tmpDir?: string;
  mounts: Mount[];
  cwd: string;
  uid?: number;
  gid?: number;
  caps: string[];
  /** securityContext.readOnlyRootFilesystem: the root (and, on the host view, /tmp) read-only. */
  readOnlyRoot?: boolean;
}

/** Namespaces of a pod sandbox to join (absent: run on the host's, e.g. without root). */
export interface PodNamespaces {
  pausePid: number;
}

let hostRoot: string[] | undefined;
/** bwrap arguments that rebuild the host root read-only on bwrap's tmpfs root (once per process). */
function hostRootArgs(): string[] {
  if (hostRoot) return hostRoot;
  const args: string[] = [];
  let entries: Dirent[] = [];
  try {
    entries = readdirSync('/', { withFileTypes: true });
  } catch {
    /* empty root view */
  }
  for (const e of entries) {
    const p = `/${e.name}`;
    if (['proc', 'dev', 'tmp', 'run', 'lost+found'].includes(e.name)) continue;
    if (e.isSymbolicLink()) {
      try {
        args.push('--symlink', readlinkSync(p), p);
      } catch {
        /* skip */
      }
    } else args.push('--ro-bind', p, p);
  }
  hostRoot = args;
  return args;
}

/**
 * What the host keeps from other users stays hidden from host-root containers (images other than
 * the busybox/alpine catalogue run on the host's read-only root, as uid 0): password hashes are
 * replaced by an empty file, home directories, SSH and TLS private keys, cluster credentials and
 * the simulators' own state directories (their CA and service-account keys, tokens, stored
 * Secrets) by an empty tmpfs. As a runtime's masked paths do (the OCI runtime spec's
 * `linux.maskedPaths`, which runc binds /dev/null or an empty tmpfs over).
 */
const MASKED_FILES = ['/etc/shadow', '/etc/shadow-', '/etc/gshadow', '/etc/gshadow-', '/etc/security/opasswd'];
const MASKED_DIRS = [
  '/root',
  '/home',
  '/etc/ssh',
  '/etc/ssl/private',
  '/etc/kubernetes',
  '/var/lib/kubelet',
  '/var/lib/kuber-api',
];
const maskedStateDirs = new Set<string>();

/** Hide a state directory (a kubelet's: keys, tokens, other pods' volumes) from host-root containers. */
export function maskHostPath(dir: string): void {
  maskedStateDirs.add(dir);
}

function maskArgs(): string[] {
  const a: string[] = [];
  // Only what exists as itself (no symlink: its target may not be in the container's view); the
  // host's /tmp and /run are not in it at all.
  const is = (p: string, kind: 'file' | 'dir') => {
    try {
      const s = lstatSync(p);
      return kind === 'file' ? s.isFile() : s.isDirectory();
    } catch {
      return false;
    }
  };
  for (const f of MASKED_FILES) if (is(f, 'file')) a.push('--ro-bind', '/dev/null', f);
  for (const d of [...MASKED_DIRS, ...maskedStateDirs])
    if (is(d, 'dir') && d !== '/' && !/^\/(tmp|run)(\/|$)/.test(d)) a.push('--tmpfs', d);
  return a;
}

/**
 * On the read-only host view, a mount point the host lacks below a host directory (an image VOLUME
 * such as postgres's /var/lib/postgresql/data, where the host has /var/lib but no postgresql) cannot
 * be made: bwrap creates a missing destination with mkdir, and the host directory is a read-only
 * bind. As a container runtime makes mount points in the image's root, the deepest host directory
 * above such a mount point is rebuilt instead: a tmpfs at its path, each of its entries bound
 * read-only (symlinks copied) as before, so bwrap can create the missing directories in the tmpfs;
 * it is made read-only again once the mounts are in place. Nothing new becomes visible: the masks
 * (maskArgs) are applied after the rebuild, and a masked directory (already an empty tmpfs) or a
 * path under another mount (/tmp, /run, a volume) is never rebuilt.
 */
export function mountPointParents(mounts: readonly Mount[], masked: readonly string[]): string[] {
  const under = (p: string, d: string) => p === d || p.startsWith(d === '/' ? '/' : `${d}/`);
  const skip = ['/proc', '/dev', '/tmp', '/run', ...masked];
  const out = new Set<string>();
  for (const m of mounts) {
    if (existsSync(m.dest) || skip.some((d) => under(m.dest, d))) continue;
    if (mounts.some((o) => o !== m && o.dest !== m.dest && under(m.dest, o.dest))) continue;
    let parent = posix.dirname(m.dest);
    while (parent !== '/' && !existsSync(parent)) parent = posix.dirname(parent);
    // A new top-level directory is made on bwrap's own (still writable) tmpfs root; through a
    // symlink (merged /usr: /lib -> usr/lib) bwrap creates it in the target, which is rebuilt.
    const real = parent === '/' ? '/' : realpathSync(parent);
    if (real !== '/' && lstatSync(real).isDirectory() && !skip.some((d) => under(real, d))) out.add(real);
  }
  return [...out].sort((x, y) => x.length - y.length);
}

/** bwrap arguments that rebuild host directory `dir` as a tmpfs holding read-only binds of its entries. */
function rebuildArgs(dir: string): string[] {
  const a = ['--tmpfs', dir];
  let entries: Dirent[] = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    /* unreadable: left empty */
  }
  for (const e of entries) {
    const p = posix.join(dir, e.name);
    if (!e.isSymbolicLink()) a.push('--ro-bind', p, p);
    else
      try {
        a.push('--symlink', readlinkSync(p), p);
      } catch {
        /* gone meanwhile */
      }
  }
  return a;
}

/** The mount-namespace part of a bwrap command line (identical for a container and its execs). */
export function viewArgs(view: ContainerView): string[] {
  const a: string[] = [];
  const rebuilt = view.rootfs === 'host' ? mountPointParents(view.mounts, [...MASKED_DIRS, ...maskedStateDirs]) : [];
  if (view.rootfs === 'busybox') {
    a.push(view.readOnlyRoot ? '--ro-bind' : '--bind', view.rootDir!, '/');
  } else {
    a.push(...hostRootArgs(), ...rebuilt.flatMap(rebuildArgs), ...maskArgs(), '--tmpfs', '/run');
    a.push(view.readOnlyRoot ? '--ro-bind' : '--bind', view.tmpDir!, '/tmp');
  }
  a.push('--proc', '/proc', '--dev', '/dev');
  for (const m of view.mounts) a.push(m.ro ? '--ro-bind' : '--bind', m.src, m.dest);
  for (const d of rebuilt) a.push('--remount-ro', d);
  if (view.uid !== undefined || view.gid !== undefined) a.push('--ro-bind', HOST_BUSYBOX, SETUID_HELPER);
  if (view.rootfs === 'host') {
    // The runtime creates a missing workingDir; on the read-only host view only a new top-level one can be.
    const cwd = view.cwd || '/';
    const top = `/${cwd.split('/').filter(Boolean)[0] ?? ''}`;
    if (cwd !== '/' && !existsSync(top) && !view.mounts.some((m) => cwd === m.dest || cwd.startsWith(`${m.dest}/`)))
      a.push('--dir', cwd);
    a.push('--remount-ro', '/');
  }
  a.push('--chdir', view.cwd || '/');
  return a;
}

function capArgs(caps: string[]): string[] {
  const a = ['--cap-drop', 'ALL'];
  for (const c of caps) a.push('--cap-add', c);
  return a;
}

/**
 * The capabilities bwrap gives the sandbox: the container's, plus CAP_SETUID/CAP_SETGID when the
 * identity switch below moves to a non-root uid (it runs inside the sandbox: without them a
 * container that drops ALL, as the `restricted` Pod Security level requires, could not switch).
 * The kernel clears the permitted and effective sets on that uid 0 -> non-zero setuid, and
 * no-new-privs keeps them from coming back, so the command runs with exactly its own set.
 */
function sandboxCaps(view: ContainerView): string[] {
  if (view.uid === undefined || view.uid === 0 || view.caps.includes('ALL')) return view.caps;
  return [...new Set([...view.caps, 'CAP_SETUID', 'CAP_SETGID'])];
}

/** The identity switch in front of the command (busybox nsenter -S/-G: setgroups(0), setgid, setuid, exec). */
function userArgv(view: ContainerView, argv: string[]): string[] {
  if (view.uid === undefined && view.gid === undefined) return argv;
  const a = [SETUID_HELPER, 'nsenter'];
  if (view.gid !== undefined) a.push('-G', String(view.gid));
  if (view.uid !== undefined) a.push('-S', String(view.uid));
  return [...a, '--', ...argv];
}

/**
 * Every sandbox chain starts with `setpriv --pdeathsig KILL`: bwrap's --die-with-parent covers the
 * sandboxed command, not bwrap itself, so without this a kubelet that dies (or a test process that
 * exits) could leave a bwrap behind. The death signal survives the exec chain (nsenter -> bwrap).
 */
const DIE_WITH_KUBELET = ['setpriv', '--pdeathsig', 'KILL', '--'];

function nsenterPrefix(ns: PodNamespaces | undefined): string[] {
  if (!ns) return [...DIE_WITH_KUBELET];
  const p = `/proc/${ns.pausePid}/ns`;
  return [...DIE_WITH_KUBELET, 'nsenter', `--net=${p}/net`, `--ipc=${p}/ipc`, `--uts=${p}/uts`, '--'];
}

export interface Command {
  file: string;
  args: string[];
}

function command(argv: string[]): Command {
  return { file: argv[0]!, args: argv.slice(1) };
}

/**
 * What the pause prints once bwrap has finished setting up its sandbox and the command runs.
 * bwrap reports the child's PID on --info-fd right after clone(), before the child has set up
 * anything (bubblewrap.c: the monitor writes "child-pid" while the child is still to run
 * loopback_setup, sethostname, the mounts). The kubelet must not touch the namespaces before that:
 * its `ip link set lo up` in the new netns, run first, makes bwrap's own RTM_NEWADDR of 127.0.0.1
 * on lo fail with EEXIST (network.c loopback_setup), and the sandbox dies with "loopback: Failed
 * RTM_NEWADDR: File exists" while the kubelet goes on with a dead pause's PID. Under load that
 * window is tens of milliseconds; it was the "nsenter: cannot open /proc/<pid>/ns/net" start errors.
 */
export const PAUSE_RUNNING = 'pause: running';

/**
 * The pod sandbox: holds net/ipc/uts (and pid, when shared) namespaces. Its command is busybox's
 * sh, which prints {@link PAUSE_RUNNING} and then becomes `sleep` (still PID 1: exec keeps the PID).
 */
export function pauseCommand(opts: {
  unshareNet: boolean;
  hostname: string;
  infoFd: number;
  privileged: boolean;
}): Command {
  const a = [
    ...DIE_WITH_KUBELET,
    'bwrap',
    '--tmpfs',
    '/',
    '--ro-bind',
    HOST_BUSYBOX,
    '/bin/sleep',
    '--ro-bind',
    HOST_BUSYBOX,
    '/bin/sh',
    '--proc',
    '/proc',
    '--dev',
    '/dev',
  ];
  if (opts.unshareNet) a.push('--unshare-net');
  a.push(
    '--unshare-ipc',
    '--unshare-uts',
    '--hostname',
    opts.hostname,
    '--unshare-pid',
    '--as-pid-1',
    '--die-with-parent',
  );
  if (opts.privileged) a.push(...capArgs([]));
  const announce = `echo '${PAUSE_RUNNING}'; exec /bin/sleep 2147483647`;
  a.push('--info-fd', String(opts.infoFd), '--', '/bin/sh', '-c', announce);
  return command(a);
}

/** A container's main process. `sharedPidFd`: the pause's PID namespace (shareProcessNamespace). */
export function containerCommand(
  ns: PodNamespaces | undefined,
  view: ContainerView,
  argv: string[],
  opts: {
    infoFd: number;
    sharedPidFd?: number;
    hostname: string;
    tty?: { python: string; helper: string; stdin: boolean };
  },
): Command {
  const a = [...nsenterPrefix(ns), 'bwrap', ...viewArgs(view)];
  // In the pod's shared PID namespace it dies with the pause; no --die-with-parent (see the header).
  if (opts.sharedPidFd !== undefined) a.push('--pidns', String(opts.sharedPidFd));
  else a.push('--unshare-pid', '--as-pid-1', '--die-with-parent');
  if (!ns) a.push('--unshare-ipc', '--unshare-uts', '--hostname', opts.hostname);
  if (ns) a.push(...capArgs(sandboxCaps(view)));
  a.push('--info-fd', String(opts.infoFd), '--', ...userArgv(view, argv));
  if (opts.tty) return command([opts.tty.python, '-c', opts.tty.helper, opts.tty.stdin ? 'i' : '-', ...a]);
  return command(a);
}

/**
 * An exec in a running container: same view, joined to the container's PID namespace (`pidFd`,
 * then with `infoFd` for its host PID: it has no --die-with-parent, see the header), or, without
 * privilege, in a PID namespace of its own.
 */
export function execCommand(
  ns: PodNamespaces | undefined,
  view: ContainerView,
  argv: string[],
  opts: { pidFd?: number; infoFd?: number; hostname: string; tty?: { python: string; helper: string; stdin: boolean } },
): Command {
  const a = [...nsenterPrefix(ns), 'bwrap', ...viewArgs(view)];
  if (opts.pidFd !== undefined) a.push('--pidns', String(opts.pidFd));
  else a.push('--unshare-pid', '--die-with-parent');
  if (!ns) a.push('--unshare-ipc', '--unshare-uts', '--hostname', opts.hostname);
  if (ns) a.push(...capArgs(sandboxCaps(view)));
  if (opts.infoFd !== undefined) a.push('--info-fd', String(opts.infoFd));
  a.push('--', ...userArgv(view, argv));
  if (opts.tty) return command([opts.tty.python, '-c', opts.tty.helper, opts.tty.stdin ? 'i' : '-', ...a]);
  return command(a);
}

// ---- resolving paths inside a container view (for runc-like exec errors before spawning) ----

export type ResolveResult = { ok: true; hostPath: string } | { ok: false; code: 126 | 127; message: string };

/** Map a container path (absolute, normalised) to the host path backing it: longest mount prefix. */
function toHost(view: ContainerView, p: string): string {
  let best: Mount | undefined;
  for (const m of view.mounts) {
    if (
      (p === m.dest || p.startsWith(m.dest.endsWith('/') ? m.dest : `${m.dest}/`)) &&
      (!best || m.dest.length > best.dest.length)
    )
      best = m;
  }
  if (best) return join(best.src, p.slice(best.dest.length));
  if (view.rootfs === 'host') {
    if (p === '/tmp' || p.startsWith('/tmp/')) return join(view.tmpDir!, p.slice(4));
    return p;
  }
  return join(view.rootDir!, p);
}

/** Walk `p` component by component inside the view, following symlinks as the kernel would. */
async function walk(view: ContainerView, p: string, depth = 0): Promise<string | undefined> {
  if (depth > 40) return undefined;
  const parts = posix.normalize(p).split('/').filter(Boolean);
  let cur = '/';
  for (let i = 0; i < parts.length; i++) {
    const next = posix.join(cur, parts[i]!);
    const host = toHost(view, next);
    let st;
    try {
      st = await fsp.lstat(host);
    } catch {
      return undefined;
    }
    if (st.isSymbolicLink()) {
      const target = await fsp.readlink(host);
      const rest = parts.slice(i + 1).join('/');
      const abs = posix.isAbsolute(target) ? target : posix.join(cur, target);
      return walk(view, rest ? posix.join(abs, rest) : abs, depth + 1);
    }
    cur = next;
  }
  return cur;
}

/**
 * Find the program as runc's exec would (exec.LookPath with the container's PATH): 127 when it
 * does not exist, 126 when it is not an executable file. Messages are runc's.
 */
export async function resolveProgram(
  view: ContainerView,
  argv0: string,
  pathEnv: string | undefined,
): Promise<ResolveResult> {
  const check = async (p: string): Promise<ResolveResult | undefined> => {
    const resolved = await walk(view, p);
    if (!resolved) return undefined;
    const st = await fsp.stat(toHost(view, resolved)).catch(() => undefined);
    if (!st) return undefined;
    if (!st.isFile() || (st.mode & 0o111) === 0)
      return { ok: false, code: 126, message: `exec: "${argv0}": permission denied` };
    return { ok: true, hostPath: resolved };
  };
  if (!argv0) return { ok: false, code: 127, message: 'exec: "": executable file not found in $PATH' };
  if (argv0.includes('/')) {
    const abs = posix.isAbsolute(argv0) ? argv0 : posix.join(view.cwd || '/', argv0);
    const r = await check(abs);
    return r ?? { ok: false, code: 127, message: `exec: "${argv0}": stat ${argv0}: no such file or directory` };
  }
  let denied: ResolveResult | undefined;
  for (const dir of (pathEnv ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (!dir) continue;
    const r = await check(posix.join(dir, argv0));
    if (r?.ok) return r;
    if (r) denied ??= r;
  }
  return denied ?? { ok: false, code: 127, message: `exec: "${argv0}": executable file not found in $PATH` };
}

/** Create mount points inside a writable root copy (bwrap cannot mkdir there once uid-switched). */
export async function prepareMountPoints(view: ContainerView): Promise<void> {
  if (view.rootfs !== 'busybox') return;
  for (const m of view.mounts) {
    const target = toHost({ ...view, mounts: [] }, m.dest);
    const st = await fsp.stat(m.src).catch(() => undefined);
    if (st?.isDirectory()) await fsp.mkdir(target, { recursive: true }).catch(() => {});
    else {
      await fsp.mkdir(posix.dirname(target), { recursive: true }).catch(() => {});
      await fsp.writeFile(target, '', { flag: 'a' }).catch(() => {});
    }
  }
  if (view.cwd && view.cwd !== '/')
    await fsp.mkdir(toHost({ ...view, mounts: [] }, view.cwd), { recursive: true }).catch(() => {});
}
