/**
 * @module engine/containers/start
 * `docker start` and the runs the restart policy makes (engine/containers/monitor.ts calls `launchRun`).
 *
 * Each run is a new Pod (`<dns-name>-<id12>[-<run>]`, engine/model/translate.ts), owned by the record:
 * the run number is bumped in the record first, the previous run's Pod deleted, the new one
 * created and (for `start`) watched until its container runs or fails. A failure, or a Pod still
 * pending after `startTimeoutMs` (the reason then comes from the kubelet's Warning events), is
 * recorded as the start error and the container stays "created" (or "exited"), as in moby.
 */
import { detached, requestSignal } from '../../cancel-scope.js';
import { notFound, notModified, systemError } from '../../errors.js';
import { isAlreadyExists, KubeApiError } from '../../kube/client.js';
import type { PodObject } from '../core/container-index.js';
import { podName } from '../model/ids.js';
import { ANN_ID, ANN_RUN } from '../model/record.js';
import { mainStatus, podFailure, runSummary, START_FAILED, startFailureExitCode } from '../model/state.js';
import { buildPod } from '../model/translate.js';
import { applyPodStorage } from '../volumes/volume-pod.js';
import { podIntent } from '../images/config.js';
import { kubeError } from '../../kube/errors.js';
import type { ContainerHost } from './host.js';

export class ContainerStarter {
  constructor(private readonly e: ContainerHost) {}

  async startContainer(nameOrId: string): Promise<void> {
    const rec = this.e.index.resolve(nameOrId);
    // The start's client went away or its deadline passed (src/cancel-scope.ts): the run it made
    // goes on (the Pod starts, the monitor follows it), so it is neither rolled back nor removed.
    const signal = requestSignal();
    const cancelled = () => !!signal?.aborted;
    let launching = false;
    await this.e
      .withLock(rec.id, async () => {
        const cur = this.e.index.get(rec.id);
        if (!cur) throw notFound(`No such container: ${nameOrId}`);
        const st = this.e.stateOf(cur);
        if (st.Running && !st.Restarting) throw notModified();
        this.e.monitor.cancelRestart(cur.id);
        const published = await this.e.ports.beforeStart(cur.id);
        try {
          launching = true;
          await this.launchRun(cur.id, 'start');
        } catch (err) {
          // moby daemon/start.go: a container with AutoRemove that fails to start is removed (the CLI's `run --rm` waits for that).
          if (cur.config.HostConfig?.AutoRemove && !cancelled())
            await detached(() => this.e.removeLocked(cur.id, true, true)).catch((e: Error) =>
              this.e.log.warn({ err: e.message, id: cur.id }, 'could not remove a container that failed to start'),
            );
          throw err;
        } finally {
          published();
        }
      })
      .catch(async (err: unknown) => {
        // A failed start of an AutoRemove container removes it, as dockerd's containerStart does
        // (moby daemon/start.go), so that `docker run --rm`, waiting for the removal, ends.
        if (launching && rec.config.HostConfig?.AutoRemove && !cancelled())
          await detached(() => this.e.removeLocked(rec.id, true)).catch(() => {});
        throw err;
      });
  }

  /**
   * Make the next run: bump the run number in the record (a start resets the restart count and
   * the manual-stop mark), delete the previous run's Pod, create the new Pod, and (for `start`)
   * wait by watch until it runs or fails. A failure is recorded as the start error, and the
   * container stays "created" (or "exited" if it ran before), as in moby.
   */
  async launchRun(id: string, kind: 'start' | 'restart'): Promise<void> {
    const before = this.e.index.get(id)!;
    const prevPod = this.e.index.currentPod(before);
    const last = runSummary(prevPod) ?? before.state.last;
    const rec =
      kind === 'start'
        ? await this.e.updateState(id, (s) => ({ run: s.run + 1, restartCount: 0, ...(last ? { last } : {}) }))
        : this.e.index.get(id)!; // the monitor bumped the run when it decided to restart
    await this.e.volumes.settle(id); // the previous run's writable binds copied back before its Pod goes (engine/volumes)
    for (const p of this.e.index.podsOf(id))
      if (Number(p.metadata.annotations?.[ANN_RUN]) !== rec.state.run)
        void this.e.deletePod(p.metadata.name, 0).catch(() => {});
    const name = podName(rec.name, rec.id, rec.state.run);
    await this.e.inspector.release(rec.id); // it would hold the container's volumes
    await this.e.security.refresh();
    const storage = await this.e.podStorage(rec).catch(async (err: Error) => {
      await this.recordStartError(id, err.message); // a bind source gone or too large (engine/volumes)
      throw err;
    });
    // The Pod carries the merged config and pulls the digest-pinned image (engine/images/config.ts
    // podIntent); user names, the container's or the image's own USER, become numbers first (a Pod
    // takes numeric ids): engine/users.
    let config: ReturnType<typeof podIntent>;
    try {
      config = await this.e.users.numericIntent({
        intent: podIntent(rec.config, rec.image),
        ...(rec.image?.defaults?.User ? { imageUser: rec.image.defaults.User } : {}),
        ...(rec.image?.id ? { imageId: rec.image.id } : {}),
      });
    } catch (err) {
      await this.recordStartError(id, (err as Error).message);
      throw err;
    }
    const pod = buildPod(this.e.podContext(rec), {
      id: rec.id,
      name: rec.name,
      config,
      run: rec.state.run,
      podName: name,
      storage,
    });
    applyPodStorage(pod, storage); // volumes: the co-scheduling labels and affinity of ReadWriteOnce claims
    try {
      await this.e.networks.decoratePod(rec, pod);
      this.e.security.checkPod(pod);
    } catch (err) {
      await this.recordStartError(id, (err as Error).message);
      throw err;
    }
    let created: PodObject;
    try {
      created = await this.e.kube.client.create<PodObject>(this.e.kube.path('pods'), pod);
    } catch (err) {
      if (isAlreadyExists(err)) {
        created = await this.e.kube.client.get<PodObject>(this.e.kube.path('pods', name));
        if (created.metadata.annotations?.[ANN_ID] !== rec.id)
          throw systemError(`a pod named ${name} already exists and is not this container's`);
      } else {
        const msg = `Kubernetes refused the pod: ${err instanceof KubeApiError ? err.message : (err as Error).message}`;
        await this.recordStartError(id, msg);
        throw kubeError(err, 'creating the pod', msg);
      }
    }
    this.e.index.pods.observe(created);
    if (kind === 'restart') return;
    const outcome = await this.runOutcome(name, created, requestSignal());
    if ('fail' in outcome) {
      await detached(() => this.e.deletePod(name, 0)).catch(() => {});
      await this.recordStartError(id, outcome.fail);
      throw systemError(
        `failed to start container "${rec.id.slice(0, 12)}" (pod ${this.e.namespace}/${name}): ${outcome.fail}`,
      );
    }
  }

