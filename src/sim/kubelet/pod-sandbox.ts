/**
 * @module sim/kubelet/pod-sandbox
 * A pod's sandbox (the kubelet's RunPodSandbox/StopPodSandbox): its volumes, its network (a netns
 * on the node's bridge, or the host's), the "pause" process owning the pod's namespaces, and the
 * files the kubelet manages for every container (/etc/hosts, /etc/resolv.conf, /etc/hostname).
 */
import { promises as fsp } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { managedHosts, podHostname, resolvConf, rewriteInPlace } from './hosts.js';
import type { PodNetwork } from './netns.js';
import { GATEWAY } from './netns.js';
import { Cancelled, type PodHost, type SandboxView } from './pod-host.js';
import { PAUSE_RUNNING, pauseCommand, type PodNamespaces } from './sandbox.js';
import { SandboxProcess } from './sandbox-process.js';
import { MountError, prepareVolumes, refreshObjectVolumes, releaseVolumes, type PodVolume } from './volumes.js';

type Obj = Record<string, any>;

export class PodSandbox implements SandboxView {
  net: PodNetwork | undefined;
  volumes = new Map<string, PodVolume>();
  readonly hostsPath: string;
  readonly resolvPath: string;
  readonly hostnamePath: string;
  private pause: SandboxProcess | undefined;
  private isReady = false;

  constructor(private readonly host: PodHost) {
    this.hostsPath = join(host.dir, 'etc-hosts');
    this.resolvPath = join(host.dir, 'resolv.conf');
    this.hostnamePath = join(host.dir, 'hostname');
  }

  get ready(): boolean {
    return this.isReady;
  }

  /** The pause process's pid (the pod's shared namespaces), when there is one. */
  get pausePid(): number | undefined {
    return this.pause?.pid;
  }

  namespaces(): PodNamespaces | undefined {
    return this.pause?.pid ? { pausePid: this.pause.pid } : undefined;
  }

