/**
 * @module sim/auth/token-file
 * kube-apiserver's --token-auth-file format (apiserver/pkg/authentication/token/tokenfile):
 * CSV lines `token,user,uid[,"group1,group2"]`; a fourth column in quotes may hold commas.
 * Blank lines and lines starting with `#` are skipped.
 */
import type { StaticUser } from './authenticate.js';

/** Split one CSV record (RFC 4180 quotes, "" for a quote). */
function csv(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') ((cur += '"'), i++);
      else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') (out.push(cur), (cur = ''));
    else cur += c;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

export function parseTokenFile(text: string): StaticUser[] {
  const users: StaticUser[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const f = csv(line);
    if (f.length < 3 || !f[0] || !f[1])
      throw new Error(`token file line ${i + 1}: needs at least 3 columns: token,user,uid`);
    const u: StaticUser = { token: f[0], username: f[1] };
    if (f[2]) u.uid = f[2];
    if (f[3])
      u.groups = f[3]
        .split(',')
        .map((g) => g.trim())
        .filter(Boolean);
    users.push(u);
  });
  return users;
}
