/**
 * @module sim/kubelet/pod-worker
 * One pod on the node, from admission to removal (the kubelet's pod worker + kuberuntime manager):
 * sandbox (network, pause), volumes, init containers in order, containers with restartPolicy and
 * CrashLoopBackOff, image pulls with ImagePullBackOff, probes, activeDeadlineSeconds, graceful
 * termination, and the pod status the kubelet writes at every transition.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, promises as fsp } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../log.js';
import type { FaultRegistry } from '../faults.js';
import { PODS, type KObject, type KubeletStore } from '../types.js';
import { joinCgroup, type MemoryCgroups } from './cgroups.js';
import { containerArgv, containerCaps, containerUser } from './container-config.js';
import { terminatedState } from './container-exit.js';
import { ContainerState, nextBackoff } from './container-state.js';
import { ContainerInstance } from './container.js';
import { buildEnv, ConfigError, expand, quantity } from './env.js';
import { managedHosts, podHostname, resolvConf, rewriteInPlace } from './hosts.js';
import { ImagePuller } from './image-pull.js';
import type { ResolvedImage } from './images.js';
import type { NetworkManager, PodNetwork } from './netns.js';
import { GATEWAY } from './netns.js';
import type { KubeletConfig } from './options.js';
import { buildPodStatus, now, snapshotContainer, type ContainerSnapshot } from './pod-status.js';
import { Prober, type ProbeHost } from './probes.js';

export { ContainerState } from './container-state.js';
import { PTY_HELPER_SOURCE } from './pty-helper.js';
import type { RootfsBuilder } from './rootfs.js';
import { containerCommand, execCommand, pauseCommand, prepareMountPoints, resolveProgram, type ContainerView, type Mount, type PodNamespaces } from './sandbox.js';
import { SandboxProcess } from './sandbox-process.js';
import { MountError, prepareVolumes, refreshObjectVolumes, releaseVolumes, type PodVolume } from './volumes.js';

type Obj = Record<string, any>;

export interface WorkerEnv {
  store: KubeletStore;
  faults: FaultRegistry;
  cfg: KubeletConfig;
  net: NetworkManager;
  rootfs: RootfsBuilder;
  log: Logger;
  root: boolean;
  /** Images "pulled" on this node (IfNotPresent then reports "already present"). */
  pulled: Set<string>;
  /** The namespace's Services section for /etc/hosts. */
  servicesSection(namespace: string): string;
  /** A pod's IP or readiness changed: Service resolution of its namespace may change. */
  podNetworkChanged(namespace: string): void;
  /** The worker is done (removed or force-deleted). */
  forget(w: PodWorker): void;
  cgroups: MemoryCgroups;
}

class Cancelled extends Error {}

export class PodWorker {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  pod: KObject;
  readonly dir: string;
  net: PodNetwork | undefined;
  private pause: SandboxProcess | undefined;
  private volumes = new Map<string, PodVolume>();
  readonly init: ContainerState[];
  readonly main: ContainerState[];
  private sandboxReady = false;
  private startTime: string | undefined;
  /** No more container starts: the pod reached a terminal phase, is being deleted, or the kubelet stops. */
  private stopping = false;
  private terminal = false;
  private podReason: { reason: string; message: string } | undefined;
  private terminating: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private deadlineTimer: NodeJS.Timeout | undefined;
  private statusTimer: NodeJS.Immediate | undefined;
  private lastStatus = '';
  private hostsPath: string;
  private resolvPath: string;
  private hostnamePath: string;
  private graceTimer: NodeJS.Timeout | undefined;
  private graceDeadline = Infinity;
  private removed = false;
  private readonly log: Logger;
  private readonly puller: ImagePuller;

  constructor(
    pod: KObject,
    private readonly env: WorkerEnv,
  ) {
    this.pod = pod;
    this.uid = pod.metadata.uid ?? '';
    this.namespace = pod.metadata.namespace ?? 'default';
    this.name = pod.metadata.name ?? '';
    this.dir = join(env.cfg.stateDir, 'pods', this.uid || `${this.namespace}_${this.name}`);
    this.hostsPath = join(this.dir, 'etc-hosts');
    this.resolvPath = join(this.dir, 'resolv.conf');
    this.hostnamePath = join(this.dir, 'hostname');
    const spec = (pod as Obj).spec ?? {};
    this.init = (spec.initContainers ?? []).map((c: Obj) => new ContainerState(c, true));
    this.main = (spec.containers ?? []).map((c: Obj) => new ContainerState(c, false));
    this.log = env.log.child({ pod: `${this.namespace}/${this.name}` });
    this.puller = new ImagePuller({
      cfg: env.cfg,
      faults: env.faults,
      rootfs: env.rootfs,
      pulled: env.pulled,
      event: (t, r, m) => this.event(t, r, m),
      writeStatus: () => this.writeStatus(),
      sleep: (ms) => this.sleep(ms),
    });
  }

