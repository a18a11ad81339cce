/**
 * @module sim/network-policy
 * kube-sim's NetworkPolicy enforcement, the part of a CNI plugin that real clusters get from
 * Calico, Cilium or kube-router: a store subscriber that recompiles this simulator's rules
 * (compile.ts) whenever a NetworkPolicy, a Pod (labels, IP, phase, ports) or a Namespace (labels)
 * changes, and applies them to its own nftables table (render.ts, nft.ts). Changes are coalesced
 * (`debounceMs`) and applied one at a time, so rules follow a change within a few tens of
 * milliseconds.
 *
 * Needs root, `nft`, and br_netfilter with `net.bridge.bridge-nf-call-iptables=1` (set here, as
 * kubelet's kubenet and kube-proxy require it, when the module is loaded and it is 0). Without
 * them the simulator logs why and serves without enforcement.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { childLogger } from '../../log.js';
import { selfOwner } from '../kubelet/claim-owner.js';
import { defOf } from '../store/resources.js';
import type { Store } from '../store/store.js';
import { compile } from './compile.js';
import { Applier, sweepDeadTables, tableName } from './nft.js';
import { renderScript } from './render.js';

const POLICIES = defOf({ group: 'networking.k8s.io', resource: 'networkpolicies' });
const PODS = defOf({ group: '', resource: 'pods' });
const NAMESPACES = defOf({ group: '', resource: 'namespaces' });
const BR_NF = '/proc/sys/net/bridge/bridge-nf-call-iptables';
/** Controllers made in this process (each simulator's table gets its own number). */
let instances = 0;

export interface NetworkPolicyOptions {
  /** Coalesce changes this long before recompiling (default 20 ms). */
  debounceMs?: number;
  /** How long a new pod's sandbox waits for its rules before its containers start anyway (default 2000 ms). */
  podAddedWaitMs?: number;
}

export class NetworkPolicyController {
  private readonly log = childLogger({ component: 'kube-sim-netpol' });
  private readonly applier = new Applier(tableName(selfOwner(), instances++));
  private readonly unsubs: Array<() => void> = [];
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  /** Pods whose network is attached but whose status does not show the IP yet (uid -> IP). */
  private readonly attached = new Map<string, string>();
  /** Resolved by the next sync that starts (it compiles what they added). */
  private waiters: Array<() => void> = [];
  /** Why rules are not enforced (undefined while they are). */
  disabled?: string;

  constructor(
    private readonly store: Store,
    private readonly opts: NetworkPolicyOptions = {},
  ) {}

  get table(): string {
    return this.applier.table;
  }

  async start(): Promise<void> {
    this.disabled = await prerequisites();
    if (!this.disabled) {
      const swept = await sweepDeadTables();
      if (swept.length)
        this.log.info({ tables: swept }, 'removed the NetworkPolicy tables of simulators that are gone');
      try {
        await this.applier.apply(this.script());
      } catch (err) {
        this.disabled = (err as Error).message;
      }
    }
    if (this.disabled) {
      this.log.warn({ reason: this.disabled }, `NetworkPolicy is NOT enforced: ${this.disabled}`);
      return;
    }
    this.log.info({ table: this.table }, 'NetworkPolicy enforced with nftables');
    for (const def of [POLICIES, PODS, NAMESPACES]) this.unsubs.push(this.store.subscribe(def, () => this.schedule()));
    this.schedule();
  }

  async stop(): Promise<void> {
    for (const u of this.unsubs.splice(0)) u();
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    for (const w of this.waiters.splice(0)) w();
    if (!this.disabled) await this.applier.remove();
  }

  /**
   * The kubelet attached a pod's network (the CNI ADD moment, before its containers start): compile
   * the rules with its IP and resolve once they are applied, so the pod is isolated — and admitted
   * as a peer — from its first packet. Bounded: the pod starts anyway after `podAddedWaitMs`.
   */
  async podNetworkAdded(pod: { metadata: { uid?: string } }, ip: string): Promise<void> {
    if (this.disabled || !this.unsubs.length || !pod.metadata.uid) return;
    // No policy: nothing can isolate the pod or depend on its IP; pods start without waiting.
    if (!this.store.count(POLICIES)) return;
    this.attached.set(pod.metadata.uid, ip);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((r) => {
        this.waiters.push(r);
        this.schedule();
      }),
      new Promise<void>((r) => (timer = setTimeout(r, this.opts.podAddedWaitMs ?? 2000))),
    ]);
    clearTimeout(timer);
  }

  /** Resolves once every change seen so far is applied (tests, and stop()). */
  async settled(): Promise<void> {
    while (this.timer || this.running)
      await (this.running ?? new Promise((r) => setTimeout(r, this.opts.debounceMs ?? 20)));
  }

  private script(): string {
    const rules = compile(this.store.list(POLICIES, undefined), this.pods(), this.store.list(NAMESPACES, undefined));
    return renderScript(this.table, rules);
  }

  /** The stored pods, with the IPs of attached pods whose status does not show them yet. */
  private pods(): Array<Record<string, any>> {
    const pods: Array<Record<string, any>> = this.store.list(PODS, undefined);
    const seen = new Set<string>();
    const out = pods.map((p) => {
      const ip = this.attached.get(p.metadata.uid);
      if (ip === undefined) return p;
      seen.add(p.metadata.uid);
      if (p.status?.podIP === ip) {
        this.attached.delete(p.metadata.uid);
        return p;
      }
      // Not written yet, or an older sandbox's IP (a sandbox made again gets a new one).
      return { ...p, status: { ...p.status, podIP: ip } };
    });
    for (const uid of [...this.attached.keys()]) if (!seen.has(uid)) this.attached.delete(uid);
    return out;
  }

  private schedule(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer || !this.unsubs.length) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.sync().finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.schedule();
        }
      });
    }, this.opts.debounceMs ?? 20);
  }

  private async sync(): Promise<void> {
    const waiters = this.waiters.splice(0);
    try {
      if (await this.applier.apply(this.script())) this.log.debug({ table: this.table }, 'NetworkPolicy rules applied');
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'NetworkPolicy rules could not be applied');
    }
    for (const w of waiters) w();
  }
}

/** Why enforcement cannot run here, or undefined when it can. */
async function prerequisites(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'not running as root';
  const version = await new Promise<string | undefined>((r) =>
    execFile('nft', ['--version'], (err) => r(err ? String(err.message) : undefined)),
  );
  if (version) return `nft is unavailable (${version.trim()}); install Debian's nftables`;
  let value = readSysctl();
  if (value === undefined) {
    await new Promise((r) => execFile('modprobe', ['br_netfilter'], () => r(undefined)));
    value = readSysctl();
    if (value === undefined)
      return `br_netfilter is not loaded (${BR_NF} is missing): bridged pod traffic does not reach nftables`;
  }
  if (value !== '1') {
    try {
      writeFileSync(BR_NF, '1');
    } catch (err) {
      return `cannot set ${BR_NF} to 1: ${(err as Error).message}`;
    }
  }
  return undefined;
}

function readSysctl(): string | undefined {
  try {
    return readFileSync(BR_NF, 'utf8').trim();
  } catch {
    return undefined;
  }
}
