/**
 * @module sim/kubelet/container-probes
 * The kubelet's prober manager for one container instance: the startup probe gates the readiness
 * and liveness probes; readiness feeds the container's `ready` (and Service endpoints); a failed
 * liveness or startup probe kills the instance so that its restart policy applies.
 */
import { execCapture } from './container-exec.js';
import type { ContainerState } from './container-state.js';
import { stopInstance } from './container-stop.js';
import type { ContainerInstance } from './container.js';
import type { PodHost } from './pod-host.js';
import { Prober, type ProbeHost } from './probes.js';

type Obj = Record<string, any>;

function probeHost(host: PodHost, cs: ContainerState, inst: ContainerInstance): ProbeHost {
  const net = host.sandbox.net;
  return {
    podIP: net?.hostNetwork ? '127.0.0.1' : (net?.ip ?? '127.0.0.1'),
    port: (p) => {
      if (typeof p === 'number') return p;
      if (/^\d+$/.test(String(p))) return Number(p);
      const named = ((cs.spec.ports ?? []) as Obj[]).find((x) => x.name === p);
      return named?.containerPort;
    },
    exec: (argv, timeoutMs) => execCapture(host, inst, argv, timeoutMs),
  };
}

/** Start the probes of a freshly started instance. */
export function startProbers(host: PodHost, cs: ContainerState, inst: ContainerInstance): void {
  const spec = cs.spec;
  const ph = probeHost(host, cs, inst);
  const label = { startup: 'Startup', readiness: 'Readiness', liveness: 'Liveness' } as const;
  const startRest = () => {
    if (spec.readinessProbe) {
      const p = new Prober(
        'readiness',
        spec.readinessProbe,
        ph,
        (ok) => setReady(host, cs, inst, ok),
        (out) => host.event('Warning', 'Unhealthy', `${label.readiness} probe failed: ${out}`),
      );
      cs.probers.push(p);
      p.start();
    }
    if (spec.livenessProbe) {
      const p = new Prober(
        'liveness',
        spec.livenessProbe,
        ph,
        (ok) => {
          if (!ok) void probeKill(host, cs, inst, 'liveness');
        },
        (out) => host.event('Warning', 'Unhealthy', `${label.liveness} probe failed: ${out}`),
      );
      cs.probers.push(p);
      p.start();
    }
  };
  if (spec.startupProbe) {
    const p = new Prober(
      'startup',
      spec.startupProbe,
      ph,
      (ok) => {
        if (ok && inst.running && cs.current === inst) {
          cs.started = true;
          if (!spec.readinessProbe) cs.ready = true;
          host.writeStatus();
          startRest();
        } else if (!ok) void probeKill(host, cs, inst, 'startup');
      },
      (out) => host.event('Warning', 'Unhealthy', `${label.startup} probe failed: ${out}`),
    );
    cs.probers.push(p);
    p.start();
  } else startRest();
}

function setReady(host: PodHost, cs: ContainerState, inst: ContainerInstance, ok: boolean): void {
  if (cs.current !== inst || !inst.running) return;
  if (cs.ready !== ok) {
    cs.ready = ok;
    host.writeStatus();
    host.env.podNetworkChanged(host.namespace);
  }
}

async function probeKill(host: PodHost, cs: ContainerState, inst: ContainerInstance, kind: string): Promise<void> {
  if (cs.current !== inst || !inst.running || host.stopping) return;
  cs.stopProbers();
  host.event('Normal', 'Killing', `Container ${cs.name} failed ${kind} probe, will be restarted`);
  // No override here: the kubelet's minimum shutdown window (minimumGracePeriodInSeconds = 2) applies.
  const grace = Number(
    cs.spec[`${kind}Probe`]?.terminationGracePeriodSeconds ?? host.spec.terminationGracePeriodSeconds ?? 30,
  );
  await stopInstance(host, cs, inst, Math.max(2, grace));
}
