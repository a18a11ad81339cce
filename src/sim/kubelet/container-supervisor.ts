/**
 * @module sim/kubelet/container-supervisor
 * One container of a pod across its restarts (kuberuntime SyncPod for one container): pull the
 * image, build its config (env, command, user: CreateContainerConfigError/CreateContainerError),
 * create and start an instance, wait for it to end, and apply the restart policy with the
 * CrashLoopBackOff back-off.
 */
import { closeSync, openSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { joinCgroup } from './cgroups.js';
import { containerArgv, containerUser } from './container-config.js';
import { terminatedState } from './container-exit.js';
import { runHook } from './container-exec.js';
import { startProbers } from './container-probes.js';
import { nextBackoff, type ContainerState } from './container-state.js';
import { makeView } from './container-view.js';
import { ContainerInstance } from './container.js';
import { buildEnv, ConfigError } from './env.js';
import { quantityNumber } from '../../kube/quantity.js';
import { podHostname } from './hosts.js';
import { Cancelled, type PodHost } from './pod-host.js';
import { PTY_HELPER_SOURCE } from './pty-helper.js';
import { containerCommand, resolveProgram } from './sandbox.js';
import { SandboxProcess } from './sandbox-process.js';

/**
 * Run a container until it is done: returns true when it completed successfully and will not
 * restart (init containers), false when the pod must stop (init failure with restartPolicy
 * Never) — and for regular containers when no restart is due.
 */
export async function supervise(host: PodHost, cs: ContainerState): Promise<boolean> {
  const policy = cs.sidecar
    ? 'Always'
    : cs.init
      ? host.spec.restartPolicy === 'Never'
        ? 'Never'
        : 'OnFailure'
      : (host.spec.restartPolicy ?? 'Always');
  try {
    for (;;) {
      if (host.stopping) return false;
      const inst = await startContainer(host, cs);
      if (!inst) continue; // pull/config failure: back-off applied inside
      await inst.finished;
      cs.stopProbers();
      cs.ready = false;
      cs.started = false;
      const term = await terminatedState(cs.spec, inst);
      cs.history.push(term);
      if (cs.history.length > 2) cs.history.shift();
      host.writeStatus();
      if (host.stopping) return false;
      const restart = policy === 'Always' || (policy === 'OnFailure' && term.exitCode !== 0);
      if (!restart) return term.exitCode === 0;
      await crashBackoff(host, cs);
    }
  } catch (err) {
    if (err instanceof Cancelled) return false;
    throw err;
  }
}

/** The kubelet's container back-off (kuberuntime doBackOff: first restart at once, then 10s, 20s...). */
async function crashBackoff(host: PodHost, cs: ContainerState): Promise<void> {
  const cfg = host.env.cfg;
  const t = Date.now();
  const b = cs.backoff;
  if (b && t - b.lastUpdate < b.backoff) {
    const secs = Math.round(b.backoff / 1000);
    cs.waiting = {
      reason: 'CrashLoopBackOff',
      message: `back-off ${secs < 60 ? `${secs}s` : `${Math.floor(secs / 60)}m${secs % 60 ? `${secs % 60}s` : ''}`} restarting failed container=${cs.name} pod=${host.fullName}`,
    };
    host.event('Warning', 'BackOff', `Back-off restarting failed container ${cs.name} in pod ${host.fullName}`);
    host.writeStatus();
    await host.sleep(b.lastUpdate + b.backoff - t);
  }
  cs.backoff = nextBackoff(cs.backoff, t, cfg.backoffInitialMs, cfg.backoffMaxMs);
  cs.waiting = undefined;
}

/** Create and start one instance; undefined after a pull or config failure (its back-off already waited). */
async function startContainer(host: PodHost, cs: ContainerState): Promise<ContainerInstance | undefined> {
  const image = await host.puller.pull(cs);
  if (host.stopping) throw new Cancelled();
  if (!image) return undefined;
  cs.image = image;
  const spec = cs.spec;
  const ips = { podIP: host.sandbox.net?.ip ?? '', hostIP: host.env.net.hostIP };
  const { hostname } = podHostname(host.pod);
  let envMap: Map<string, string>;
  try {
    envMap = buildEnv(host.env.store, host.pod, spec, image.config.env ?? [], ips, hostname);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    cs.waiting = { reason: 'CreateContainerConfigError', message: err.message };
    host.event('Warning', 'Failed', `Error: ${err.message}`);
    host.writeStatus();
    await host.sleep(Math.min(host.env.cfg.backoffInitialMs, 2000));
    return undefined;
  }
  if (spec.tty) envMap.set('TERM', envMap.get('TERM') ?? 'xterm');
  const env = Object.fromEntries(envMap);
  const argv = containerArgv(spec, image, envMap);
  if (!argv.length) {
    cs.waiting = { reason: 'CreateContainerError', message: 'failed to generate container spec: no command specified' };
    host.event('Warning', 'Failed', `Error: ${cs.waiting.message}`);
    host.writeStatus();
    await host.sleep(Math.min(host.env.cfg.backoffInitialMs, 2000));
    return undefined;
  }
  const user = containerUser(host.spec, spec, image, host.fullName);
  if (user.error) {
    cs.waiting = { reason: 'CreateContainerConfigError', message: user.error };
    host.event('Warning', 'Failed', `Error: ${user.error}`);
    host.writeStatus();
    await host.sleep(Math.min(host.env.cfg.backoffInitialMs, 2000));
    return undefined;
  }
  const n = cs.created;
  const cdir = join(host.dir, 'containers', `${cs.name}-${n}`);
  const view = await makeView(host, cs, image, cdir, user);
  const inst = new ContainerInstance(
    cs.name,
    join(host.dir, 'logs', cs.name, `${n}.log`),
    view,
    env,
    !!spec.tty,
    !!spec.stdin,
    !!spec.stdinOnce,
    host.env.cfg.logHighWaterMark,
  );
  await inst.log.open();
  cs.instances.push(inst);
  cs.created++;
  pruneInstances(cs);
  const resolved = await resolveProgram(view, argv[0]!, env.PATH);
  host.event('Normal', 'Created', `Created container: ${cs.name}`);
  if (!resolved.ok) {
    const message = `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: ${resolved.message}: unknown`;
    await inst.failStart(message);
    host.event('Warning', 'Failed', `Error: ${message}`);
    cs.waiting = undefined;
    return inst;
  }
  const infoFd = spec.tty ? 4 : 3;
  const shared =
    !!host.spec.shareProcessNamespace && host.sandbox.pausePid
      ? openSync(`/proc/${host.sandbox.pausePid}/ns/pid`, 'r')
      : undefined;
  const built = containerCommand(host.sandbox.namespaces(), view, argv, {
    infoFd,
    sharedPidFd: shared !== undefined ? infoFd + 1 : undefined,
    hostname,
    tty: spec.tty ? { python: host.env.cfg.python, helper: PTY_HELPER_SOURCE, stdin: !!spec.stdin } : undefined,
  });
  const memLimit = quantityNumber(spec.resources?.limits?.memory);
  if (Number.isFinite(memLimit) && memLimit > 0) inst.cgroup = await host.env.cgroups.create(inst.id, memLimit);
  const command = joinCgroup(inst.cgroup, built.file, built.args);
  if (host.stopping) {
    if (shared !== undefined) closeSync(shared);
    await inst.failStart('the pod is being stopped');
    throw new Cancelled();
  }
  const proc = new SandboxProcess({
    command,
    env,
    tty: !!spec.tty,
    stdin: !!spec.stdin,
    infoFd,
    passFds: shared !== undefined ? [shared] : [],
  });
  inst.adopt(proc);
  const pid = await proc.ready;
  if (host.stopping) {
    // The pod was killed while this container was starting.
    proc.kill('SIGKILL');
    await inst.finished;
    throw new Cancelled();
  }
  cs.waiting = undefined;
  if (!pid) {
    // The sandbox never started the process (its exit carries why: a StartError). No Started event
    // and no running state in between: a client that saw Running would attach to nothing.
    await inst.finished;
    host.event('Warning', 'Failed', `Error: ${inst.exit?.setupError ?? 'the container did not start'}`);
    return inst;
  }
  inst.started = true;
  cs.started = !spec.startupProbe;
  cs.ready = false;
  host.event('Normal', 'Started', `Started container ${cs.name}`);
  startProbers(host, cs, inst);
  if (!spec.readinessProbe && cs.started) cs.ready = true;
  host.writeStatus();
  if (spec.lifecycle?.postStart?.exec?.command) void runHook(host, cs, spec.lifecycle.postStart, 'PostStart');
  return inst;
}

/** Keep the current and the previous instance (logs for `previous`); drop older ones. */
function pruneInstances(cs: ContainerState): void {
  while (cs.instances.length > 2) {
    const old = cs.instances.shift()!;
    void old.log.remove();
    const dir = old.view.rootDir
      ? join(old.view.rootDir, '..')
      : old.view.tmpDir
        ? join(old.view.tmpDir, '..')
        : undefined;
    if (dir) void fsp.rm(dir, { recursive: true, force: true });
  }
}