  get spec(): Obj {
    return (this.pod as Obj).spec ?? {};
  }

  get fullName(): string {
    return `${this.name}_${this.namespace}(${this.uid})`;
  }

  isSandboxReady(): boolean {
    return this.sandboxReady;
  }

  /** The pod sandbox's runtime id (what the runtime names it in port-forward errors). */
  get sandboxId(): string {
    return createHash('sha256').update(`sandbox:${this.uid}`).digest('hex');
  }

  container(name: string): ContainerState | undefined {
    return this.main.find((c) => c.name === name) ?? this.init.find((c) => c.name === name);
  }

  // ------------------------------------------------------------------ lifecycle

  /** The worker's main loop, so that a stop can wait until nothing of it runs any more. */
  private mainLoop: Promise<void> | undefined;

  start(): void {
    this.mainLoop ??= this.run();
  }

  private async run(): Promise<void> {
    try {
      this.startTime = now();
      this.scheduleDeadline();
      this.writeStatus();
      await this.setupSandboxRetrying();
      for (const cs of this.init) {
        if (cs.sidecar) {
          void this.supervise(cs);
          await this.waitStarted(cs);
        } else {
          const ok = await this.supervise(cs);
          if (!ok) {
            if (!this.stopping) await this.finish();
            return;
          }
        }
      }
      this.writeStatus();
      await Promise.all(this.main.map((cs) => this.supervise(cs)));
      if (!this.stopping) await this.finish();
    } catch (err) {
      // Failures of a pod that is being stopped (its sandbox taken away underneath) are expected.
      if (!(err instanceof Cancelled) && !this.stopping) this.log.error({ err }, 'pod worker failed');
    }
  }

  /** Every container is done and none will restart: the pod is terminal. Stop sidecars and the sandbox. */
  private async finish(): Promise<void> {
    this.stopping = true;
    this.terminal = true;
    const grace = Number(this.spec.terminationGracePeriodSeconds ?? 30);
    for (const cs of [...this.init].reverse()) if (cs.sidecar) await this.killContainer(cs, grace, `Stopping container ${cs.name}`);
    await this.teardownSandbox();
    this.writeStatus();
  }

  private sleep(ms: number): Promise<void> {
    if (this.abort.signal.aborted) return Promise.reject(new Cancelled());
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.abort.signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(t);
        reject(new Cancelled());
      };
      this.abort.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async waitStarted(cs: ContainerState): Promise<void> {
    while (!cs.started) {
      if (this.stopping) throw new Cancelled();
      await this.sleep(100);
    }
  }

  // ------------------------------------------------------------------ sandbox

