/**
 * @module engine/users/passwd
 * `--user name[:group]` resolved against an image's /etc/passwd and /etc/group (pure), with the
 * rules dockerd's runtime applies (opencontainers/runc libcontainer/user/user.go GetExecUser):
 * a user matches by name or by numeric uid; a numeric user absent from the file is taken as is
 * (gid 0); a matched user brings its primary group; a group matches by name or gid, a numeric one
 * absent from the file is taken as is; anything else fails with runc's messages ("unable to find
 * user X: no matching entries in passwd file"). Without an explicit group, the supplementary groups
 * are those of /etc/group that list the user.
 */

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** The two files of one image; `undefined` when the image has no such file. */
export interface UserFiles {
  passwd?: string;
  group?: string;
}

export interface ExecUser {
  uid: number;
  gid: number;
  /** Supplementary groups (from /etc/group membership), without the primary group. */
  groups: number[];
}

const isNum = (s: string) => /^\d+$/.test(s);

/** /etc/passwd lines `name:x:uid:gid:gecos:home:shell`; malformed lines are skipped, as runc does. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const l = line.trim();
    if (!l || l.startsWith('#')) continue;
    const f = l.split(':');
    if (f.length < 4 || !isNum(f[2]!) || !isNum(f[3]!)) continue;
    out.push({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '' });
  }
  return out;
}

/** /etc/group lines `name:x:gid:member,member`. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const l = line.trim();
    if (!l || l.startsWith('#')) continue;
    const f = l.split(':');
    if (f.length < 3 || !isNum(f[2]!)) continue;
    out.push({ name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) });
  }
  return out;
}

/** The error runc reports for a name the files do not have (moby passes it on). */
export class UserLookupError extends Error {}

/** Resolve `user[:group]` against the image's files (runc GetExecUser; defaults uid 0, gid 0). */
export function resolveUser(spec: string, files: UserFiles): ExecUser {
  const [userArg, groupArg] = spec.split(':', 2) as [string, string | undefined];
  const users = files.passwd !== undefined ? parsePasswd(files.passwd) : [];
  const groups = files.group !== undefined ? parseGroup(files.group) : [];
  let uid = 0,
    gid = 0,
    name = '';
  if (userArg !== '') {
    const u = users.find((x) => x.name === userArg || (isNum(userArg) && x.uid === Number(userArg)));
    if (u) {
      uid = u.uid;
      gid = u.gid;
      name = u.name;
    } else if (isNum(userArg)) uid = Number(userArg);
    else throw new UserLookupError(`unable to find user ${userArg}: no matching entries in passwd file`);
  }
  let supplementary: number[] = [];
  if (groupArg !== undefined && groupArg !== '') {
    const g = groups.find((x) => x.name === groupArg || (isNum(groupArg) && x.gid === Number(groupArg)));
    if (g) gid = g.gid;
    else if (isNum(groupArg)) gid = Number(groupArg);
    else throw new UserLookupError(`unable to find group ${groupArg}: no matching entries in group file`);
  } else if (name) {
    supplementary = [...new Set(groups.filter((g) => g.members.includes(name) && g.gid !== gid).map((g) => g.gid))];
  }
  return { uid, gid, groups: supplementary };
}
