/**
 * @module operator/reconcile
 * Level-triggered reconcile of one job Pod's child namespace, and its cleanup (client-go
 * controller style): read each object, create what is missing, patch what differs from the
 * desired hash, and write nothing when all is as wanted — so a second run issues no write.
 * Cleanup deletes the namespace (idempotent: a 404 or one already terminating is done); the
 * namespace's deletion takes everything inside with it.
 */
import type { Logger } from '../log.js';
import { isAlreadyExists, isNotFound, type KubeClient } from '../kube/client.js';
import type { KObject } from '../kube/cache.js';
import { desiredObjects, type DesiredObject, type DesiredOptions } from './desired.js';
import { ANN_DESIRED, ANN_PROFILE, childNamespaceName, LABELS, MANAGED_BY, type PodRef } from './naming.js';
import { profileFor } from './profiles.js';
import type { Metrics } from './metrics.js';

export interface ReconcileOptions extends DesiredOptions {
  /** Prefix of child namespace names. */
  prefix: string;
  /** The profile of job Pods that name none (or an unknown one). */
  defaultProfile: string;
}

type Client = Pick<KubeClient, 'get' | 'create' | 'mergePatch' | 'delete'>;

export const podRef = (p: KObject): PodRef => ({
  namespace: p.metadata.namespace!,
  name: p.metadata.name,
  uid: p.metadata.uid!,
});

export class Reconciler {
  constructor(
    private readonly client: Client,
    readonly opts: ReconcileOptions,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  childOf(pod: PodRef): string {
    return childNamespaceName(this.opts.prefix, pod);
  }

  /** Make the job's namespace and everything in it as desired; returns its name. */
  async ensure(pod: KObject): Promise<string> {
    const ref = podRef(pod);
    const child = this.childOf(ref);
    const asked = pod.metadata.annotations?.[ANN_PROFILE];
    const { name: profileName, profile } = profileFor(asked, this.opts.defaultProfile);
    if (asked && asked !== profileName)
      this.log.warn(
        { pod: `${ref.namespace}/${ref.name}`, asked, used: profileName },
        'unknown profile: the default applies',
      );
    const want = desiredObjects(child, ref, profileName, profile, this.opts);
    const started = performance.now();
    try {
      const ns = await this.apply(want.namespace);
      if (ns?.metadata.deletionTimestamp) throw new Error(`namespace ${child} is still terminating`);
      for (const o of want.inside) await this.apply(o);
      if (pod.metadata.labels?.[LABELS.jobNamespace] !== child) {
        this.metrics.writes++;
        await this.client.mergePatch(`/api/v1/namespaces/${ref.namespace}/pods/${ref.name}`, {
          metadata: { labels: { [LABELS.jobNamespace]: child } },
        });
      }
      return child;
    } catch (err) {
      this.metrics.reconcileErrors++;
      throw err;
    } finally {
      this.metrics.observeReconcile((performance.now() - started) / 1000);
    }
  }

  /** One object: create if missing, patch (or replace, if immutable) when its desired hash differs, else nothing. */
  private async apply(o: DesiredObject): Promise<KObject | undefined> {
    const path = `${o.collection}/${o.name}`;
    const have = await this.client.get<KObject>(path).catch((err) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    const hash = o.body['metadata'].annotations[ANN_DESIRED];
    if (have && have.metadata.annotations?.[ANN_DESIRED] === hash) return have;
    this.metrics.writes++;
    if (!have) {
      try {
        const made = await this.client.create<KObject>(o.collection, o.body);
        if (o.kind === 'Namespace') this.metrics.namespacesCreated++;
        this.log.info({ kind: o.kind, name: o.name, namespace: o.body['metadata'].namespace }, 'created');
        return made;
      } catch (err) {
        if (isAlreadyExists(err)) return this.client.get<KObject>(path); // a concurrent reconcile made it
        throw err;
      }
    }
    if (o.immutable) {
      await this.client.delete(path).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
      this.metrics.writes++;
      return this.client.create<KObject>(o.collection, o.body);
    }
    this.log.info({ kind: o.kind, name: o.name }, 'updated');
    return this.client.mergePatch<KObject>(path, o.body);
  }

  /** Delete a child namespace (finalizer-free, idempotent). */
  async remove(child: string, why: string): Promise<void> {
    const ns = await this.client.get<KObject>(`/api/v1/namespaces/${child}`).catch((err) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (!ns || ns.metadata.deletionTimestamp || ns.metadata.labels?.[LABELS.managedBy] !== MANAGED_BY) return;
    this.metrics.writes++;
    await this.client.delete(`/api/v1/namespaces/${child}`).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
    this.metrics.namespacesDeleted++;
    this.log.info({ namespace: child, why }, 'deleted the child namespace');
  }

  /** Managed namespaces whose job Pod (by namespace and uid: names may be cut in labels) is not live. */
  orphans(namespaces: KObject[], live: (namespace: string, uid: string) => boolean): string[] {
    return namespaces
      .filter((ns) => ns.metadata.labels?.[LABELS.managedBy] === MANAGED_BY && !ns.metadata.deletionTimestamp)
      .filter(
        (ns) => !live(ns.metadata.labels?.[LABELS.parentNamespace] ?? '', ns.metadata.labels?.[LABELS.parentUid] ?? ''),
      )
      .map((ns) => ns.metadata.name);
  }
}
