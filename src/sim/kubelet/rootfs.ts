/**
 * @module sim/kubelet/rootfs
 * Root filesystems. The busybox root is built once per state directory from Debian's
 * busybox-static (one static binary, its applets hard-linked into /bin exactly as in the official
 * busybox image, /etc/passwd and /etc/group with the image's users, /tmp 1777) and copied per
 * container (`cp -a`: one 2 MB file plus links), so every container has its own writable root as
 * with an image layer. Host-root images get an empty per-container directory that becomes the
 * tmpfs-like writable top of a read-only view of the host (see sandbox.ts).
 */
import { spawn } from 'node:child_process';
import { promises as fsp, constants as fsc } from 'node:fs';
import { dirname, join } from 'node:path';

export const HOST_BUSYBOX = '/bin/busybox';

// The official busybox image's /etc/passwd and /etc/group.
const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`;
const GROUP = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
`;

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}: ${err.trim()}`)),
    );
  });
}

export class RootfsBuilder {
  private template: Promise<string> | undefined;

  constructor(private readonly stateDir: string) {}

  /** The busybox template (built on first use). */
  busyboxTemplate(): Promise<string> {
    this.template ??= this.build().catch((err) => {
      this.template = undefined;
      throw err;
    });
    return this.template;
  }

  private async build(): Promise<string> {
    const final = join(this.stateDir, 'images', 'busybox', 'rootfs');
    try {
      await fsp.access(join(final, 'bin', 'sh'), fsc.X_OK);
      return final;
    } catch {
      /* build it */
    }
    await fsp.access(HOST_BUSYBOX, fsc.X_OK).catch(() => {
      throw new Error(`${HOST_BUSYBOX} is missing: install Debian's busybox-static`);
    });
    const tmp = `${final}.tmp-${process.pid}-${Date.now()}`;
    for (const d of [
      'bin',
      'dev',
      'etc',
      'home',
      'proc',
      'root',
      'sys',
      'tmp',
      'usr/sbin',
      'var/spool/mail',
      'var/www',
      'lib',
    ]) {
      await fsp.mkdir(join(tmp, d), { recursive: true, mode: 0o755 });
    }
    await fsp.chmod(join(tmp, 'tmp'), 0o1777);
    await fsp.chmod(join(tmp, 'root'), 0o700);
    await fsp.copyFile(HOST_BUSYBOX, join(tmp, 'bin', 'busybox'));
    await fsp.chmod(join(tmp, 'bin', 'busybox'), 0o755);
    // Hard links in /bin, like the official image (`busybox --install DIR` links every applet).
    await run(join(tmp, 'bin', 'busybox'), ['--install', join(tmp, 'bin')]);
    await fsp.writeFile(join(tmp, 'etc', 'passwd'), PASSWD, { mode: 0o644 });
    await fsp.writeFile(join(tmp, 'etc', 'group'), GROUP, { mode: 0o644 });
    await fsp.writeFile(join(tmp, 'etc', 'shadow'), 'root:*:10933:0:99999:7:::\nnobody:*:10933:0:99999:7:::\n', {
      mode: 0o600,
    });
    // Bind-mount targets for the kubelet-managed files.
    for (const f of ['hosts', 'hostname', 'resolv.conf']) await fsp.writeFile(join(tmp, 'etc', f), '', { mode: 0o644 });
    await fsp.symlink('/proc/mounts', join(tmp, 'etc', 'mtab'));
    await fsp.rm(final, { recursive: true, force: true });
    await fsp.rename(tmp, final);
    return final;
  }

  /** A private writable copy of the busybox root for one container. */
  async busyboxCopy(dest: string): Promise<void> {
    const template = await this.busyboxTemplate();
    await fsp.rm(dest, { recursive: true, force: true });
    await fsp.mkdir(dirname(dest), { recursive: true });
    await run('cp', ['-a', template, dest]);
  }
}
