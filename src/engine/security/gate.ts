/**
 * @module engine/security/gate
 * The Pod policy check before every Pod kuber-api creates (engine/security/rules.ts has the rules).
 * The namespace's Pod Security labels are read with a GET, kept for `levelCacheMs`; a namespace
 * kuber-api may not read (a least-privilege Role has no `get namespaces`) counts as unlabelled:
 * `--pod-security-default` applies, so the check never gets weaker for lack of a right. With
 * `namespaceLabels` (the operator's word), the labels are read from there instead.
 */
import { detached } from '../../cancel-scope.js';
import { realpathSync } from 'node:fs';
import type { Logger } from '../../log.js';
import type { KubeClient } from '../../kube/client.js';
import { LABELS, type Level, type LevelVersion } from '../../kube/pod-security/index.js';
import { buildPod } from '../model/translate.js';
import type { CreateBody } from '../model/types.js';
import {
  bindError,
  bindSources,
  effectiveLevel,
  podSecurityError,
  type LevelSource,
  type SecurityOptions,
} from './rules.js';

export interface GateOptions extends SecurityOptions {
  /** How long the namespace's labels are trusted before the next Pod re-reads them (ms). */
  levelCacheMs: number;
  /**
   * Where the namespace's Pod Security labels come from instead of a GET: in sidecar mode with the
   * operator, the brokered token cannot read Namespaces, and the operator tells them with each
   * credential (src/kube/brokered.ts), so a relabel is followed at the next token refresh.
   */
  namespaceLabels?: () => Record<string, string>;
}

const realOrSame = (p: string) => {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
};

export class PodSecurityGate {
  private source: LevelSource;
  private readAt = -Infinity;
  private reading?: Promise<void>;
  private warned = false;

  constructor(
    private readonly client: Pick<KubeClient, 'get'>,
    private readonly namespace: string,
    readonly opts: GateOptions,
    private readonly log?: Logger,
  ) {
    this.source = { namespace };
  }

  /** The level Pods are built for and checked against now. */
  level(): LevelVersion {
    return effectiveLevel(this.source, this.opts);
  }
  get levelName(): Level {
    return this.level().level;
  }

  /** Re-read the namespace's labels when the cached ones are older than levelCacheMs. */
  async refresh(now = Date.now()): Promise<void> {
    if (now - this.readAt < this.opts.levelCacheMs) return;
    this.reading ??= detached(() => this.read(now)).finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async read(now: number): Promise<void> {
    try {
      const labels = this.opts.namespaceLabels
        ? this.opts.namespaceLabels()
        : ((
            await this.client.get<{ metadata?: { labels?: Record<string, string> } }>(
              `/api/v1/namespaces/${this.namespace}`,
            )
          ).metadata?.labels ?? {});
      this.source = {
        namespace: this.namespace,
        ...(labels[LABELS.enforce] ? { label: labels[LABELS.enforce] } : {}),
        ...(labels[LABELS.enforceVersion] ? { labelVersion: labels[LABELS.enforceVersion] } : {}),
      };
    } catch (err) {
      if (!this.warned)
        this.log?.info(
          { namespace: this.namespace, err: (err as Error).message },
          `cannot read the namespace's Pod Security labels: pods are checked at --pod-security-default (${this.opts.defaultLevel})`,
        );
      this.warned = true;
      this.source = { namespace: this.namespace };
    }
    this.readAt = now;
  }

  /**
   * `docker create`: the bind sources, and the Pod the body would make, against the level: a 403
   * naming the rule at create, never a failed start (the Pod of each run is checked again).
   */
  checkCreate(body: CreateBody): void {
    const bind = bindError(bindSources(body.HostConfig ?? {}), this.opts, realOrSame);
    if (bind) throw bind;
    // A trial Pod, built only to be checked: `host-gateway` gets a stand-in address (RFC 5737
    // TEST-NET-1), so that an extra host is judged at start, where the real address is known.
    const trial = buildPod(
      {
        namespace: this.namespace,
        instance: 'trial',
        owner: { name: 'trial', uid: 'trial' },
        killGraceSeconds: 1,
        imagePullPolicy: 'IfNotPresent',
        automountServiceAccountToken: false,
        securityLevel: this.levelName,
        hostGatewayIp: '192.0.2.1',
      },
      { id: '0'.repeat(64), name: 'trial', config: body, run: 1, podName: 'trial' },
    );
    this.checkPod(trial, 'the container');
  }

  /** Any Pod, before it is created. */
  checkPod(pod: { metadata?: object; spec?: object }, what = 'the pod'): void {
    const err = podSecurityError(what, this.level(), this.source, this.opts, pod.metadata ?? {}, pod.spec ?? {});
    if (err) throw err;
  }
}
