/**
 * @module sim/kubelet/container-stop
 * Stopping containers (kuberuntime killContainer): the pre-stop hook, the stop signal, the grace
 * period, SIGKILL; and the termination the kubelet records for an instance it killed.
 */
import { terminatedState } from './container-exit.js';
import type { ContainerState } from './container-state.js';
import type { ContainerInstance } from './container.js';
import { runHook } from './container-exec.js';
import type { PodHost } from './pod-host.js';

/** Send the stop signal, wait up to the grace period, then SIGKILL (kuberuntime killContainer). */
export async function stopInstance(
  host: PodHost,
  cs: ContainerState,
  inst: ContainerInstance,
  graceSeconds: number,
): Promise<void> {
  if (!inst.running) return;
  const sig = (cs.spec.lifecycle?.stopSignal ?? cs.image?.config.stopSignal ?? 'SIGTERM') as NodeJS.Signals;
  const deadline = Date.now() + Math.max(0, graceSeconds) * 1000;
  if (cs.spec.lifecycle?.preStop && graceSeconds > 0) {
    await Promise.race([
      runHook(host, cs, cs.spec.lifecycle.preStop, 'PreStop'),
      new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now()))),
    ]);
  }
  if (graceSeconds > 0) {
    inst.proc?.kill(sig);
    const left = Math.max(0, deadline - Date.now());
    // The kubelet gives at least 2 s after a pre-stop hook used the grace up (minimumGracePeriodInSeconds).
    await Promise.race([
      inst.finished,
      new Promise((r) => setTimeout(r, Math.max(left, cs.spec.lifecycle?.preStop ? 2000 : 0))),
    ]);
  }
  if (inst.running) inst.proc?.kill('SIGKILL');
  await inst.finished;
}

/** Stop a container's current instance with a Killing event (`message`). */
export async function killContainer(
  host: PodHost,
  cs: ContainerState,
  graceSeconds: number,
  message: string,
): Promise<void> {
  cs.stopProbers();
  const inst = cs.current;
  if (!inst?.running) return;
  host.event('Normal', 'Killing', message);
  await stopInstance(host, cs, inst, graceSeconds);
}

/** Stop every container: main ones together, then sidecars (init containers) in reverse order. */
export async function killContainers(
  host: PodHost,
  init: ContainerState[],
  main: ContainerState[],
  graceSeconds: number,
): Promise<void> {
  await Promise.all(main.map((cs) => killContainer(host, cs, graceSeconds, `Stopping container ${cs.name}`)));
  for (const cs of [...init].reverse()) await killContainer(host, cs, graceSeconds, `Stopping container ${cs.name}`);
  for (const cs of [...main, ...init]) {
    for (const inst of cs.instances) if (inst.proc) await inst.finished;
    cs.ready = false;
    cs.started = false;
    if (cs.waiting && cs.history.length) cs.waiting = undefined;
    await recordFinal(cs);
  }
}

/** After a kill, make sure the last instance's termination is in the history. */
async function recordFinal(cs: ContainerState): Promise<void> {
  const inst = cs.current;
  if (!inst || !inst.exit) return;
  if (!cs.history.some((h) => h.containerID === inst.containerID)) {
    cs.history.push(await terminatedState(cs.spec, inst));
    if (cs.history.length > 2) cs.history.shift();
  }
}
