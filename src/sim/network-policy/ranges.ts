/**
 * @module sim/network-policy/ranges
 * Small value helpers for the compiler: port ranges merged so an nftables interval set never holds
 * overlapping elements (nft refuses "conflicting intervals"), and IPv4 CIDR arithmetic for ipBlock
 * (is a pod IP inside `cidr` and outside every `except`).
 */

/** An inclusive port range; `lo === hi` for one port. */
export interface PortRange {
  lo: number;
  hi: number;
}

/** Sort and merge overlapping or adjacent ranges. */
export function mergeRanges(ranges: readonly PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a.lo - b.lo || a.hi - b.hi);
  const out: PortRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.lo <= last.hi + 1) last.hi = Math.max(last.hi, r.hi);
    else out.push({ ...r });
  }
  return out;
}

/** A dotted IPv4 address as an unsigned 32-bit number, or undefined when it is not one. */
export function ipv4(addr: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(addr);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return (((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!) >>> 0;
}

/** `a.b.c.d/n` as [network, prefix], or undefined (IPv6 blocks are not for the IPv4 bridge). */
export function parseCidr(cidr: string): [number, number] | undefined {
  const [addr, bits] = cidr.split('/');
  const base = ipv4(addr ?? '');
  const n = bits === undefined ? 32 : Number(bits);
  if (base === undefined || !Number.isInteger(n) || n < 0 || n > 32) return undefined;
  const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
  return [(base & mask) >>> 0, n];
}

export function inCidr(addr: string, cidr: string): boolean {
  const a = ipv4(addr),
    c = parseCidr(cidr);
  if (a === undefined || !c) return false;
  const mask = c[1] === 0 ? 0 : (0xffffffff << (32 - c[1])) >>> 0;
  return (a & mask) >>> 0 === c[0];
}

/** The CIDR in canonical form (host bits cleared: nft refuses `10.1.2.3/16` as a prefix). */
export function canonicalCidr(cidr: string): string | undefined {
  const c = parseCidr(cidr);
  if (!c) return undefined;
  const n = c[0];
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}/${c[1]}`;
}

/** Drop the CIDRs contained in another of the list (overlapping set elements are refused by nft). */
export function outermostCidrs(cidrs: readonly string[]): string[] {
  const canon = [...new Set(cidrs.map(canonicalCidr).filter((c): c is string => !!c))];
  return canon.filter((c) => {
    const [net, bits] = parseCidr(c)!;
    return !canon.some((o) => o !== c && parseCidr(o)![1] < bits && inCidr(ipString(net), o));
  });
}

function ipString(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
