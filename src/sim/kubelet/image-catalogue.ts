/**
 * @module sim/kubelet/image-catalogue
 * The images kube-sim knows, as data: the OCI image config a registry would serve (Entrypoint,
 * Cmd, Env, WorkingDir, ExposedPorts, StopSignal — copied from the official images' configs) and
 * which root filesystem the simulator runs them on. This is also what kuber-api's image inspect is
 * answered from later, so it stays a plain data module with no behaviour.
 *
 * `rootfs`:
 * - 'busybox': a real busybox userland (Debian's busybox-static, applets hard-linked in /bin as in
 *   the official image), copied per container, so sh/httpd/nc/wget behave as in the real image.
 * - 'host': the host's root filesystem, read-only, with a private /tmp. The image's own binaries
 *   (nginx, redis-server...) exist only if the host happens to have them: such containers fail to
 *   start with the runtime's "executable file not found" error, honestly.
 */

export interface CatalogueImage {
  rootfs: 'busybox' | 'host';
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
  exposedPorts?: string[];
  stopSignal?: string;
  labels?: Record<string, string>;
  /** Uncompressed size in bytes (reported in the Pulled event and by image inspect). */
  size: number;
  note?: string;
}

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Keyed by repository without registry, tag or digest ('busybox', 'testcontainers/ryuk'). */
export const IMAGE_CATALOGUE: Readonly<Record<string, CatalogueImage>> = {
  busybox: { rootfs: 'busybox', cmd: ['sh'], env: [PATH], size: 4_261_552 },
  alpine: {
    rootfs: 'busybox',
    cmd: ['/bin/sh'],
    env: [PATH],
    size: 8_830_000,
    note: "alpine's userland is busybox: runs on the busybox root filesystem (no apk, no musl libc).",
  },
  nginx: {
    rootfs: 'host',
    entrypoint: ['/docker-entrypoint.sh'],
    cmd: ['nginx', '-g', 'daemon off;'],
    env: [PATH, 'NGINX_VERSION=1.27.5'],
    exposedPorts: ['80/tcp'],
    stopSignal: 'SIGQUIT',
    size: 192_000_000,
    note: 'runs on the host root: works only where the host has nginx and /docker-entrypoint.sh.',
  },
  redis: {
    rootfs: 'host',
    entrypoint: ['docker-entrypoint.sh'],
    cmd: ['redis-server'],
    env: [PATH],
    workingDir: '/data',
    exposedPorts: ['6379/tcp'],
    size: 117_000_000,
    note: 'runs on the host root: works only where the host has redis-server.',
  },
  postgres: {
    rootfs: 'host',
    entrypoint: ['docker-entrypoint.sh'],
    cmd: ['postgres'],
    env: [PATH, 'PGDATA=/var/lib/postgresql/data'],
    exposedPorts: ['5432/tcp'],
    stopSignal: 'SIGINT',
    size: 438_000_000,
    note: 'runs on the host root: works only where the host has postgres.',
  },
  mysql: {
    rootfs: 'host',
    entrypoint: ['docker-entrypoint.sh'],
    cmd: ['mysqld'],
    env: [PATH],
    exposedPorts: ['3306/tcp', '33060/tcp'],
    size: 603_000_000,
    note: 'runs on the host root: works only where the host has mysqld.',
  },
  httpd: {
    rootfs: 'host',
    cmd: ['httpd-foreground'],
    env: [PATH, 'HTTPD_PREFIX=/usr/local/apache2'],
    workingDir: '/usr/local/apache2',
    exposedPorts: ['80/tcp'],
    stopSignal: 'SIGWINCH',
    size: 148_000_000,
    note: 'runs on the host root: works only where the host has httpd-foreground.',
  },
  'testcontainers/ryuk': {
    rootfs: 'host',
    cmd: ['/bin/ryuk'],
    env: [PATH],
    exposedPorts: ['8080/tcp'],
    size: 13_400_000,
    note: 'runs on the host root: the ryuk binary is not available, the container fails to start.',
  },
  ubuntu: {
    rootfs: 'host',
    cmd: ['/bin/bash'],
    env: [PATH],
    size: 78_100_000,
    note: 'runs on the host (Debian) root.',
  },
  debian: { rootfs: 'host', cmd: ['bash'], env: [PATH], size: 117_000_000, note: 'runs on the host (Debian) root.' },
  python: {
    rootfs: 'host',
    cmd: ['python3'],
    env: [PATH, 'LANG=C.UTF-8'],
    size: 1_020_000_000,
    note: "runs on the host root with the host's python3.",
  },
  node: {
    rootfs: 'host',
    entrypoint: ['docker-entrypoint.sh'],
    cmd: ['node'],
    env: [PATH],
    size: 1_100_000_000,
    note: 'runs on the host root: docker-entrypoint.sh is absent, give a command to use the host node.',
  },
  pause: { rootfs: 'host', entrypoint: ['/pause'], size: 736_000, note: 'runs on the host root: /pause is absent.' },
};
