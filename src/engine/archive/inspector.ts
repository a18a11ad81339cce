/**
 * @module engine/archive/inspector
 * HEAD/GET of a container that has no running process. Docker reads a created container's
 * filesystem directly; on Kubernetes there is nothing to read until a Pod runs the image. So
 * kuber-api runs an inspector Pod (`kapi-<id12>-inspect`, owned by the record): the container's
 * image with its staged archives and volumes mounted exactly as a real run would have them, whose
 * main process is a `sleep` from a static busybox that an init container (the helper image) copies
 * in, so `stat` and `tar` work even in an image that has neither. The Pod serves the following
 * copies too (a copy staged meanwhile is extracted into it in place) and is deleted after
 * `inspectorIdleMs` without use, or when the container starts (it would hold its volumes).
 * A stopped container's filesystem went with its Pod: only paths inside its volumes can be read
 * (the volume outlives the run); other paths get an error saying so.
 */
import { detached } from '../../cancel-scope.js';
import { notImplemented, systemError } from '../../errors.js';
import { isAlreadyExists, isNotFound } from '../../kube/client.js';
import { watchPodUntil } from '../../kube/pod-watch.js';
import type { ArchiveHost } from './host.js';
import type { ArchiveInspector } from './archive.js';
import { archiveFromPod, statInPod, type CopyContext } from './pod.js';
import { ExecChannel, execFailure, scriptArgv, type ExecTarget } from './exec.js';
import { shortId } from '../model/ids.js';
import { LABEL_CONTAINER, LABEL_INSTANCE, LABEL_KIND, LABEL_MANAGED_BY } from '../model/record.js';
import { CONTAINER_NAME } from '../model/translate.js';
import type { ContainerRecord } from '../model/types.js';
import type { PodStorage } from '../model/translate.js';
import type { PodObject } from '../core/container-index.js';
import type { ContainerArchive, PathStat } from '../backend/archive.js';
import { helperSecurityContext, podSecurityContext } from '../model/security.js';
import { applyPodSettings } from '../model/pod-settings.js';
import { recordOwnerRef } from '../model/owner.js';
import type { Level } from '../../kube/pod-security/index.js';

const TOOLS_VOLUME = 'kapi-tools';
const TOOLS_DIR = '/.kapi-tools';
const APPLETS = ['sh', 'stat', 'tar', 'readlink', 'cat', 'sleep', 'printf', 'mkdir'];

export interface InspectorOptions {
  helperImage: string;
  imagePullPolicy: string;
  idleMs: number;
  startTimeoutMs: number;
}

interface Running {
  key: string;
  ready: Promise<ExecTarget>;
  timer?: NodeJS.Timeout;
  users: number;
}

