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

export interface NetworkPolicyOptions {
  /** Coalesce changes this long before recompiling (default 20 ms). */
  debounceMs?: number;
}

export class NetworkPolicyController {
  private readonly log = childLogger({ component: 'kube-sim-netpol' });
  private readonly applier = new Applier(tableName(selfOwner()));
  private readonly unsubs: Array<() => void> = [];
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
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
      if (swept.length) this.log.info({ tables: swept }, 'removed the NetworkPolicy tables of simulators that are gone');
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
    if (!this.disabled) await this.applier.remove();
  }

  /** Resolves once every change seen so far is applied (tests, and stop()). */
  async settled(): Promise<void> {
    while (this.timer || this.running) await (this.running ?? new Promise((r) => setTimeout(r, this.opts.debounceMs ?? 20)));
  }

  private script(): string {
    const rules = compile(this.store.list(POLICIES, undefined), this.store.list(PODS, undefined), this.store.list(NAMESPACES, undefined));
    return renderScript(this.table, rules);
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
    try {
      if (await this.applier.apply(this.script())) this.log.debug({ table: this.table }, 'NetworkPolicy rules applied');
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'NetworkPolicy rules could not be applied');
    }
  }
}

/** Why enforcement cannot run here, or undefined when it can. */
async function prerequisites(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'not running as root';
  const version = await new Promise<string | undefined>((r) => execFile('nft', ['--version'], (err) => r(err ? String(err.message) : undefined)));
  if (version) return `nft is unavailable (${version.trim()}); install Debian's nftables`;
  let value = readSysctl();
  if (value === undefined) {
    await new Promise((r) => execFile('modprobe', ['br_netfilter'], () => r(undefined)));
    value = readSysctl();
    if (value === undefined) return `br_netfilter is not loaded (${BR_NF} is missing): bridged pod traffic does not reach nftables`;
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
