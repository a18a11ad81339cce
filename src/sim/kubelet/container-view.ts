/**
 * @module sim/kubelet/container-view
 * What one container instance sees (the runtime's container config): its root filesystem, the
 * kubelet-managed /etc/hosts, /etc/resolv.conf, /etc/hostname and termination log, its volume
 * mounts (subPath, subPathExpr), working directory, capabilities and user.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { containerCaps } from './container-config.js';
import type { ContainerState } from './container-state.js';
import { expand } from './env.js';
import type { ResolvedImage } from './images.js';
import type { PodHost } from './pod-host.js';
import { prepareMountPoints, type ContainerView, type Mount } from './sandbox.js';

type Obj = Record<string, any>;

export async function makeView(
  host: PodHost,
  cs: ContainerState,
  image: ResolvedImage,
  cdir: string,
  user: { uid?: number; gid?: number },
): Promise<ContainerView> {
  const spec = cs.spec;
  const sandbox = host.sandbox;
  await fsp.mkdir(cdir, { recursive: true });
  const termLog = join(cdir, 'termination-log');
  await fsp.writeFile(termLog, '', { mode: 0o666 });
  await fsp.chmod(termLog, 0o666);
  const mounts: Mount[] = [
    { dest: '/etc/hosts', src: sandbox.hostsPath, ro: false },
    { dest: '/etc/resolv.conf', src: sandbox.resolvPath, ro: false },
    { dest: '/etc/hostname', src: sandbox.hostnamePath, ro: false },
    { dest: spec.terminationMessagePath || '/dev/termination-log', src: termLog, ro: false },
  ];
  for (const vm of (spec.volumeMounts ?? []) as Obj[]) {
    const vol = sandbox.volumes.get(vm.name);
    if (!vol) continue;
    let src = vol.hostPath;
    if (vm.subPath || vm.subPathExpr) {
      const sub =
        vm.subPath ??
        expand(vm.subPathExpr, new Map(Object.entries({ POD_NAME: host.name, POD_NAMESPACE: host.namespace })));
      src = join(vol.hostPath, sub);
      if (!vol.forceRO) await fsp.mkdir(src, { recursive: true }).catch(() => {});
    }
    mounts.push({ dest: vm.mountPath, src, ro: vol.forceRO || !!vm.readOnly });
  }
  const sc = spec.securityContext ?? {};
  const caps = containerCaps(sc);
  const cwd = spec.workingDir || image.config.workingDir || '/';
  const view: ContainerView = {
    rootfs: image.rootfs,
    mounts,
    cwd,
    caps,
    uid: user.uid,
    gid: user.gid,
    readOnlyRoot: !!sc.readOnlyRootFilesystem,
  };
  if (image.rootfs === 'busybox') {
    view.rootDir = join(cdir, 'rootfs');
    await host.env.rootfs.busyboxCopy(view.rootDir);
  } else {
    view.tmpDir = join(cdir, 'tmp');
    await fsp.mkdir(view.tmpDir, { recursive: true });
    await fsp.chmod(view.tmpDir, 0o1777);
  }
  await prepareMountPoints(view);
  return view;
}
