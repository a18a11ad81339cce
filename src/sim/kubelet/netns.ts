/**
 * @module sim/kubelet/netns
 * Pod networks, as a CNI bridge plugin sets them up: one network namespace per pod, a veth pair
 * whose host end joins the bridge `kubesim0` (10.244.0.1/16), the pod end `eth0` with the pod IP,
 * loopback up, default route via the bridge. Every container and exec of the pod joins that
 * namespace (`nsenter --net`), so localhost between containers works as in a real pod and a
 * container listening on a port is reachable at podIP:port from this machine. The namespace belongs
 * to the pod's sandbox process (see sandbox.ts), not to a named /run/netns mount: when the sandbox
 * dies — even with the whole simulator — the namespace and the pod end of the veth go with it.
 *
 * Several simulators may run at once (parallel test files): they share the bridge, and allocate
 * IPs through one file per IP in /run/kubesim/ipam created with O_EXCL (atomic, no lock). Each file
 * names its owner: pid, the process's start time and its PID namespace. At start, a kubelet removes
 * the veth/file of every owner that is gone (a crashed run), and on stop it removes its own. An
 * owner is gone when its pid is, or when the pid now belongs to a process that started at another
 * time (PIDs are reused quickly where pid_max is 32768); an owner in another PID namespace (a
 * simulator in a container sharing /run) cannot be judged from here and is left alone. Veth names
 * derive from the IP, so they never collide either.
 *
 * Without root (or without `ip`), pods fall back to the host network with podIP 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { ownerGone, selfOwner, type ClaimOwner } from './claim-owner.js';

export const BRIDGE = 'kubesim0';
export const GATEWAY = '10.244.0.1';
const PREFIX = 16;
const IPAM_DIR = '/run/kubesim/ipam';

export interface PodNetwork {
  ip: string;
  /** Host end of the veth pair (the pod end is eth0 in the pod sandbox's netns). */
  veth?: string;
  /** /proc/<pause pid>/ns/net once attached. */
  netnsPath?: string;
  hostNetwork: boolean;
}

function ip(args: string[], input?: string, prefix: string[] = []): Promise<{ code: number; err: string }> {
  return new Promise((resolve) => {
    const [file, ...rest] = prefix.length ? [...prefix, 'ip', ...args] : ['ip', ...args];
    const p = spawn(file!, rest, { stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d) => (err += d));
    p.on('error', (e) => resolve({ code: -1, err: String(e) }));
    p.on('close', (code) => resolve({ code: code ?? -1, err }));
    if (input !== undefined) {
      p.stdin!.on('error', () => {}); // ip may exit first (its target namespace is gone): its code says so
      p.stdin!.end(input);
    }
  });
}

const exists = (err: string) => /File exists|already exists|already assigned/i.test(err);

function vethName(addr: string): string {
  const [, , x, y] = addr.split('.').map(Number) as [number, number, number, number];
  return `ksv${((x << 8) | y).toString(16).padStart(4, '0')}`;
}

export class NetworkManager {
  mode: 'netns' | 'host' = 'host';
  /** Why pods run on the host network (when they do). */
  reason = '';
  readonly hostIP: string;
  private readonly owned = new Map<string, PodNetwork>();
  private readonly self = selfOwner();

  constructor(private readonly want: 'auto' | 'netns' | 'host') {
    this.hostIP = pickHostIP();
  }

  async init(): Promise<void> {
    if (this.want === 'host') {
      this.reason = 'configured with network: host';
      return;
    }
    if (process.getuid?.() !== 0) {
      this.reason = 'not running as root: network namespaces unavailable';
      if (this.want === 'netns') throw new Error(`kube-sim kubelet: ${this.reason}`);
      return;
    }
    await fsp.mkdir(IPAM_DIR, { recursive: true });
    const add = await ip(['link', 'add', BRIDGE, 'type', 'bridge']);
    if (add.code !== 0 && !exists(add.err)) return this.fallback(`cannot create bridge ${BRIDGE}: ${add.err.trim()}`);
    const addr = await ip(['addr', 'add', `${GATEWAY}/${PREFIX}`, 'dev', BRIDGE]);
    if (addr.code !== 0 && !exists(addr.err))
      return this.fallback(`cannot address bridge ${BRIDGE}: ${addr.err.trim()}`);
    const up = await ip(['link', 'set', BRIDGE, 'up']);
    if (up.code !== 0) return this.fallback(`cannot bring ${BRIDGE} up: ${up.err.trim()}`);
    this.mode = 'netns';
    await this.reapStale();
  }

