/**
 * @module http/unix-group
 * The group of the unix sockets, as dockerd chooses it (moby cmd/dockerd listeners
 * lookupGID + sockets.NewUnixSocket): a gid or a group name from /etc/group; the default group
 * ("docker") is optional (absent -> the process's own group, with a warning), a group given
 * explicitly must exist.
 */
import { readFileSync } from 'node:fs';

export const DEFAULT_SOCKET_GROUP = 'docker';

/** gid of `name` in an /etc/group text, or undefined. */
export function gidFromGroupFile(text: string, name: string): number | undefined {
  for (const line of text.split('\n')) {
    const [n, , gid] = line.split(':');
    if (n === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}

/**
 * The gid to give the sockets, `undefined` to keep the process's own group. Throws when a group
 * given explicitly does not exist; `warn` is told when the default one does not.
 */
export function socketGid(group: string, warn: (msg: string) => void, groupFile = '/etc/group'): number | undefined {
  if (group === '') return undefined;
  if (/^\d+$/.test(group)) return Number(group);
  let text = '';
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch {
    /* no group database: only numeric groups work */
  }
  const gid = gidFromGroupFile(text, group);
  if (gid !== undefined) return gid;
  if (group === DEFAULT_SOCKET_GROUP) {
    warn(`group "${group}" does not exist: the unix sockets keep kuber-api's own group`);
    return undefined;
  }
  throw new Error(`group "${group}" (--group) does not exist`);
}