  /**
   * As the kubelet's pod workers do: a sandbox that cannot be made is a Warning event
   * (FailedCreatePodSandBox, "Failed to create pod sandbox: ...") and another attempt after a
   * backoff, while the pod stays Pending in ContainerCreating. Clients see why in the events.
   */
  async setupRetrying(): Promise<void> {
    const host = this.host;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.setup();
        return;
      } catch (err) {
        if (err instanceof Cancelled || host.stopping) throw err;
        host.log.warn({ err }, 'pod sandbox setup failed');
        host.event('Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${(err as Error).message}`);
        await this.teardown().catch(() => {});
        this.net = undefined;
        await host.sleep(Math.min(1000 * 2 ** Math.min(attempt, 5), 30_000));
        if (host.stopping) throw new Cancelled();
      }
    }
  }

  private async setup(): Promise<void> {
    const host = this.host;
    const env = host.env;
    await fsp.mkdir(host.dir, { recursive: true });
    const hostNetwork = !!host.spec.hostNetwork;
    // A hostNetwork pod sees the node's hostname, as it shares the node's UTS namespace.
    const hostname = hostNetwork ? osHostname() : podHostname(host.pod).hostname;
    // Volumes first (a missing ConfigMap keeps the pod in ContainerCreating, retrying, as FailedMount).
    for (let attempt = 0; ; attempt++) {
      try {
        this.volumes = await prepareVolumes(this.volumeContext('0.0.0.0'));
        break;
      } catch (err) {
        if (!(err instanceof MountError)) throw err;
        if (err.event) host.event('Warning', err.event.reason, err.event.message);
        else
          host.event(
            'Warning',
            'FailedMount',
            `MountVolume.SetUp failed for volume "${this.failedVolume(err)}" : ${err.message}`,
          );
        await host.sleep(Math.min(2000 * 2 ** Math.min(attempt, 4), 30_000));
        if (host.stopping) throw new Cancelled();
      }
    }
    if (host.stopping) throw new Cancelled();
    if (env.faults.takeSandboxFailure()) throw new Error('injected fault: failSandboxes');
    this.net = await env.net.setup(hostNetwork);
    if (env.root) {
      const infoFd = 3;
      this.pause = new SandboxProcess({
        command: pauseCommand({ unshareNet: !this.net.hostNetwork, hostname, infoFd, privileged: true }),
        env: {},
        tty: false,
        stdin: false,
        infoFd,
      });
      this.pause.stderr.resume();
      // Its PID comes before its setup is done (sandbox.ts PAUSE_RUNNING): wait for the command.
      const pid = await this.pause.ready;
      if (!pid || !(await pauseRunning(this.pause)))
        throw new Error(`pod sandbox failed to start: ${(await this.pause.exited).setupError ?? 'unknown error'}`);
      if (!this.net.hostNetwork) await env.net.attach(this.net, pid);
    }
    // NetworkPolicy (src/sim/network-policy): the pod's rules exist before its first packet, as a CNI ADD.
    if (!this.net.hostNetwork && env.cfg.podNetworkAdded) await env.cfg.podNetworkAdded(host.pod, this.net.ip);
    if (host.stopping) {
      // Killed while the sandbox was being made: undo what this call created.
      await this.teardown();
      throw new Cancelled();
    }
    await fsp.writeFile(this.hostnamePath, `${hostname}\n`);
    await this.writeHosts();
    await fsp.writeFile(this.resolvPath, resolvConf(host.pod, GATEWAY, this.net.hostNetwork));
    this.isReady = true;
    // Downward API volumes now see the pod IP.
    await refreshObjectVolumes(this.volumeContext(this.net.ip));
    host.writeStatus();
    env.podNetworkChanged(host.namespace);
  }

  private failedVolume(err: Error): string {
    for (const v of (this.host.spec.volumes ?? []) as Obj[]) {
      const ref = v.configMap?.name ?? v.secret?.secretName;
      if (ref && err.message.includes(`"${ref}"`)) return v.name;
      for (const s of v.projected?.sources ?? [])
        if (err.message.includes(`"${s.configMap?.name ?? s.secret?.name}"`)) return v.name;
    }
    return '';
  }

  private volumeContext(podIP: string) {
    const env = this.host.env;
    return {
      store: env.store,
      pod: this.host.pod,
      podDir: this.host.dir,
      stateDir: env.cfg.stateDir,
      ips: { podIP, hostIP: env.net.hostIP },
      token: env.cfg.serviceAccountToken,
      caCert: env.cfg.caCert,
      root: env.root,
    };
  }

  /** Rewrite /etc/hosts (Services changed). */
  async writeHosts(): Promise<void> {
    if (!this.net) return;
    // The Services section stands in for the cluster DNS (hosts.ts); a `dnsPolicy: None` pod does
    // not use the cluster DNS, so it gets none (a real kubelet never writes Services there).
    const services = this.host.spec.dnsPolicy === 'None' ? '' : this.host.env.servicesSection(this.host.namespace);
    const content = managedHosts(this.host.pod, this.net.ip, this.net.hostNetwork) + services;
    await rewriteInPlace(this.hostsPath, content).catch(() => {});
  }

  /** ConfigMaps/Secrets changed: the kubelet's periodic volume sync. */
  async refreshVolumes(): Promise<void> {
    if (this.isReady) await refreshObjectVolumes(this.volumeContext(this.net?.ip ?? ''));
  }

  async teardown(): Promise<void> {
    const wasReady = this.isReady;
    this.isReady = false;
    if (this.pause) {
      this.pause.kill('SIGKILL');
      await this.pause.exited;
      this.pause = undefined;
    }
    if (this.net) await this.host.env.net.teardown(this.net);
    await releaseVolumes(this.volumes);
    if (wasReady) this.host.env.podNetworkChanged(this.host.namespace);
  }
}

/**
 * Resolves true once the pause's command runs (it printed {@link PAUSE_RUNNING}: bwrap has set up
 * the namespaces, loopback and hostname included), false if the sandbox ended first. Its output
 * is drained from then on.
 */
export function pauseRunning(pause: SandboxProcess): Promise<boolean> {
  return new Promise((resolve) => {
    let seen = '';
    const onData = (d: Buffer) => {
      seen += d.toString('latin1');
      if (!seen.includes(PAUSE_RUNNING)) return;
      pause.stdout.off('data', onData);
      pause.stdout.resume();
      resolve(true);
    };
    pause.stdout.on('data', onData);
    void pause.exited.then(() => resolve(false));
  });
}
