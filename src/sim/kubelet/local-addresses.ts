/**
 * @module sim/kubelet/local-addresses
 * Addresses of this simulator's own on the pod network: claimed from the pod IP pool (netns.ts
 * IPAM, so parallel simulators on the shared bridge never get the same one, and a crashed
 * simulator's claims are reaped) and added to the bridge as /32 host addresses, so pods reach a
 * server on this machine at an address no other simulator uses. Two are made at start:
 * - the cluster DNS's (cluster-dns.ts; the ClusterIP of `kube-system/kube-dns`);
 * - the node-local DNS address offered to a client running on the node (kuber-api's embedded
 *   DNS binds it: port 53 on the shared gateway or the node address can be held by one process
 *   only, and several simulators with their kuber-apis may run at once). It is announced on the
 *   Node as the annotation {@link NODE_LOCAL_DNS_ANNOTATION}.
 * /32 addresses on the bridge that no claim file backs any more (a crashed simulator's) are
 * removed at start.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BRIDGE, type NetworkManager, type PodNetwork } from './netns.js';

export const NODE_LOCAL_DNS_ANNOTATION = 'kube-sim.io/node-local-dns';
const IPAM_DIR = '/run/kubesim/ipam';

function ipCmd(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    p.stderr!.resume();
    p.on('error', () => resolve({ code: -1, out }));
    p.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

export class LocalAddresses {
  private readonly mine: PodNetwork[] = [];

  constructor(private readonly net: NetworkManager) {}

  /** Remove /32 addresses of the bridge whose claims are gone (crashed simulators). */
  async reapStale(): Promise<void> {
    const r = await ipCmd(['-4', '-o', 'addr', 'show', 'dev', BRIDGE]);
    for (const m of r.out.matchAll(/inet (10\.244\.\d+\.\d+)\/32/g)) {
      if (!existsSync(`${IPAM_DIR}/${m[1]}`)) await ipCmd(['addr', 'del', `${m[1]}/32`, 'dev', BRIDGE]);
    }
  }

  /** A fresh address of this simulator's, on the bridge; undefined without a pod network. */
  async claim(): Promise<string | undefined> {
    if (this.net.mode !== 'netns') return undefined;
    const pn = await this.net.setup(false);
    const r = await ipCmd(['addr', 'add', `${pn.ip}/32`, 'dev', BRIDGE]);
    if (r.code !== 0) {
      await this.net.teardown(pn);
      return undefined;
    }
    this.mine.push(pn);
    return pn.ip;
  }

  /** Remove the addresses (their claims go with the network manager's stop). */
  async release(): Promise<void> {
    for (const pn of this.mine.splice(0)) {
      await ipCmd(['addr', 'del', `${pn.ip}/32`, 'dev', BRIDGE]);
      await this.net.teardown(pn);
    }
  }
}