/** The inspector Pod of a container (pure). */
export function inspectorPod(
  rec: ContainerRecord,
  ns: string,
  instance: string,
  storage: PodStorage,
  o: InspectorOptions,
  key: string,
  pullSecret?: string,
  level: Level = 'baseline',
): Record<string, unknown> {
  const uid = /^(\d+)/.exec(rec.config.User ?? '')?.[1];
  const helperUid = uid && Number(uid) > 0 ? Number(uid) : undefined;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: inspectorName(rec),
      namespace: ns,
      labels: {
        [LABEL_INSTANCE]: instance,
        [LABEL_KIND]: 'inspector',
        [LABEL_CONTAINER]: shortId(rec.id),
        [LABEL_MANAGED_BY]: 'kuber-api',
      },
      annotations: { 'kuber-api.io/inspector-key': key },
      ownerReferences: [recordOwnerRef(rec.object)],
    },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      activeDeadlineSeconds: 900, // a safety net (an inspector left by a kuber-api that went away): nothing should keep it that long
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: podSecurityContext(undefined),
      // The image may need `docker login` credentials, as the container's own Pods do.
      ...(pullSecret ? { imagePullSecrets: [{ name: pullSecret }] } : {}),
      initContainers: [
        {
          name: 'kapi-tools',
          image: o.helperImage,
          imagePullPolicy: o.imagePullPolicy,
          command: [
            'sh',
            '-c',
            `set -e; mkdir -p /kapi/tools/bin; cp /bin/busybox /kapi/tools/busybox; for a in ${APPLETS.join(' ')}; do ln -sf ${TOOLS_DIR}/busybox /kapi/tools/bin/$a; done`,
          ],
          volumeMounts: [{ name: TOOLS_VOLUME, mountPath: '/kapi/tools' }],
          terminationMessagePolicy: 'FallbackToLogsOnError',
          securityContext: helperSecurityContext(level, false, helperUid),
        },
        ...storage.initContainers,
      ],
      containers: [
        {
          name: CONTAINER_NAME,
          image: rec.image?.pullRef ?? rec.config.Image, // the digest-pinned reference the runs pull (engine/images/config.ts podIntent)
          imagePullPolicy: o.imagePullPolicy,
          command: [`${TOOLS_DIR}/busybox`, 'sleep', '900'],
          workingDir: '/',
          // docker cp reads as root whatever the container's user (file capabilities only); under
          // `restricted` as the container's own user (engine/model/security.ts).
          securityContext: helperSecurityContext(level, true, helperUid),
          volumeMounts: [{ name: TOOLS_VOLUME, mountPath: TOOLS_DIR, readOnly: true }, ...storage.mounts],
        },
      ],
      volumes: [{ name: TOOLS_VOLUME, emptyDir: {} }, ...storage.volumes],
    },
  };
}

export const inspectorName = (rec: ContainerRecord) => `${rec.object.name}-inspect`;

/** What the inspector Pod is made of: a different key means a new Pod. */
const inspectorKey = (rec: ContainerRecord, storage: PodStorage) =>
  JSON.stringify([rec.image?.pullRef ?? rec.config.Image, storage.volumes.map((v) => v['name']), storage.mounts]);

/** Extract stdin at $1 (created if missing), as the run's init container does for staged copies. */
const SYNC_SCRIPT = 'mkdir -p "$1" && cd "$1" && exec tar -x -f -';

export class Inspector implements ArchiveInspector {
  private readonly running = new Map<string, Running>();

  constructor(
    private readonly engine: ArchiveHost,
    private readonly opts: InspectorOptions,
  ) {}

  async stat(rec: ContainerRecord, c: CopyContext, signal?: AbortSignal): Promise<PathStat> {
    const { t, done } = await this.acquire(rec, c);
    try {
      return await statInPod(t, c, signal);
    } finally {
      done();
    }
  }

  async archive(rec: ContainerRecord, c: CopyContext, signal: AbortSignal): Promise<ContainerArchive> {
    const { t, done } = await this.acquire(rec, c);
    try {
      const a = await archiveFromPod(t, c, signal);
      return { stat: a.stat, abort: a.abort, pipe: (sink) => a.pipe(sink).finally(done) };
    } catch (err) {
      done();
      throw err;
    }
  }

  /**
   * A copy was staged while the container's inspector runs: extract the staged archive (read back
   * from its chunk objects) into the running inspector and take the new key, so that the next
   * `docker cp` (the CLI stats before each copy) does not replace the Pod. Anything going wrong
   * just retires the inspector: the next use starts a fresh one from the staged state.
   */
  async staged(rec: ContainerRecord, dir: string, chunks: string[]): Promise<void> {
    const r = this.running.get(rec.id);
    if (!r) return;
    try {
      const t = await r.ready;
      const key = inspectorKey(rec, await this.engine.podStorage(rec));
      const ch = await ExecChannel.open(t, scriptArgv(t, SYNC_SCRIPT, [dir]), { stdin: true });
      ch.stdout.resume();
      const fed = ch.feed(this.readChunks(chunks)).catch((err: unknown) => {
        ch.destroy();
        throw err;
      });
      const [o] = await Promise.all([ch.done, fed]);
      if (o.status.kind !== 'exit' || o.status.exitCode !== 0) throw new Error(execFailure(o));
      if (this.running.get(rec.id) === r) r.key = key;
    } catch (err) {
      this.engine.log.debug(
        { err: (err as Error).message, container: rec.id },
        'inspector not updated in place; it will be replaced',
      );
      await this.release(rec.id);
    }
  }

