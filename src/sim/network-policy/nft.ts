/**
 * @module sim/network-policy/nft
 * The applier: runs `nft -f -` with a rendered script when it differs from the last one applied,
 * names this simulator's table after its owner (pid, start time, PID namespace: claim-owner.ts, the
 * same identity as its IP claims), and removes the tables of simulators that are gone.
 */
import { spawn } from 'node:child_process';
import { ownerGone, type ClaimOwner } from '../kubelet/claim-owner.js';
import { deleteScript } from './render.js';

export const TABLE_PREFIX = 'kubesim_np_';

/**
 * `kubesim_np_<pid>_<start>_<pidns inode>_<n>` (nft identifiers: letters, digits, underscores); `n`
 * tells apart several simulators in one process (tests start more than one).
 */
export function tableName(o: ClaimOwner, n = 0): string {
  const ns = /\[(\d+)\]/.exec(o.pidns ?? '')?.[1] ?? '0';
  return `${TABLE_PREFIX}${o.pid}_${o.start ?? '0'}_${ns}_${n}`;
}

/** The owner a table name stands for, or undefined for a table that is not a simulator's. */
export function tableOwner(name: string): ClaimOwner | undefined {
  const m = new RegExp(`^${TABLE_PREFIX}(\\d+)_(\\d+)_(\\d+)_\\d+$`).exec(name);
  if (!m) return undefined;
  return {
    pid: Number(m[1]),
    ...(m[2] !== '0' ? { start: m[2] } : {}),
    ...(m[3] !== '0' ? { pidns: `pid:[${m[3]}]` } : {}),
  };
}

export interface NftResult {
  code: number;
  out: string;
  err: string;
}

/** Run nft with a script on stdin (or plain arguments). */
export function nft(args: string[], script?: string): Promise<NftResult> {
  return new Promise((resolve) => {
    const p = spawn('nft', args, { stdio: [script === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let out = '',
      err = '';
    p.stdout!.on('data', (d) => (out += d));
    p.stderr!.on('data', (d) => (err += d));
    p.on('error', (e) => resolve({ code: -1, out, err: String(e) }));
    p.on('close', (code) => resolve({ code: code ?? -1, out, err }));
    if (script !== undefined) {
      p.stdin!.on('error', () => {});
      p.stdin!.end(script);
    }
  });
}

/** Delete the inet tables of simulators that are gone (crashed runs); returns their names. */
export async function sweepDeadTables(): Promise<string[]> {
  const r = await nft(['list', 'tables', 'inet']);
  if (r.code !== 0) return [];
  const gone: string[] = [];
  for (const m of r.out.matchAll(/^table inet (\S+)$/gm)) {
    const owner = tableOwner(m[1]!);
    if (owner && ownerGone(owner)) gone.push(m[1]!);
  }
  if (gone.length) await nft(['-f', '-'], gone.map(deleteScript).join(''));
  return gone;
}

/** Applies scripts for one table, skipping one equal to the last applied. */
export class Applier {
  private last?: string;

  constructor(readonly table: string) {}

  /** Apply `script` unless it is what the table already holds; throws with nft's message on failure. */
  async apply(script: string): Promise<boolean> {
    if (script === this.last) return false;
    const r = await nft(['-f', '-'], script);
    if (r.code !== 0) throw new Error(`nft -f failed (${r.code}): ${r.err.trim()}`);
    this.last = script;
    return true;
  }

  async remove(): Promise<void> {
    this.last = undefined;
    await nft(['-f', '-'], deleteScript(this.table));
  }
}
