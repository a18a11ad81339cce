import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseGroup, parsePasswd, resolveUser, UserLookupError } from '../../../src/engine/users/passwd.js';

// busybox's own files (docker.io/library/busybox), plus a member list and a malformed line.
const PASSWD =
  'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nwww-data:x:33:33:www-data:/var/www:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\nbroken:x:abc:1::/:\n';
const GROUP = 'root:x:0:\ndaemon:x:1:\nwww-data:x:33:nobody\nstaff:x:50:nobody,daemon\nnogroup:x:65534:\n';
const files = { passwd: PASSWD, group: GROUP };

test('~> parsePasswd/parseGroup skip malformed lines and comments', () => {
  assert.equal(
    parsePasswd(PASSWD).map((u) => u.name),
    ['root', 'daemon', 'www-data', 'nobody'],
  );
  assert.equal(parseGroup('# c\nstaff:x:50:a,b\nbad:x:\n'), [{ name: 'staff', gid: 50, members: ['a', 'b'] }]);
});

test('~> a name brings its uid, primary group and the groups that list it (runc GetExecUser)', () => {
  assert.equal(resolveUser('nobody', files), { uid: 65534, gid: 65534, groups: [33, 50] });
  assert.equal(resolveUser('daemon', files), { uid: 1, gid: 1, groups: [50] });
});

test('~> numeric users match the file, or are taken as is with gid 0', () => {
  assert.equal(resolveUser('33', files), { uid: 33, gid: 33, groups: [] });
  assert.equal(resolveUser('4242', files), { uid: 4242, gid: 0, groups: [] });
  assert.equal(resolveUser('4242', {}), { uid: 4242, gid: 0, groups: [] });
});

test('~> explicit groups by name or number; no supplementary groups then', () => {
  assert.equal(resolveUser('nobody:staff', files), { uid: 65534, gid: 50, groups: [] });
  assert.equal(resolveUser('nobody:777', files), { uid: 65534, gid: 777, groups: [] });
  assert.equal(resolveUser(':staff', files), { uid: 0, gid: 50, groups: [] });
});

test("~> unknown names fail with runc's messages (what dockerd reports)", () => {
  assert.throws(
    () => resolveUser('nobody2', files),
    (e: Error) =>
      e instanceof UserLookupError && e.message === 'unable to find user nobody2: no matching entries in passwd file',
  );
  assert.throws(
    () => resolveUser('nobody:wheel', files),
    (e: Error) => e.message === 'unable to find group wheel: no matching entries in group file',
  );
  assert.throws(
    () => resolveUser('nobody', {}),
    (e: Error) => e.message === 'unable to find user nobody: no matching entries in passwd file',
  );
});

test.run();