  private async *readChunks(names: string[]): AsyncGenerator<Buffer> {
    const e = this.engine;
    for (const n of names) {
      const cm = await e.kube.client.get<{ binaryData?: Record<string, string> }>(e.kube.path('configmaps', n));
      yield Buffer.from(cm.binaryData?.['data'] ?? '', 'base64');
    }
  }

  /** The container's inspector, started if needed; `done()` releases this use (the last one arms the idle timer). */
  private async acquire(rec: ContainerRecord, c: CopyContext): Promise<{ t: ExecTarget; done: () => void }> {
    const r = await this.entry(rec, c);
    r.users++;
    clearTimeout(r.timer);
    let released = false;
    const done = () => {
      if (released) return;
      released = true;
      r.users = Math.max(0, r.users - 1);
      if (r.users === 0 && this.running.get(rec.id) === r) {
        r.timer = setTimeout(() => void this.release(rec.id), this.opts.idleMs);
        r.timer.unref();
      }
    };
    try {
      return { t: await r.ready, done };
    } catch (err) {
      done();
      throw err;
    }
  }

  /** Stop the container's inspector (idle, staged archives changed, the container starts). */
  async release(id: string): Promise<void> {
    const r = this.running.get(id);
    if (!r) return;
    this.running.delete(id);
    clearTimeout(r.timer);
    const rec = this.engine.index.get(id);
    const name = rec ? inspectorName(rec) : `kapi-${id.slice(0, 12)}-inspect`;
    await this.engine.kube.client
      .delete(this.engine.kube.path('pods', name), { gracePeriodSeconds: 0 })
      .catch(() => {});
  }

  private async entry(rec: ContainerRecord, c: CopyContext): Promise<Running> {
    const state = this.engine.stateOf(rec);
    if (state.Status !== 'created') {
      // dockerd reads a stopped container's writable layer; Kubernetes offers no way to read a
      // terminated container's filesystem, so this is a 501 naming why.
      throw notImplemented(
        `Could not copy ${c.path} from container ${c.name}: the container is ${state.Status === 'exited' ? 'stopped' : state.Status}, and on Kubernetes a container's filesystem goes away with its Pod when it stops; copy files out while it runs, or write them to a volume`,
      );
    }
    const storage = await this.engine.podStorage(rec);
    const key = inspectorKey(rec, storage);
    let r = this.running.get(rec.id);
    if (r && r.key !== key) {
      await this.release(rec.id);
      r = undefined;
    }
    if (!r) {
      // Shared by every copy of this container meanwhile: not one client's to cancel (src/cancel-scope.ts).
      const created: Running = { key, users: 0, ready: detached(() => this.launch(rec, storage, key)) };
      this.running.set(rec.id, created);
      created.ready.catch(() => {
        if (this.running.get(rec.id) === created) this.running.delete(rec.id);
      });
      r = created;
    }
    return r;
  }

