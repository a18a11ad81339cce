/**
 * @module sim/kubelet/pod-worker
 * One pod on the node, from admission to removal (the kubelet's pod worker): the coordinator of a
 * pod's parts. It makes the sandbox (pod-sandbox.ts), runs init containers in order then the
 * containers (container-supervisor.ts: restartPolicy, CrashLoopBackOff; image pulls with
 * ImagePullBackOff in image-pull.ts; probes in container-probes.ts), enforces
 * activeDeadlineSeconds, stops the pod gracefully (container-stop.ts), and builds the pod status
 * that pod-reporter.ts writes at every transition.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../log.js';
import { PODS, type KObject } from '../types.js';
import { spawnExec } from './container-exec.js';
import { ContainerState, snapshotContainer } from './container-state.js';
import { killContainer, killContainers } from './container-stop.js';
import { supervise } from './container-supervisor.js';
import type { ContainerInstance } from './container.js';
import { ImagePuller } from './image-pull.js';
import type { PodNetwork } from './netns.js';
import { cancellableSleep, Cancelled, type PodHost, type WorkerEnv } from './pod-host.js';
import { PodReporter } from './pod-reporter.js';
import { PodSandbox } from './pod-sandbox.js';
import { buildPodStatus, now, type ContainerSnapshot } from './pod-status.js';
import type { SandboxProcess } from './sandbox-process.js';

export { ContainerState } from './container-state.js';
export type { WorkerEnv } from './pod-host.js';

type Obj = Record<string, any>;

export class PodWorker {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  pod: KObject;
  readonly dir: string;
  readonly init: ContainerState[];
  readonly main: ContainerState[];
  private startTime: string | undefined;
  /** No more container starts: the pod reached a terminal phase, is being deleted, or the kubelet stops. */
  private stopping = false;
  private terminal = false;
  private podReason: { reason: string; message: string } | undefined;
  private terminating: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private deadlineTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private graceDeadline = Infinity;
  private readonly log: Logger;
  /** What the pod's parts see of it (sandbox, supervision, probes, exec, stop). */
  private readonly host: PodHost;
  private readonly sandbox: PodSandbox;
  private readonly puller: ImagePuller;
  private readonly reporter: PodReporter;

  constructor(
    pod: KObject,
    private readonly env: WorkerEnv,
  ) {
    this.pod = pod;
    this.uid = pod.metadata.uid ?? '';
    this.namespace = pod.metadata.namespace ?? 'default';
    this.name = pod.metadata.name ?? '';
    this.dir = join(env.cfg.stateDir, 'pods', this.uid || `${this.namespace}_${this.name}`);
    const spec = (pod as Obj).spec ?? {};
    this.init = (spec.initContainers ?? []).map((c: Obj) => new ContainerState(c, true));
    this.main = (spec.containers ?? []).map((c: Obj) => new ContainerState(c, false));
    this.log = env.log.child({ pod: `${this.namespace}/${this.name}` });
    this.reporter = new PodReporter({
      store: env.store,
      namespace: this.namespace,
      name: this.name,
      uid: this.uid,
      log: this.log,
      pod: () => this.pod,
      build: (existing) => this.buildStatus(existing),
    });
    // Getters: the parts read the worker's current pod, stop state and parts, never a copy.
    const self = this;
    this.host = {
      env,
      namespace: this.namespace,
      name: this.name,
      dir: this.dir,
      log: this.log,
      get fullName() {
        return self.fullName;
      },
      get pod() {
        return self.pod;
      },
      get spec() {
        return self.spec;
      },
      get stopping() {
        return self.stopping;
      },
      get sandbox() {
        return self.sandbox;
      },
      get puller() {
        return self.puller;
      },
      event: (t, r, m) => this.event(t, r, m),
      writeStatus: () => this.writeStatus(),
      sleep: (ms) => this.sleep(ms),
    };
    this.sandbox = new PodSandbox(this.host);
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

  /** The claims mounted in the sandbox now (volume name, claim, host directory): the Summary API's volume stats. */
  mountedClaims(): Array<{ name: string; claim: string; hostPath: string }> {
    return [...this.sandbox.volumes.values()].flatMap((v) =>
      v.claim ? [{ name: v.name, claim: v.claim, hostPath: v.hostPath }] : [],
    );
  }

  /** The pod's network, once its sandbox has one. */
  get net(): PodNetwork | undefined {
    return this.sandbox.net;
  }

  isSandboxReady(): boolean {
    return this.sandbox.ready;
  }

  /** The pod sandbox's runtime id (what the runtime names it in port-forward errors). */
  get sandboxId(): string {
    return createHash('sha256').update(`sandbox:${this.uid}`).digest('hex');
  }

  container(name: string): ContainerState | undefined {
    return this.main.find((c) => c.name === name) ?? this.init.find((c) => c.name === name);
  }

  /** Spawn a process in a running container's sandbox (kubectl exec). */
  spawnExec(
    inst: ContainerInstance,
    argv: string[],
    opts: { tty: boolean; stdin: boolean },
  ): Promise<SandboxProcess | { code: 126 | 127; message: string }> {
    return spawnExec(this.host, inst, argv, opts);
  }

  /** Rewrite /etc/hosts (Services changed). */
  writeHosts(): Promise<void> {
    return this.sandbox.writeHosts();
  }

  /** ConfigMaps/Secrets changed: the kubelet's periodic volume sync. */
  async refreshVolumes(): Promise<void> {
    if (!this.reporter.removed) await this.sandbox.refreshVolumes();
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
      await this.sandbox.setupRetrying();
      for (const cs of this.init) {
        if (cs.sidecar) {
          void supervise(this.host, cs);
          await this.waitStarted(cs);
        } else {
          const ok = await supervise(this.host, cs);
          if (!ok) {
            if (!this.stopping) await this.finish();
            return;
          }
        }
      }
      this.writeStatus();
      await Promise.all(this.main.map((cs) => supervise(this.host, cs)));
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
    for (const cs of [...this.init].reverse())
      if (cs.sidecar) await killContainer(this.host, cs, grace, `Stopping container ${cs.name}`);
    await this.sandbox.teardown();
    this.writeStatus();
  }

  private sleep(ms: number): Promise<void> {
    return cancellableSleep(this.abort.signal, ms);
  }

  private async waitStarted(cs: ContainerState): Promise<void> {
    while (!cs.started) {
      if (this.stopping) throw new Cancelled();
      await this.sleep(100);
    }
  }

  // ------------------------------------------------------------------ termination

  /** No more starts; stop every container (main ones together, then sidecars in reverse order). */
  private async killAll(graceSeconds: number): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    await killContainers(this.host, this.init, this.main, graceSeconds);
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
      this.graceTimer = setTimeout(
        () => {
          for (const cs of [...this.main, ...this.init]) if (cs.current?.running) cs.current.proc?.kill('SIGKILL');
        },
        Math.max(0, deadline - Date.now()),
      );
    }
    if (this.terminating) return this.terminating;
    this.graceDeadline = deadline;
    this.terminating = (async () => {
      clearTimeout(this.deadlineTimer);
      await this.killAll(graceSeconds);
      await this.mainLoop?.catch(() => {});
      clearTimeout(this.graceTimer);
      this.terminal = true;
      await this.sandbox.teardown();
      this.flushStatus();
      this.reporter.removed = true;
      const cur = this.env.store.get(PODS, this.namespace, this.name);
      if (cur && cur.metadata.uid === this.uid) this.env.store.remove(PODS, this.namespace, this.name);
      await this.cleanup();
    })();
    return this.terminating;
  }

  /** Force deletion (DELETED event) or kubelet stop: kill at once, no status. */
  async kill(): Promise<void> {
    this.reporter.removed = true;
    clearTimeout(this.deadlineTimer);
    this.reporter.cancelPending();
    this.stopping = true;
    this.abort.abort();
    for (const cs of [...this.main, ...this.init]) {
      cs.stopProbers();
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
    await this.sandbox.teardown();
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
    this.podReason = {
      reason: 'DeadlineExceeded',
      message: 'Pod was active on the node longer than the specified deadline',
    };
    this.event('Normal', 'DeadlineExceeded', this.podReason.message);
    this.writeStatus();
    await this.killAll(Number(this.spec.terminationGracePeriodSeconds ?? 30));
    this.terminal = true;
    await this.sandbox.teardown();
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
    if (this.sandbox.ready && JSON.stringify(pod.metadata.labels ?? {}) !== oldLabels)
      this.env.podNetworkChanged(this.namespace);
    if (pod.metadata.deletionTimestamp) {
      const grace = Number(pod.metadata.deletionGracePeriodSeconds ?? this.spec.terminationGracePeriodSeconds ?? 30);
      void this.terminate(grace);
      return;
    }
    if (this.spec.activeDeadlineSeconds !== oldAds) this.scheduleDeadline();
  }

  // ------------------------------------------------------------------ status

  private event(type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.reporter.event(type, reason, message);
  }

  snapshot(cs: ContainerState): ContainerSnapshot {
    return snapshotContainer(cs, {
      terminal: this.terminal,
      awaitingInit:
        !!this.init.length &&
        !this.init.every((c) => (c.sidecar ? c.started : c.history.some((h) => h.exitCode === 0))),
      forceRO: (volume) => !!this.sandbox.volumes.get(volume)?.forceRO,
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
      sandboxReady: this.sandbox.ready,
      hostIP: this.env.net.hostIP,
      podIP: this.sandbox.net?.ip,
      startTime: this.startTime,
      existing,
    });
  }

  /** Coalesce status writes within one turn of the event loop. */
  writeStatus(): void {
    this.reporter.writeStatus();
  }

  flushStatus(): void {
    this.reporter.flushStatus();
  }
}