  private fallback(why: string): void {
    if (this.want === 'netns') throw new Error(`kube-sim kubelet: ${why}`);
    this.mode = 'host';
    this.reason = why;
  }

  /** Remove what crashed simulators left behind (owner pid gone). */
  private async reapStale(): Promise<void> {
    let files: string[] = [];
    try {
      files = await fsp.readdir(IPAM_DIR);
    } catch {
      return;
    }
    for (const f of files) {
      if (!/^10\.244\.\d+\.\d+$/.test(f)) continue;
      let owner: ClaimOwner = { pid: 0 };
      try {
        owner = JSON.parse(await fsp.readFile(join(IPAM_DIR, f), 'utf8')) as ClaimOwner;
      } catch {
        /* half-written claim: its owner is mid-setup or dead; judge by age below */
        const st = await fsp.stat(join(IPAM_DIR, f)).catch(() => undefined);
        if (st && Date.now() - st.mtimeMs < 60_000) continue;
      }
      if (!ownerGone(owner)) continue;
      await this.destroy(f);
    }
  }

  private async destroy(addr: string): Promise<void> {
    // The pod end lives in the sandbox's netns and vanishes with it; the host end may linger.
    await ip(['link', 'del', vethName(addr)]);
    await fsp.rm(join(IPAM_DIR, addr), { force: true });
  }

  private async claim(): Promise<string> {
    const total = 1 << (32 - PREFIX);
    const start = Math.floor(Math.random() * total);
    for (let i = 0; i < total; i++) {
      const n = (start + i) % total;
      const x = n >> 8,
        y = n & 255;
      if (n <= 1 || n === total - 1 || y === 0 || y === 255) continue;
      const addr = `10.244.${x}.${y}`;
      try {
        const fh = await fsp.open(join(IPAM_DIR, addr), 'wx');
        await fh.writeFile(JSON.stringify({ ...this.self, veth: vethName(addr) }));
        await fh.close();
        return addr;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
    throw new Error('pod IP range 10.244.0.0/16 is exhausted');
  }

  /** Allocate a network for one pod. `hostNetwork` pods (and the fallback mode) share the host's. */
  async setup(hostNetwork: boolean): Promise<PodNetwork> {
    if (hostNetwork) return { ip: this.hostIP, hostNetwork: true };
    if (this.mode === 'host') return { ip: '127.0.0.1', hostNetwork: true };
    const addr = await this.claim();
    const net: PodNetwork = { ip: addr, veth: vethName(addr), hostNetwork: false };
    this.owned.set(addr, net);
    return net;
  }

  /** Plug the pod's network into the sandbox's (empty) network namespace, owned by process `pid`. */
  async attach(net: PodNetwork, pid: number): Promise<void> {
    if (net.hostNetwork) return;
    net.netnsPath = `/proc/${pid}/ns/net`;
    let r = await ip(
      ['-batch', '-'],
      `link add ${net.veth} type veth peer name eth0 netns ${pid}\nlink set ${net.veth} master ${BRIDGE} up\n`,
    );
    if (r.code !== 0) throw new Error(`pod network setup failed: ${r.err.trim()}`);
    r = await ip(
      ['-batch', '-'],
      `link set lo up\naddr add ${net.ip}/${PREFIX} dev eth0\nlink set eth0 up\nroute add default via ${GATEWAY}\n`,
      ['nsenter', `--net=${net.netnsPath}`, '--'],
    );
    if (r.code !== 0) throw new Error(`pod network setup failed: ${r.err.trim()}`);
  }

  async teardown(net: PodNetwork): Promise<void> {
    if (net.hostNetwork || !this.owned.has(net.ip)) return;
    this.owned.delete(net.ip);
    await this.destroy(net.ip);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.owned.values()].map((n) => this.teardown(n)));
  }
}

/** The node's InternalIP: the first non-internal IPv4 address that is not a pod bridge. */
function pickHostIP(): string {
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (name === BRIDGE || name.startsWith('ksv') || name.startsWith('docker')) continue;
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