  private async launch(rec: ContainerRecord, storage: PodStorage, key: string): Promise<ExecTarget> {
    const e = this.engine;
    const name = inspectorName(rec);
    await e.security.refresh();
    const pod = inspectorPod(
      rec,
      e.namespace,
      e.opts.instance,
      storage,
      this.opts,
      key,
      e.pullSecretName(),
      e.security.levelName,
    );
    // Scheduled, pulled and accounted like the container's own Pods (nodeSelector, tolerations, pull secrets, quotas).
    if (e.opts.pod) applyPodSettings(pod as unknown as Parameters<typeof applyPodSettings>[0], e.opts.pod);
    e.security.checkPod(pod as { metadata: object; spec: object }, 'the inspector pod');
    try {
      await e.kube.client.create(e.kube.path('pods'), pod);
    } catch (err) {
      if (!isAlreadyExists(err))
        throw systemError(
          `cannot inspect container ${rec.name}: Kubernetes refused the inspector pod: ${(err as Error).message}`,
        );
      // Left over from an earlier kuber-api (or a different key): replace it.
      const old = await e.kube.client.get<PodObject>(e.kube.path('pods', name)).catch(() => undefined);
      if (old?.metadata.annotations?.['kuber-api.io/inspector-key'] !== key || old.metadata.deletionTimestamp) {
        await e.kube.client.delete(e.kube.path('pods', name), { gracePeriodSeconds: 0 }).catch(() => {});
        await this.waitGone(name);
        await e.kube.client.create(e.kube.path('pods'), pod);
      }
    }
    await this.waitRunning(rec, name);
    return {
      dialer: e.kube.dialer,
      namespace: e.namespace,
      pod: name,
      container: CONTAINER_NAME,
      shell: { argv: [`${TOOLS_DIR}/bin/sh`, '-c'], prefix: `PATH=${TOOLS_DIR}/bin:$PATH; ` },
      highWaterBytes: e.opts.archiveExecHighWaterBytes,
    };
  }

  private async waitGone(name: string): Promise<void> {
    const e = this.engine;
    for (let i = 0; i < 100; i++) {
      try {
        await e.kube.client.get(e.kube.path('pods', name));
      } catch (err) {
        if (isNotFound(err)) return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Wait by watch until the inspector's main container runs (or fails). */
  private async waitRunning(rec: ContainerRecord, name: string): Promise<void> {
    const e = this.engine;
    const verdict = (p: PodObject): true | string | undefined => {
      const st = p.status as
        | {
            phase?: string;
            containerStatuses?: Array<{
              name: string;
              state?: Record<string, { reason?: string; message?: string; exitCode?: number }>;
            }>;
            initContainerStatuses?: Array<{
              name: string;
              state?: Record<string, { reason?: string; message?: string; exitCode?: number }>;
            }>;
          }
        | undefined;
      const main = st?.containerStatuses?.find((c) => c.name === CONTAINER_NAME);
      if (main?.state?.['running']) return true;
      for (const cs of [...(st?.initContainerStatuses ?? []), ...(main ? [main] : [])]) {
        const w = cs.state?.['waiting'];
        if (
          w?.reason &&
          /ErrImagePull|ImagePullBackOff|InvalidImageName|CreateContainerError|CreateContainerConfigError|CrashLoopBackOff/.test(
            w.reason,
          )
        )
          return `${cs.name}: ${w.reason} ${w.message ?? ''}`.trim();
        const t = cs.state?.['terminated'];
        if (t && t.exitCode !== 0)
          return `${cs.name} exited with code ${t.exitCode}${t.message ? `: ${t.message.trim()}` : ''}`;
      }
      if (st?.phase === 'Failed' || st?.phase === 'Succeeded') return `the pod ended (${st.phase})`;
      return undefined;
    };
    const r = await watchPodUntil(e.kube.client, e.kube.namespace, name, verdict, this.opts.startTimeoutMs);
    if (r.kind === 'verdict' && r.verdict === true) return;
    const why =
      r.kind === 'verdict'
        ? r.verdict
        : r.kind === 'deleted'
          ? 'the pod was deleted'
          : `it did not run within ${this.opts.startTimeoutMs} ms`;
    await e.kube.client.delete(e.kube.path('pods', name), { gracePeriodSeconds: 0 }).catch(() => {});
    throw systemError(
      `cannot read files of created container ${rec.name}: kuber-api runs its image in an inspector pod for that, and the pod failed: ${why}`,
    );
  }
}
