/**
 * @module engine/ryuk/record
 * What an emulated Ryuk keeps in its container record (the ConfigMap, engine/model/record.ts),
 * so that it survives a kuber-api restart: the `kuber-api.io/ryuk` annotation (run state, the
 * filters received, whether a client ever connected) and its log (`data["ryuk.log"]`, the stamped
 * lines of engine/ryuk/ryuk-log.ts). A Ryuk has no Pod: its Docker state comes from here.
 * Writes are merge patches of these two keys only (nothing else writes them), coalesced: at most
 * one in flight and one queued, each caller resolved by a write that began after its call.
 */
import { detached } from '../../cancel-scope.js';
import type { KObject } from '../../kube/cache.js';
import type { ContainerRecord, DockerState } from '../model/types.js';
import { ZERO_TIME } from '../model/types.js';
import { createdState } from '../model/state.js';
import type { RyukHost } from './host.js';

export const ANN_RYUK = 'kuber-api.io/ryuk';
export const DATA_LOG = 'ryuk.log';

export interface RyukStatus {
  status: 'running' | 'exited';
  startedAt: string;
  finishedAt?: string;
  exitCode?: number;
  /** filters.Args JSON of every filter received (engine/ryuk/go.ts filtersKey). */
  filters: string[];
  connectedOnce: boolean;
}

const cache = new WeakMap<KObject, RyukStatus | null>();

/** The persisted status of a Ryuk record (undefined: never started). */
export function savedStatus(obj: KObject | undefined): RyukStatus | undefined {
  if (!obj) return undefined;
  let s = cache.get(obj);
  if (s === undefined) {
    try {
      const raw = obj.metadata.annotations?.[ANN_RYUK];
      s = raw ? (JSON.parse(raw) as RyukStatus) : null;
    } catch {
      s = null;
    }
    cache.set(obj, s);
  }
  return s ?? undefined;
}

/** The persisted log lines (stamped, newline-terminated). */
export function savedLog(obj: KObject | undefined): string[] {
  const text = (obj as { data?: Record<string, string> } | undefined)?.data?.[DATA_LOG] ?? '';
  return text.split(/(?<=\n)/).filter((l) => l.length > 0);
}

/** Docker's State of a Ryuk container, from its status. */
export function ryukState(s: RyukStatus | undefined): DockerState {
  const base = createdState();

  if (!s) return base;
  if (s.status === 'running') return { ...base, Status: 'running', Running: true, StartedAt: s.startedAt };
  return {
    ...base,
    Status: 'exited',
    ExitCode: s.exitCode ?? 0,
    StartedAt: s.startedAt,
    FinishedAt: s.finishedAt ?? ZERO_TIME,
  };
}

/** Coalesced writes of one Ryuk's status and log into its record. */
export class RecordWriter {
  private inflight: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(
    private readonly host: Pick<RyukHost, 'kube' | 'index'>,
    private readonly rec: ContainerRecord,
    private readonly snapshot: () => { status: RyukStatus | undefined; log: readonly string[] },
  ) {}

  /** Resolves once a write that began after this call is done. */
  write(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.inflight) {
      this.inflight = detached(() => this.once()).finally(() => (this.inflight = undefined));
      return this.inflight;
    }
    this.queued = this.inflight
      .catch(() => {})
      .then(() => {
        this.queued = undefined;
        return this.write();
      });
    return this.queued;
  }

  private async once(): Promise<void> {
    const { status, log } = this.snapshot();
    const patch = {
      metadata: { annotations: { [ANN_RYUK]: status ? JSON.stringify(status) : null } },
      data: { [DATA_LOG]: log.join('') },
    };
    const obj = await this.host.kube.client.mergePatch<KObject>(
      this.host.kube.path('configmaps', this.rec.object.name),
      patch,
    );
    this.host.index.records.observe(obj);
  }
}
