/**
 * @module sim/prereqs
 * What kube-sim's kubelet needs from the machine, checked before it serves: bubblewrap (the
 * sandbox), a statically linked /bin/busybox (the busybox image's userland and the pod "pause"
 * process), util-linux's setpriv/nsenter, iproute2's `ip` (pod network namespaces, as root),
 * python3 (the pseudo-terminal helper) and the openssl CLI (the apiserver's CA and serving
 * certificate: Node can read X.509 but not issue it). With `--install-prereqs` (what kuber-api's embedded mode
 * passes, so that `npm ci && npm start` works on a fresh Debian machine) missing Debian packages are
 * installed with apt-get when running as root; otherwise the simulator refuses to start and names
 * the packages to install.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { delimiter, join } from 'node:path';

export interface Prereq {
  /** What is checked, for messages. */
  what: string;
  /** The Debian package that provides it. */
  pkg: string;
  ok: () => boolean;
}

function onPath(cmd: string): boolean {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      /* next */
    }
  }
  return false;
}

/** A static ELF has no PT_INTERP program header; ldd would be a subprocess per check. */
export function isStaticElf(path: string): boolean {
  try {
    const b = readFileSync(path);
    if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return false; // ELF64 only (x86_64, arm64)
    const phoff = Number(b.readBigUInt64LE(0x20));
    const phentsize = b.readUInt16LE(0x36);
    const phnum = b.readUInt16LE(0x38);
    for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === 3 /* PT_INTERP */) return false;
    return true;
  } catch {
    return false;
  }
}

export const PREREQS: readonly Prereq[] = [
  { what: 'bwrap', pkg: 'bubblewrap', ok: () => onPath('bwrap') },
  { what: 'a static /bin/busybox', pkg: 'busybox-static', ok: () => isStaticElf('/bin/busybox') },
  { what: 'setpriv and nsenter', pkg: 'util-linux', ok: () => onPath('setpriv') && onPath('nsenter') },
  { what: 'ip', pkg: 'iproute2', ok: () => onPath('ip') },
  { what: 'openssl', pkg: 'openssl', ok: () => onPath('openssl') },
  {
    what: '/usr/bin/python3',
    pkg: 'python3',
    ok: () => {
      try {
        accessSync('/usr/bin/python3', constants.X_OK);
        return true;
      } catch {
        return false;
      }
    },
  },
];

/** The Debian packages whose check fails. */
export function missingPackages(list: readonly Prereq[] = PREREQS): string[] {
  return [...new Set(list.filter((p) => !p.ok()).map((p) => p.pkg))];
}

/**
 * Make sure the prerequisites are there. Returns the packages it installed. Throws an Error whose
 * message says what to install when they are missing and cannot be installed here.
 */
export function ensurePrereqs(opts: { install: boolean; log: (line: string) => void }): string[] {
  const missing = missingPackages();
  if (!missing.length) return [];
  const how = `apt-get install -y ${missing.join(' ')}`;
  if (!opts.install) throw new Error(`kube-sim needs ${missing.join(', ')} (Debian packages): run \`${how}\` as root`);
  if (process.getuid?.() !== 0 || !onPath('apt-get')) {
    throw new Error(
      `kube-sim needs ${missing.join(', ')} (Debian packages) and cannot install them here (needs root and apt-get): run \`${how}\``,
    );
  }
  opts.log(`installing kube-sim's prerequisites with apt-get: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const args = ['install', '-y', '--no-install-recommends', ...missing];
  let r = spawnSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 600_000 });
  if (r.status !== 0) {
    // A fresh machine may have no package lists yet.
    spawnSync('apt-get', ['update'], { env, stdio: 'ignore', timeout: 600_000 });
    r = spawnSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 600_000 });
  }
  const still = missingPackages();
  if (r.status !== 0 || still.length) {
    throw new Error(
      `kube-sim could not install ${still.join(', ') || missing.join(', ')}: ${String(r.stderr ?? '')
        .trim()
        .split('\n')
        .slice(-3)
        .join(' ')}`,
    );
  }
  return missing;
}
