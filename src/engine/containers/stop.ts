/**
 * @module engine/containers/stop
 * `docker stop`, `kill` and `restart`, the honest mapping onto Kubernetes (src/ARCHITECTURE.md):
 * a signal other than SIGKILL is `kill -<n> 1` run inside the container (pods/exec; PID 1 gets
 * only the signals it handles, as under Docker); stop waits its timeout by watch, then has the
 * kubelet kill the Pod (activeDeadlineSeconds), which keeps the exit status and the logs.
 * What dockerd does in moby's daemon/stop.go and daemon/kill.go, on Kubernetes.
 */
import { detached } from '../../cancel-scope.js';
import { conflict, invalid, notFound, notModified, systemError, EngineError } from '../../errors.js';
import { isNotFound } from '../../kube/client.js';
import type { PodObject } from '../core/container-index.js';
import { execRun } from './exec-run.js';
import { signalName, signalNumber } from '../model/signals.js';
import { mainStatus } from '../model/state.js';
import { CONTAINER_NAME } from '../model/translate.js';
import type { ContainerRecord } from '../model/types.js';
import { kubeError } from '../../kube/errors.js';
import type { ContainerHost } from './host.js';

export class ContainerStopper {
  constructor(private readonly e: ContainerHost) {}

  async stopContainer(nameOrId: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    const rec = this.e.index.resolve(nameOrId);
    if (opts.signal !== undefined && opts.signal !== '' && signalNumber(opts.signal) === undefined)
      throw invalid(`Invalid signal: ${opts.signal}`);
    // As dockerd: "Cancelling the request should not cancel the stop" (moby daemon/stop.go
    // containerStop, context.WithoutCancel): the signal, the wait and the kill run to the end.
    await this.e.withLock(rec.id, () => detached(() => this.stopLocked(rec.id, opts)));
  }

  private async stopLocked(id: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    const rec = this.e.index.get(id);
    if (!rec) throw notFound(`No such container: ${id}`);
    const st = this.e.stateOf(rec);
    if (st.Restarting && !this.e.index.currentPod(rec)) {
      // Waiting to restart: cancel it (moby: stop on a restarting container stops the restart loop).
      this.e.monitor.cancelRestart(id);
      await this.e.updateState(id, (s) => ({ ...s, restarting: false, manuallyStopped: true }));
      this.e.events.container(this.e.eventSource(rec), 'stop');
      return;
    }
    if (!st.Running) throw notModified();
    const pod = this.e.index.currentPod(rec)!;
    await this.e.updateState(id, (s) => ({ ...s, manuallyStopped: true }));
    const timeout =
      opts.timeout ??
      (typeof rec.config.StopTimeout === 'number' ? rec.config.StopTimeout : this.e.opts.defaultStopTimeout);
    const sig = signalName(opts.signal || rec.config.StopSignal || 'SIGTERM') ?? 'SIGTERM';
    this.e.events.container(this.e.eventSource(rec), 'kill', { signal: String(signalNumber(sig)) });
    let delivered = false;
    if (timeout !== 0 && sig !== 'SIGKILL')
      delivered = await this.signalInPod(pod.metadata.name, sig).then(
        () => true,
        (err: Error) => {
          this.e.log.info(
            { id, err: err.message },
            'stop signal could not be delivered in the container; the kubelet will stop it',
          );
          return false;
        },
      );
    if (delivered) {
      const exited = await this.waitExit(rec.id, pod, timeout < 0 ? undefined : timeout * 1000);
      if (exited) {
        await this.e.volumes.settle(rec.id); // writable binds copied back (engine/volumes/bind-sync.ts)
        return this.stopped(rec);
      }
    }
    await this.kubeletKill(pod);
    await this.waitExit(rec.id, pod, (this.e.opts.killGraceSeconds + 30) * 1000);
    this.stopped(rec);
  }

  private stopped(rec: ContainerRecord): void {
    this.e.events.container(this.e.eventSource(this.e.index.get(rec.id) ?? rec), 'stop');
  }