  /**
   * As the kubelet's pod workers do: a sandbox that cannot be made is a Warning event
   * (FailedCreatePodSandBox, "Failed to create pod sandbox: ...") and another attempt after a
   * backoff, while the pod stays Pending in ContainerCreating. Clients see why in the events.
   */
  private async setupSandboxRetrying(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.setupSandbox();
        return;
      } catch (err) {
        if (err instanceof Cancelled || this.stopping) throw err;
        this.log.warn({ err }, 'pod sandbox setup failed');
        this.event('Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${(err as Error).message}`);
        await this.teardownSandbox().catch(() => {});
        this.net = undefined;
        await this.sleep(Math.min(1000 * 2 ** Math.min(attempt, 5), 30_000));
        if (this.stopping) throw new Cancelled();
      }
    }
  }

  private async setupSandbox(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true });
    const hostNetwork = !!this.spec.hostNetwork;
    // A hostNetwork pod sees the node's hostname, as it shares the node's UTS namespace.
    const hostname = hostNetwork ? osHostname() : podHostname(this.pod).hostname;
    // Volumes first (a missing ConfigMap keeps the pod in ContainerCreating, retrying, as FailedMount).
    for (let attempt = 0; ; attempt++) {
      try {
        this.volumes = await prepareVolumes(this.volumeContext('0.0.0.0'));
        break;
      } catch (err) {
        if (!(err instanceof MountError)) throw err;
        this.event('Warning', 'FailedMount', `MountVolume.SetUp failed for volume "${this.failedVolume(err)}" : ${err.message}`);
        await this.sleep(Math.min(2000 * 2 ** Math.min(attempt, 4), 30_000));
        if (this.stopping) throw new Cancelled();
      }
    }
    if (this.stopping) throw new Cancelled();
    if (this.env.faults.takeSandboxFailure()) throw new Error('injected fault: failSandboxes');
    this.net = await this.env.net.setup(hostNetwork);
    if (this.env.root) {
      const infoFd = 3;
      this.pause = new SandboxProcess({
        command: pauseCommand({ unshareNet: !this.net.hostNetwork, hostname, infoFd, privileged: true }),
        env: {},
        tty: false,
        stdin: false,
        infoFd,
      });
      this.pause.stdout.resume();
      this.pause.stderr.resume();
      const pid = await this.pause.ready;
      if (!pid) throw new Error(`pod sandbox failed to start: ${(await this.pause.exited).setupError ?? 'unknown error'}`);
      if (!this.net.hostNetwork) await this.env.net.attach(this.net, pid);
    }
    if (this.stopping) {
      // Killed while the sandbox was being made: undo what this call created.
      await this.teardownSandbox();
      throw new Cancelled();
    }
    await fsp.writeFile(this.hostnamePath, `${hostname}\n`);
    await this.writeHosts();
    await fsp.writeFile(this.resolvPath, resolvConf(this.pod, GATEWAY, this.net.hostNetwork));
    this.sandboxReady = true;
    // Downward API volumes now see the pod IP.
    await refreshObjectVolumes(this.volumeContext(this.net.ip));
    this.writeStatus();
    this.env.podNetworkChanged(this.namespace);
  }

  private failedVolume(err: Error): string {
    for (const v of (this.spec.volumes ?? []) as Obj[]) {
      const ref = v.configMap?.name ?? v.secret?.secretName;
      if (ref && err.message.includes(`"${ref}"`)) return v.name;
      for (const s of v.projected?.sources ?? []) if (err.message.includes(`"${s.configMap?.name ?? s.secret?.name}"`)) return v.name;
    }
    return '';
  }

  private volumeContext(podIP: string) {
    return {
      store: this.env.store,
      pod: this.pod,
      podDir: this.dir,
      stateDir: this.env.cfg.stateDir,
      ips: { podIP, hostIP: this.env.net.hostIP },
      token: this.env.cfg.serviceAccountToken,
      caCert: this.env.cfg.caCert,
      root: this.env.root,
    };
  }

  /** Rewrite /etc/hosts (Services changed). */
  async writeHosts(): Promise<void> {
    if (!this.net) return;
    const content = managedHosts(this.pod, this.net.ip, this.net.hostNetwork) + this.env.servicesSection(this.namespace);
    await rewriteInPlace(this.hostsPath, content).catch(() => {});
  }

  /** ConfigMaps/Secrets changed: the kubelet's periodic volume sync. */
  async refreshVolumes(): Promise<void> {
    if (this.sandboxReady && !this.removed) await refreshObjectVolumes(this.volumeContext(this.net?.ip ?? ''));
  }

  private async teardownSandbox(): Promise<void> {
    const wasReady = this.sandboxReady;
    this.sandboxReady = false;
    if (this.pause) {
      this.pause.kill('SIGKILL');
      await this.pause.exited;
      this.pause = undefined;
    }
    if (this.net) await this.env.net.teardown(this.net);
    await releaseVolumes(this.volumes);
    if (wasReady) this.env.podNetworkChanged(this.namespace);
  }

  private namespaces(): PodNamespaces | undefined {
    return this.pause?.pid ? { pausePid: this.pause.pid } : undefined;
  }

  // ------------------------------------------------------------------ containers

  /**
   * Run a container until it is done: returns true when it completed successfully and will not
   * restart (init containers), false when the pod must stop (init failure with restartPolicy
   * Never) — and for regular containers when no restart is due.
   */
  private async supervise(cs: ContainerState): Promise<boolean> {
    const policy = cs.sidecar ? 'Always' : cs.init ? (this.spec.restartPolicy === 'Never' ? 'Never' : 'OnFailure') : (this.spec.restartPolicy ?? 'Always');
    try {
      for (;;) {
        if (this.stopping) return false;
        const inst = await this.startContainer(cs);
        if (!inst) continue; // pull/config failure: back-off applied inside
        await inst.finished;
        this.stopProbers(cs);
        cs.ready = false;
        cs.started = false;
        const term = await terminatedState(cs.spec, inst);
        cs.history.push(term);
        if (cs.history.length > 2) cs.history.shift();
        this.writeStatus();
        if (this.stopping) return false;
        const restart = policy === 'Always' || (policy === 'OnFailure' && term.exitCode !== 0);
        if (!restart) return term.exitCode === 0;
        await this.crashBackoff(cs);
      }
    } catch (err) {
      if (err instanceof Cancelled) return false;
      throw err;
    }
  }

  /** The kubelet's container back-off (kuberuntime doBackOff: first restart at once, then 10s, 20s...). */
  private async crashBackoff(cs: ContainerState): Promise<void> {
    const cfg = this.env.cfg;
    const t = Date.now();
    const b = cs.backoff;
    if (b && t - b.lastUpdate < b.backoff) {
      const secs = Math.round(b.backoff / 1000);
      cs.waiting = { reason: 'CrashLoopBackOff', message: `back-off ${secs < 60 ? `${secs}s` : `${Math.floor(secs / 60)}m${secs % 60 ? `${secs % 60}s` : ''}`} restarting failed container=${cs.name} pod=${this.fullName}` };
      this.event('Warning', 'BackOff', `Back-off restarting failed container ${cs.name} in pod ${this.fullName}`);
      this.writeStatus();
      await this.sleep(b.lastUpdate + b.backoff - t);
    }
    cs.backoff = nextBackoff(cs.backoff, t, cfg.backoffInitialMs, cfg.backoffMaxMs);
    cs.waiting = undefined;
  }

  private async startContainer(cs: ContainerState): Promise<ContainerInstance | undefined> {
    const image = await this.puller.pull(cs);
    if (this.stopping) throw new Cancelled();
    if (!image) return undefined;
    cs.image = image;
    const spec = cs.spec;
    const ips = { podIP: this.net?.ip ?? '', hostIP: this.env.net.hostIP };
    const { hostname } = podHostname(this.pod);
    let envMap: Map<string, string>;
    try {
      envMap = buildEnv(this.env.store, this.pod, spec, image.config.env ?? [], ips, hostname);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      cs.waiting = { reason: 'CreateContainerConfigError', message: err.message };
      this.event('Warning', 'Failed', `Error: ${err.message}`);
      this.writeStatus();
      await this.sleep(Math.min(this.env.cfg.backoffInitialMs, 2000));
      return undefined;
    }
    if (spec.tty) envMap.set('TERM', envMap.get('TERM') ?? 'xterm');
    const env = Object.fromEntries(envMap);
    const argv = containerArgv(spec, image, envMap);
    if (!argv.length) {
      cs.waiting = { reason: 'CreateContainerError', message: 'failed to generate container spec: no command specified' };
      this.event('Warning', 'Failed', `Error: ${cs.waiting.message}`);
      this.writeStatus();
      await this.sleep(Math.min(this.env.cfg.backoffInitialMs, 2000));
      return undefined;
    }
    const user = containerUser(this.spec, spec, image, this.fullName);
    if (user.error) {
      cs.waiting = { reason: 'CreateContainerConfigError', message: user.error };
      this.event('Warning', 'Failed', `Error: ${user.error}`);
      this.writeStatus();
      await this.sleep(Math.min(this.env.cfg.backoffInitialMs, 2000));
      return undefined;
    }
    const n = cs.created;
    const cdir = join(this.dir, 'containers', `${cs.name}-${n}`);
    const view = await this.makeView(cs, image, cdir, user);
    const inst = new ContainerInstance(cs.name, join(this.dir, 'logs', cs.name, `${n}.log`), view, env, !!spec.tty, !!spec.stdin, !!spec.stdinOnce, this.env.cfg.logHighWaterMark);
    await inst.log.open();
    cs.instances.push(inst);
    cs.created++;
    this.pruneInstances(cs);
    const resolved = await resolveProgram(view, argv[0]!, env.PATH);
    this.event('Normal', 'Created', `Created container: ${cs.name}`);
    if (!resolved.ok) {
      const message = `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: ${resolved.message}: unknown`;
      await inst.failStart(message);
      this.event('Warning', 'Failed', `Error: ${message}`);
      cs.waiting = undefined;
      return inst;
    }
    const infoFd = spec.tty ? 4 : 3;
    const shared = !!this.spec.shareProcessNamespace && this.pause?.pid ? openSync(`/proc/${this.pause.pid}/ns/pid`, 'r') : undefined;
    const built = containerCommand(this.namespaces(), view, argv, {
      infoFd,
      sharedPidFd: shared !== undefined ? infoFd + 1 : undefined,
      hostname,
      tty: spec.tty ? { python: this.env.cfg.python, helper: PTY_HELPER_SOURCE, stdin: !!spec.stdin } : undefined,
    });
    const memLimit = quantity(spec.resources?.limits?.memory);
    if (Number.isFinite(memLimit) && memLimit > 0) inst.cgroup = await this.env.cgroups.create(inst.id, memLimit);
    const command = joinCgroup(inst.cgroup, built.file, built.args);
    if (this.stopping) {
      if (shared !== undefined) closeSync(shared);
      await inst.failStart('the pod is being stopped');
      throw new Cancelled();
    }
    const proc = new SandboxProcess({ command, env, tty: !!spec.tty, stdin: !!spec.stdin, infoFd, passFds: shared !== undefined ? [shared] : [] });
    inst.adopt(proc);
    await proc.ready;
    if (this.stopping) {
      // The pod was killed while this container was starting.
      proc.kill('SIGKILL');
      await inst.finished;
      throw new Cancelled();
    }
    cs.waiting = undefined;
    cs.started = !spec.startupProbe;
    cs.ready = false;
    this.event('Normal', 'Started', `Started container ${cs.name}`);
    this.startProbers(cs, inst);
    if (!spec.readinessProbe && cs.started) cs.ready = true;
    this.writeStatus();
    if (spec.lifecycle?.postStart?.exec?.command) void this.runHook(cs, spec.lifecycle.postStart, 'PostStart');
    return inst;
  }

  /** Keep the current and the previous instance (logs for `previous`); drop older ones. */
  private pruneInstances(cs: ContainerState): void {
    while (cs.instances.length > 2) {
      const old = cs.instances.shift()!;
      void old.log.remove();
      const dir = old.view.rootDir ? join(old.view.rootDir, '..') : old.view.tmpDir ? join(old.view.tmpDir, '..') : undefined;
      if (dir) void fsp.rm(dir, { recursive: true, force: true });
    }
  }

  private async makeView(cs: ContainerState, image: ResolvedImage, cdir: string, user: { uid?: number; gid?: number }): Promise<ContainerView> {
    const spec = cs.spec;
    await fsp.mkdir(cdir, { recursive: true });
    const termLog = join(cdir, 'termination-log');
    await fsp.writeFile(termLog, '', { mode: 0o666 });
    await fsp.chmod(termLog, 0o666);
    const mounts: Mount[] = [
      { dest: '/etc/hosts', src: this.hostsPath, ro: false },
      { dest: '/etc/resolv.conf', src: this.resolvPath, ro: false },
      { dest: '/etc/hostname', src: this.hostnamePath, ro: false },
      { dest: spec.terminationMessagePath || '/dev/termination-log', src: termLog, ro: false },
    ];
    for (const vm of (spec.volumeMounts ?? []) as Obj[]) {
      const vol = this.volumes.get(vm.name);
      if (!vol) continue;
      let src = vol.hostPath;
      if (vm.subPath || vm.subPathExpr) {
        const sub = vm.subPath ?? expand(vm.subPathExpr, new Map(Object.entries({ POD_NAME: this.name, POD_NAMESPACE: this.namespace })));
        src = join(vol.hostPath, sub);
        if (!vol.forceRO) await fsp.mkdir(src, { recursive: true }).catch(() => {});
      }
      mounts.push({ dest: vm.mountPath, src, ro: vol.forceRO || !!vm.readOnly });
    }
    const sc = spec.securityContext ?? {};
    const caps = containerCaps(sc);
    const cwd = spec.workingDir || image.config.workingDir || '/';
    const view: ContainerView = { rootfs: image.rootfs, mounts, cwd, caps, uid: user.uid, gid: user.gid, readOnlyRoot: !!sc.readOnlyRootFilesystem };
    if (image.rootfs === 'busybox') {
      view.rootDir = join(cdir, 'rootfs');
      await this.env.rootfs.busyboxCopy(view.rootDir);
    } else {
      view.tmpDir = join(cdir, 'tmp');
      await fsp.mkdir(view.tmpDir, { recursive: true });
      await fsp.chmod(view.tmpDir, 0o1777);
    }
    await prepareMountPoints(view);
    return view;
  }

  // ------------------------------------------------------------------ probes and hooks

  private probeHost(cs: ContainerState, inst: ContainerInstance): ProbeHost {
    return {
      podIP: this.net?.hostNetwork ? '127.0.0.1' : this.net?.ip ?? '127.0.0.1',
      port: (p) => {
        if (typeof p === 'number') return p;
        if (/^\d+$/.test(String(p))) return Number(p);
        const named = ((cs.spec.ports ?? []) as Obj[]).find((x) => x.name === p);
        return named?.containerPort;
      },
      exec: (argv, timeoutMs) => this.execCapture(inst, argv, timeoutMs),
    };
  }

  private startProbers(cs: ContainerState, inst: ContainerInstance): void {
    const spec = cs.spec;
    const host = this.probeHost(cs, inst);
    const label = { startup: 'Startup', readiness: 'Readiness', liveness: 'Liveness' } as const;
    const startRest = () => {
      if (spec.readinessProbe) {
        const p = new Prober('readiness', spec.readinessProbe, host, (ok) => this.setReady(cs, inst, ok), (out) => this.event('Warning', 'Unhealthy', `${label.readiness} probe failed: ${out}`));
        cs.probers.push(p);
        p.start();
      }
      if (spec.livenessProbe) {
        const p = new Prober(
          'liveness',
          spec.livenessProbe,
          host,
          (ok) => {
            if (!ok) void this.probeKill(cs, inst, 'liveness');
          },
          (out) => this.event('Warning', 'Unhealthy', `${label.liveness} probe failed: ${out}`),
        );
        cs.probers.push(p);
        p.start();
      }
    };
    if (spec.startupProbe) {
      const p = new Prober(
        'startup',
        spec.startupProbe,
        host,
        (ok) => {
          if (ok && inst.running && cs.current === inst) {
            cs.started = true;
            if (!spec.readinessProbe) cs.ready = true;
            this.writeStatus();
            startRest();
          } else if (!ok) void this.probeKill(cs, inst, 'startup');
        },
        (out) => this.event('Warning', 'Unhealthy', `${label.startup} probe failed: ${out}`),
      );
      cs.probers.push(p);
      p.start();
    } else startRest();
  }

  private setReady(cs: ContainerState, inst: ContainerInstance, ok: boolean): void {
    if (cs.current !== inst || !inst.running) return;
    if (cs.ready !== ok) {
      cs.ready = ok;
      this.writeStatus();
      this.env.podNetworkChanged(this.namespace);
    }
  }

  private async probeKill(cs: ContainerState, inst: ContainerInstance, kind: string): Promise<void> {
    if (cs.current !== inst || !inst.running || this.stopping) return;
    this.stopProbers(cs);
    this.event('Normal', 'Killing', `Container ${cs.name} failed ${kind} probe, will be restarted`);
    // No override here: the kubelet's minimum shutdown window (minimumGracePeriodInSeconds = 2) applies.
    const grace = Number(cs.spec[`${kind}Probe`]?.terminationGracePeriodSeconds ?? this.spec.terminationGracePeriodSeconds ?? 30);
    await this.stopInstance(cs, inst, Math.max(2, grace));
  }

  private stopProbers(cs: ContainerState): void {
    for (const p of cs.probers) p.stop();
    cs.probers = [];
  }

  private async runHook(cs: ContainerState, hook: Obj, name: string): Promise<void> {
    const inst = cs.current;
    if (!inst?.running) return;
    if (hook.exec?.command) {
      const r = await this.execCapture(inst, hook.exec.command, 30_000);
      if (r.code !== 0) this.event('Warning', `Failed${name}Hook`, `${name}Hook failed`);
    } else if (hook.sleep?.seconds) await new Promise((r) => setTimeout(r, Number(hook.sleep.seconds) * 1000));
  }

  // ------------------------------------------------------------------ exec

  /** Spawn a process in a running container's sandbox (exec, probes, hooks). */
  async spawnExec(inst: ContainerInstance, argv: string[], opts: { tty: boolean; stdin: boolean }): Promise<SandboxProcess | { code: 126 | 127; message: string }> {
    const resolved = await resolveProgram(inst.view, argv[0] ?? '', inst.env.PATH);
    if (!resolved.ok) return { code: resolved.code, message: `OCI runtime exec failed: exec failed: unable to start container process: ${resolved.message}: unknown` };
    if (!inst.proc?.pid) return { code: 126, message: 'OCI runtime exec failed: exec failed: container is not running: unknown' };
    // Joining the container's PID namespace needs privilege; unprivileged, an exec gets its own.
    const pidFd = this.env.root ? openSync(`/proc/${inst.proc.pid}/ns/pid`, 'r') : undefined;
    const { hostname } = podHostname(this.pod);
    const env = { ...inst.env };
    if (opts.tty) env.TERM = 'xterm';
    const built = execCommand(this.namespaces(), inst.view, argv, {
      pidFd: pidFd === undefined ? undefined : opts.tty ? 4 : 3,
      hostname,
      tty: opts.tty ? { python: this.env.cfg.python, helper: PTY_HELPER_SOURCE, stdin: opts.stdin } : undefined,
    });
    // Execs run in the container's cgroup, as runc exec puts them.
    const command = joinCgroup(inst.cgroup, built.file, built.args);
    return new SandboxProcess({ command, env, tty: opts.tty, stdin: opts.stdin, passFds: pidFd === undefined ? [] : [pidFd] });
  }

  private async execCapture(inst: ContainerInstance, argv: string[], timeoutMs: number): Promise<{ code: number; output: string; timedOut: boolean }> {
    const p = await this.spawnExec(inst, argv, { tty: false, stdin: false });
    if (!(p instanceof SandboxProcess)) return { code: p.code, output: p.message, timedOut: false };
    let output = '';
    const take = (d: Buffer) => {
      if (output.length < 10240) output += d.toString('utf8');
    };
    p.stdout.on('data', take);
    p.stderr.on('data', take);
    let timedOut = false;
    const t = setTimeout(() => {
      timedOut = true;
      p.kill('SIGKILL');
    }, timeoutMs);
    const exit = await p.exited;
    clearTimeout(t);
    return { code: exit.code, output, timedOut };
  }

  // ------------------------------------------------------------------ termination

  /** Send the stop signal, wait up to the grace period, then SIGKILL (kuberuntime killContainer). */
  private async stopInstance(cs: ContainerState, inst: ContainerInstance, graceSeconds: number): Promise<void> {
    if (!inst.running) return;
    const sig = (cs.spec.lifecycle?.stopSignal ?? cs.image?.config.stopSignal ?? 'SIGTERM') as NodeJS.Signals;
    const deadline = Date.now() + Math.max(0, graceSeconds) * 1000;
    if (cs.spec.lifecycle?.preStop && graceSeconds > 0) {
      await Promise.race([this.runHook(cs, cs.spec.lifecycle.preStop, 'PreStop'), new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())))]);
    }
    if (graceSeconds > 0) {
      inst.proc?.kill(sig);
      const left = Math.max(0, deadline - Date.now());
      // The kubelet gives at least 2 s after a pre-stop hook used the grace up (minimumGracePeriodInSeconds).
      await Promise.race([inst.finished, new Promise((r) => setTimeout(r, Math.max(left, cs.spec.lifecycle?.preStop ? 2000 : 0)))]);
    }
    if (inst.running) inst.proc?.kill('SIGKILL');
    await inst.finished;
  }

  private async killContainer(cs: ContainerState, graceSeconds: number, message: string): Promise<void> {
    this.stopProbers(cs);
    const inst = cs.current;
    if (!inst?.running) return;
    this.event('Normal', 'Killing', message);
    await this.stopInstance(cs, inst, graceSeconds);
  }

  /** Stop every container (main ones together, then sidecars in reverse order) and the sandbox. */
  private async killAll(graceSeconds: number): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    await Promise.all(this.main.map((cs) => this.killContainer(cs, graceSeconds, `Stopping container ${cs.name}`)));
    for (const cs of [...this.init].reverse()) await this.killContainer(cs, graceSeconds, `Stopping container ${cs.name}`);
    for (const cs of [...this.main, ...this.init]) {
      for (const inst of cs.instances) if (inst.proc) await inst.finished;
      cs.ready = false;
      cs.started = false;
      if (cs.waiting && cs.history.length) cs.waiting = undefined;
      await this.recordFinal(cs);
    }
  }

  /** After a kill, make sure the last instance's termination is in the history. */
  private async recordFinal(cs: ContainerState): Promise<void> {
    const inst = cs.current;
    if (!inst || !inst.exit) return;
    if (!cs.history.some((h) => h.containerID === inst.containerID)) {
      cs.history.push(await terminatedState(cs.spec, inst));
      if (cs.history.length > 2) cs.history.shift();
    }
  }

  /** Graceful deletion (metadata.deletionTimestamp set): kill, report a terminal status, remove. */
  terminate(graceSeconds: number): Promise<void> {
    // A second deletion with a shorter grace period (kubectl delete --grace-period=N after a first
    // delete) shortens the wait: what still runs at the new deadline is killed (kubelet killPod
    // with gracePeriodOverride).
    const deadline = Date.now() + Math.max(0, graceSeconds) * 1000;
    if (this.terminating && deadline < this.graceDeadline) {
      this.graceDeadline = deadline;
      clearTimeout(this.graceTimer);
      this.graceTimer = setTimeout(() => {
        for (const cs of [...this.main, ...this.init]) if (cs.current?.running) cs.current.proc?.kill('SIGKILL');
      }, Math.max(0, deadline - Date.now()));
    }
    if (this.terminating) return this.terminating;
    this.graceDeadline = deadline;
    this.terminating = (async () => {
      clearTimeout(this.deadlineTimer);
      await this.killAll(graceSeconds);
      await this.mainLoop?.catch(() => {});
      clearTimeout(this.graceTimer);
      this.terminal = true;
      await this.teardownSandbox();
      this.flushStatus();
      this.removed = true;
      const cur = this.env.store.get(PODS, this.namespace, this.name);
      if (cur && cur.metadata.uid === this.uid) this.env.store.remove(PODS, this.namespace, this.name);
      await this.cleanup();
    })();
    return this.terminating;
  }

  /** Force deletion (DELETED event) or kubelet stop: kill at once, no status. */
  async kill(): Promise<void> {
    this.removed = true;
    clearTimeout(this.deadlineTimer);
    if (this.statusTimer) clearImmediate(this.statusTimer);
    this.stopping = true;
    this.abort.abort();
    for (const cs of [...this.main, ...this.init]) {
      this.stopProbers(cs);
      for (const inst of cs.instances) if (inst.running) inst.proc?.kill('SIGKILL');
    }
    await this.mainLoop?.catch(() => {});
    for (const cs of [...this.main, ...this.init]) {
      for (const inst of cs.instances) {
        if (inst.running) inst.proc?.kill('SIGKILL');
        if (inst.proc) await inst.finished;
        await inst.cgroup?.remove();
      }
    }
    await this.teardownSandbox();
    await this.terminating?.catch(() => {});
  }

  async cleanup(): Promise<void> {
    for (const cs of [...this.main, ...this.init]) for (const inst of cs.instances) await inst.log.end();
    await fsp.rm(this.dir, { recursive: true, force: true }).catch(() => {});
    this.env.forget(this);
  }

  // ------------------------------------------------------------------ activeDeadlineSeconds

  scheduleDeadline(): void {
    clearTimeout(this.deadlineTimer);
    const ads = this.spec.activeDeadlineSeconds;
    if (typeof ads !== 'number' || !this.startTime || this.terminal || this.stopping) return;
    const due = Date.parse(this.startTime) + ads * 1000 - Date.now();
    this.deadlineTimer = setTimeout(() => void this.deadlineExceeded(), Math.max(0, due));
  }

  private async deadlineExceeded(): Promise<void> {
    if (this.terminal || this.stopping) return;
    this.podReason = { reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' };
    this.event('Normal', 'DeadlineExceeded', this.podReason.message);
    this.writeStatus();
    await this.killAll(Number(this.spec.terminationGracePeriodSeconds ?? 30));
    this.terminal = true;
    await this.teardownSandbox();
    this.writeStatus();
  }

  /** The apiserver changed the pod (spec.activeDeadlineSeconds may be lowered; deletion requested). */
  update(pod: KObject): void {
    if (pod.metadata.uid !== this.uid) return;
    const oldAds = this.spec.activeDeadlineSeconds;
    const oldLabels = JSON.stringify(this.pod.metadata.labels ?? {});
    this.pod = pod;
    // A relabelled pod may enter or leave a Service's selector: the endpoints controller (and so
    // cluster DNS) follows label changes, and kube-sim's /etc/hosts stands in for cluster DNS.
    if (this.sandboxReady && JSON.stringify(pod.metadata.labels ?? {}) !== oldLabels) this.env.podNetworkChanged(this.namespace);
    if (pod.metadata.deletionTimestamp) {
      const grace = Number(pod.metadata.deletionGracePeriodSeconds ?? this.spec.terminationGracePeriodSeconds ?? 30);
      void this.terminate(grace);
      return;
    }
    if (this.spec.activeDeadlineSeconds !== oldAds) this.scheduleDeadline();
  }

  // ------------------------------------------------------------------ status

  private event(type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (this.removed) return;
    try {
      this.env.store.recordEvent(this.pod, type, reason, message);
    } catch (err) {
      this.log.debug({ err }, 'recordEvent failed');
    }
  }

  snapshot(cs: ContainerState): ContainerSnapshot {
    return snapshotContainer(cs, {
      terminal: this.terminal,
      awaitingInit: !!this.init.length && !this.init.every((c) => (c.sidecar ? c.started : c.history.some((h) => h.exitCode === 0))),
      forceRO: (volume) => !!this.volumes.get(volume)?.forceRO,
    });
  }

  /** The status as the kubelet would write it now. */
  buildStatus(existing: Obj): Obj {
    return buildPodStatus({
      spec: this.spec,
      init: this.init.map((c) => this.snapshot(c)),
      main: this.main.map((c) => this.snapshot(c)),
      terminal: this.terminal,
      podReason: this.podReason,
      sandboxReady: this.sandboxReady,
      hostIP: this.env.net.hostIP,
      podIP: this.net?.ip,
      startTime: this.startTime,
      existing,
    });
  }

  /** Coalesce status writes within one turn of the event loop. */
  writeStatus(): void {
    if (this.removed || this.statusTimer) return;
    this.statusTimer = setImmediate(() => {
      this.statusTimer = undefined;
      this.flushStatus();
    });
  }

  flushStatus(): void {
    if (this.statusTimer) {
      clearImmediate(this.statusTimer);
      this.statusTimer = undefined;
    }
    if (this.removed) return;
    const cur = this.env.store.get(PODS, this.namespace, this.name);
    if (!cur || cur.metadata.uid !== this.uid) return;
    const next = this.buildStatus((cur as Obj).status ?? {});
    const text = JSON.stringify(next);
    if (text === this.lastStatus) return;
    this.lastStatus = text;
    this.env.store.mutate(PODS, this.namespace, this.name, (o) => {
      if (o.metadata.uid === this.uid) (o as Obj).status = next;
    });
  }
}
