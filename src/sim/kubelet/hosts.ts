/**
 * @module sim/kubelet/hosts
 * The kubelet-managed /etc/hosts, /etc/resolv.conf and /etc/hostname of a pod. /etc/hosts is
 * exactly what the kubelet writes (managedHostsFileContent in pkg/kubelet/kubelet_pods.go: header,
 * localhost lines, the pod's IP and hostname, "# Entries added by HostAliases.") followed by one
 * line per Service of the namespace — kube-sim has no cluster DNS, so Service names resolve through
 * this file. A Service with a selector resolves to the IP of a running pod it selects (the
 * simulator has no kube-proxy to make ClusterIPs routable); otherwise to its ClusterIP. The file is
 * bind-mounted, so updates rewrite it in place (same inode).
 */
import { promises as fsp, readFileSync } from 'node:fs';
import type { KObject } from '../types.js';

type Obj = Record<string, any>;

export function podHostname(pod: KObject): { hostname: string; fqdn?: string } {
  const spec = (pod as Obj).spec ?? {};
  const hostname = String(spec.hostname || pod.metadata.name || '').slice(0, 63);
  const sub = spec.subdomain;
  return { hostname, fqdn: sub ? `${hostname}.${sub}.${pod.metadata.namespace}.svc.cluster.local` : undefined };
}

export function managedHosts(pod: KObject, podIP: string, hostNetwork: boolean): string {
  const spec = (pod as Obj).spec ?? {};
  let out: string;
  if (hostNetwork) {
    let host = '';
    try {
      host = readFileSync('/etc/hosts', 'utf8');
    } catch {
      host = '127.0.0.1\tlocalhost\n';
    }
    out = `# Kubernetes-managed hosts file (host network).\n${host}${host.endsWith('\n') ? '' : '\n'}`;
  } else {
    const { hostname, fqdn } = podHostname(pod);
    out =
      '# Kubernetes-managed hosts file.\n' +
      '127.0.0.1\tlocalhost\n' +
      '::1\tlocalhost ip6-localhost ip6-loopback\n' +
      'fe00::0\tip6-localnet\n' +
      'fe00::0\tip6-mcastprefix\n' +
      'fe00::1\tip6-allnodes\n' +
      'fe00::2\tip6-allrouters\n' +
      (fqdn ? `${podIP}\t${fqdn}\t${hostname}\n` : `${podIP}\t${hostname}\n`);
  }
  const aliases: Obj[] = spec.hostAliases ?? [];
  if (aliases.length) {
    out += '\n# Entries added by HostAliases.\n';
    for (const a of aliases) out += `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`;
  }
  return out;
}

function selects(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  const keys = Object.keys(selector);
  return keys.length > 0 && keys.every((k) => labels?.[k] === selector[k]);
}

/** The address a Service name resolves to inside the simulator (see the module comment). */
export function serviceAddress(svc: KObject, pods: KObject[]): string | undefined {
  const spec = (svc as Obj).spec ?? {};
  if (spec.type === 'ExternalName') return undefined;
  const selector: Record<string, string> = spec.selector ?? {};
  const candidates = pods
    .filter((p) => {
      const st = (p as Obj).status ?? {};
      return (
        !p.metadata.deletionTimestamp && st.phase === 'Running' && st.podIP && selects(selector, p.metadata.labels)
      );
    })
    .sort(
      (a, b) =>
        String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)) ||
        String(a.metadata.name).localeCompare(String(b.metadata.name)),
    );
  if (candidates.length) return (candidates[0] as Obj).status.podIP;
  if (spec.clusterIP && spec.clusterIP !== 'None') return spec.clusterIP;
  return undefined;
}

export function servicesSection(namespace: string, services: KObject[], pods: KObject[]): string {
  const lines: string[] = [];
  for (const svc of [...services].sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)))) {
    const ip = serviceAddress(svc, pods);
    if (!ip) continue;
    const n = svc.metadata.name;
    lines.push(`${ip}\t${n}\t${n}.${namespace}\t${n}.${namespace}.svc\t${n}.${namespace}.svc.cluster.local`);
  }
  if (!lines.length) return '';
  return `\n# Services of namespace ${namespace} (kube-sim: in place of cluster DNS).\n${lines.join('\n')}\n`;
}

export function resolvConf(pod: KObject, nameserver: string, hostNetwork: boolean): string {
  const spec = (pod as Obj).spec ?? {};
  const ns = pod.metadata.namespace;
  const policy = spec.dnsPolicy ?? 'ClusterFirst';
  let searches: string[] = [];
  let servers: string[] = [];
  let options: string[] = [];
  const useHost = policy === 'Default' || (hostNetwork && policy !== 'ClusterFirstWithHostNet');
  if (useHost) {
    try {
      for (const line of readFileSync('/etc/resolv.conf', 'utf8').split('\n')) {
        const [k, ...v] = line.trim().split(/\s+/);
        if (k === 'nameserver' && v[0]) servers.push(v[0]);
        else if (k === 'search') searches = v;
        else if (k === 'options') options.push(...v);
      }
    } catch {
      /* none */
    }
  } else if (policy !== 'None') {
    searches = [`${ns}.svc.cluster.local`, 'svc.cluster.local', 'cluster.local'];
    servers = [nameserver];
    options = ['ndots:5'];
  }
  const cfg = spec.dnsConfig ?? {};
  servers.push(...(cfg.nameservers ?? []));
  searches.push(...(cfg.searches ?? []));
  for (const o of cfg.options ?? []) options.push(o.value !== undefined ? `${o.name}:${o.value}` : o.name);
  let out = '';
  if (searches.length) out += `search ${searches.join(' ')}\n`;
  for (const s of servers) out += `nameserver ${s}\n`;
  if (options.length) out += `options ${options.join(' ')}\n`;
  return out;
}

/** Rewrite a bind-mounted file in place (truncate + write keeps the inode the mount refers to). */
export async function rewriteInPlace(path: string, content: string): Promise<void> {
  const fh = await fsp.open(path, 'r+').catch(() => fsp.open(path, 'w'));
  try {
    await fh.truncate(0);
    await fh.write(content, 0, 'utf8');
  } finally {
    await fh.close();
  }
}