  /** Deliver a signal to the container's PID 1 from inside it (as `docker kill -s` does from outside). */
  private async signalInPod(pod: string, sig: string): Promise<void> {
    const n = signalNumber(sig)!;
    const attempts = [
      ['/bin/sh', '-c', `kill -${n} 1`],
      ['kill', `-${n}`, '1'],
    ];
    let last = '';
    for (const cmd of attempts) {
      try {
        const r = await execRun(
          this.e.kube.dialer,
          this.e.namespace,
          pod,
          CONTAINER_NAME,
          cmd,
          this.e.opts.execCommand,
        );
        if (r.exitCode === 0) return;
        last = `${cmd.join(' ')} exited with ${r.exitCode}${r.output ? `: ${r.output.trim()}` : ''}`;
      } catch (err) {
        last = (err as Error).message;
      }
    }
    throw new Error(last);
  }

  /**
   * The kubelet kills the Pod: activeDeadlineSeconds lowered to 1 (the Pod has been running that
   * long) makes the kubelet stop it with DeadlineExceeded, keeping the container's exit status
   * and logs, which deleting the Pod would lose. The kubelet sends the stop signal and SIGKILL
   * after terminationGracePeriodSeconds (the engine's kill grace).
   */
  private async kubeletKill(pod: PodObject): Promise<void> {
    await this.e.volumes.beforeKill(pod); // the kill ends the bind sidecar too: copy writable binds back first
    try {
      const updated = await this.e.kube.client.mergePatch<PodObject>(this.e.kube.path('pods', pod.metadata.name), {
        spec: { activeDeadlineSeconds: 1 },
      });
      this.e.index.pods.observe(updated);
    } catch (err) {
      if (!isNotFound(err)) throw kubeError(err, 'stopping the pod');
    }
  }

  /** Wait until the run's Pod reports the container terminated (true) or the time is up (false). */
  private waitExit(id: string, pod: PodObject, timeoutMs?: number): Promise<boolean> {
    return this.e.index
      .when(
        () => {
          const p = this.e.index.pods.get(pod.metadata.name);
          if (!p || p.metadata.uid !== pod.metadata.uid || !this.e.index.get(id)) return true;
          const cs = mainStatus(p)?.state;
          if (cs?.terminated) return true;
          // The kubelet marks the pod Failed (DeadlineExceeded) before it kills the container:
          // only a terminal pod whose container is not running any more has exited.
          const ph = p.status?.phase;
          return (ph === 'Failed' || ph === 'Succeeded') && !cs?.running ? true : undefined;
        },
        timeoutMs === undefined ? {} : { timeoutMs },
      )
      .catch(() => false);
  }

  async killContainer(nameOrId: string, signal = 'SIGKILL'): Promise<void> {
    const sig = signalName(signal || 'SIGKILL');
    if (!sig) throw invalid(`Invalid signal: ${signal}`);
    const rec = this.e.index.resolve(nameOrId);
    await this.e.withLock(rec.id, async () => {
      const cur = this.e.index.get(rec.id)!;
      const st = this.e.stateOf(cur);
      const pod = this.e.index.currentPod(cur);
      if (!st.Running || !pod) throw conflict(`cannot kill container: ${nameOrId}: container ${cur.id} is not running`);
      const stopSig = signalName(cur.config.StopSignal || 'SIGTERM');
      if (sig === 'SIGKILL' || sig === stopSig)
        await this.e.updateState(cur.id, (s) => ({ ...s, manuallyStopped: true }));
      this.e.events.container(this.e.eventSource(cur), 'kill', { signal: String(signalNumber(sig)) });
      if (sig === 'SIGKILL') {
        await this.kubeletKill(pod);
        await this.waitExit(cur.id, pod, (this.e.opts.killGraceSeconds + 30) * 1000);
        return;
      }
      try {
        await this.signalInPod(pod.metadata.name, sig);
      } catch (err) {
        throw systemError(
          `cannot send ${sig} to container ${cur.id.slice(0, 12)}: on Kubernetes, signals other than SIGKILL are sent by running "kill" inside the container, which failed: ${(err as Error).message}`,
        );
      }
    });
  }

  async restartContainer(nameOrId: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    const rec = this.e.index.resolve(nameOrId);
    await this.e.withLock(rec.id, async () => {
      try {
        await detached(() => this.stopLocked(rec.id, opts)); // moby daemon/restart.go: the stop part is not cancelled
      } catch (err) {
        if (!(err instanceof EngineError && err.category === 'not-modified')) throw err;
      }
      this.e.monitor.cancelRestart(rec.id);
      const published = await this.e.ports.beforeStart(rec.id);
      try {
        await this.e.launchRun(rec.id, 'start');
      } finally {
        published();
      }
      this.e.events.container(this.e.eventSource(this.e.index.get(rec.id)!), 'restart');
    });
  }
}