  /**
   * Wait by watch until the run's container runs, or why it cannot (its start failure, the pod's
   * end, or the timeout). A `signal` that aborts (the start's client went away, or its deadline
   * passed) ends the wait at once with its reason: the run is not a failure, it goes on unwatched.
   */
  private runOutcome(
    name: string,
    created: PodObject,
    signal: AbortSignal | undefined,
  ): Promise<{ ok: true } | { fail: string }> {
    return this.e.index
      .when<{ ok: true } | { fail: string }>(
        () => {
          const p = this.e.index.pods.get(name);
          if (!p || p.metadata.uid !== created.metadata.uid)
            return { fail: 'the pod was deleted before the container started' };
          const s = mainStatus(p)?.state;
          if (s?.running) return { ok: true as const };
          if (s?.terminated)
            return START_FAILED.has(s.terminated.reason ?? '')
              ? { fail: s.terminated.message || s.terminated.reason || 'the container could not start' }
              : { ok: true as const };
          const f = podFailure(p);
          if (f) return { fail: `${f.reason}: ${f.message}` };
          if (p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded')
            return {
              fail: `the pod ended before the container started: ${p.status.reason ?? p.status.phase} ${p.status.message ?? ''}`.trim(),
            };
          return undefined;
        },
        { timeoutMs: this.e.opts.startTimeoutMs, ...(signal ? { signal } : {}) },
      )
      .catch(async (err: Error) => {
        if (signal?.aborted) throw err;
        // Pending past the timeout: the kubelet says why in Warning events (FailedCreatePodSandBox,
        // FailedMount, FailedScheduling...), not in the pod status.
        const why = await this.lastWarning(name, created.metadata.uid);
        return { fail: `the pod did not start within ${this.e.opts.startTimeoutMs} ms (${why ?? err.message})` };
      });
  }

  /** The newest Warning event of this pod ("Reason: message"), if Kubernetes recorded one. */
  private async lastWarning(pod: string, uid: string | undefined): Promise<string | undefined> {
    try {
      const list = await this.e.kube.client.get<{
        items?: Array<{
          type?: string;
          reason?: string;
          message?: string;
          lastTimestamp?: string;
          eventTime?: string;
          involvedObject?: { name?: string; uid?: string };
        }>;
      }>(`/api/v1/namespaces/${this.e.namespace}/events`, { fieldSelector: `involvedObject.name=${pod}` });
      const mine = (list.items ?? []).filter(
        (e) =>
          e.type === 'Warning' &&
          e.involvedObject?.name === pod &&
          (!uid || !e.involvedObject.uid || e.involvedObject.uid === uid),
      );
      const at = (e: (typeof mine)[number]) => e.lastTimestamp ?? e.eventTime ?? '';
      const last = mine.sort((a, b) => at(a).localeCompare(at(b))).at(-1);
      return last ? `${last.reason}: ${last.message}` : undefined;
    } catch {
      return undefined;
    }
  }

  async recordStartError(id: string, message: string): Promise<void> {
    // What happened is recorded even when the start's client already left (src/cancel-scope.ts).
    await detached(() =>
      this.e.updateState(id, (s) => ({
        ...s,
        restarting: false,
        startError: { message, exitCode: startFailureExitCode(message), at: new Date().toISOString() },
      })),
    ).catch((err) => this.e.log.warn({ err, id }, 'could not record the start error'));
  }
}
