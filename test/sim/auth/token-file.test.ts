/** --token-auth-file: the kube-apiserver CSV format, and the kube-sim CLI flag that reads it. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseTokenFile } from '../../../src/sim/auth/token-file.js';
import { parseArgs } from '../../../src/sim/cli.js';

test('token,user,uid and a quoted group list; comments and blank lines skipped', () => {
  const users = parseTokenFile('# tokens\n\nt1,alice,u-1,"devs,ops"\nt2,bob,\n');
  assert.equal(users, [
    { token: 't1', username: 'alice', uid: 'u-1', groups: ['devs', 'ops'] },
    { token: 't2', username: 'bob' },
  ]);
  assert.throws(() => parseTokenFile('only,two'), /line 1: needs at least 3 columns/);
});

test('kuber-api sim --token-auth-file reads the users', () => {
  const dir = mkdtempSync(join(tmpdir(), 'token-file-'));
  try {
    writeFileSync(join(dir, 'tokens.csv'), 'tok,ci-bot,,system:masters\n');
    assert.equal(parseArgs(['--token-auth-file', join(dir, 'tokens.csv')]).users, [
      { token: 'tok', username: 'ci-bot', groups: ['system:masters'] },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
