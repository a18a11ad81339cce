/**
 * The applier (src/sim/network-policy/nft.ts): table names carry the owner (pid, start time, PID
 * namespace) and read back; with root and nft, an applied script is skipped when unchanged, and the
 * sweep removes the table of a gone owner (a pid that exited) and keeps a live one's.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { selfOwner, startTime } from '../../../src/sim/kubelet/claim-owner.js';
import { Applier, sweepDeadTables, tableName, tableOwner } from '../../../src/sim/network-policy/nft.js';
import { renderScript } from '../../../src/sim/network-policy/render.js';

const canRun = (() => {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const tables = () => execFileSync('nft', ['list', 'tables', 'inet'], { encoding: 'utf8' });

test('table names carry the owner and read back; other tables are not ours', () => {
  const me = selfOwner();
  const name = tableName(me);
  assert.match(name, /^kubesim_np_\d+_\d+_\d+_0$/);
  assert.is.not(tableName(me, 1), name, 'a second simulator in the same process');
  assert.equal(tableOwner(name), me.pidns ? me : { pid: me.pid, start: me.start });
  assert.equal(tableOwner(tableName(me, 1)), tableOwner(name));
  assert.equal(tableOwner('kubesim_np_12_0_0_0'), { pid: 12 });
  assert.is(tableOwner('kubesim_np_12_0_0'), undefined);
  assert.is(tableOwner('filter'), undefined);
  assert.is(tableOwner('kubesim_np_x'), undefined);
});

const t = canRun ? test : test.skip;
if (!canRun) console.log('SKIP nft applier tests: not root or no nft');

t('apply skips an unchanged script; remove deletes the table', async () => {
  const a = new Applier(`kubesim_np_apply_${process.pid}`);
  try {
    const script = renderScript(a.table, { ingress: [], egress: [] });
    assert.is(await a.apply(script), true);
    assert.is(await a.apply(script), false);
    assert.match(tables(), a.table);
    await a.remove();
    assert.not.match(tables(), a.table);
  } finally {
    await a.remove();
  }
});

t('the sweep removes the table of an owner that exited and keeps a live one', async () => {
  const child = spawnSync('sh', ['-c', 'echo $$; cat /proc/$$/stat'], { encoding: 'utf8' });
  const [pidLine, stat] = child.stdout.split('\n');
  const start = stat!.slice(stat!.lastIndexOf(')') + 2).split(' ')[19]!;
  const me = selfOwner();
  const gone = tableName({ pid: Number(pidLine), start, pidns: me.pidns });
  const live = tableName({ pid: process.pid, start: startTime('self'), pidns: me.pidns });
  execFileSync('nft', ['-f', '-'], { input: `table inet ${gone} {}\ntable inet ${live} {}\n` });
  try {
    const swept = await sweepDeadTables();
    assert.ok(swept.includes(gone), `swept ${swept}`);
    assert.not.ok(swept.includes(live));
    assert.not.match(tables(), gone);
    assert.match(tables(), live);
  } finally {
    spawnSync('nft', ['-f', '-'], {
      input: `table inet ${gone} {}\ndelete table inet ${gone}\ntable inet ${live} {}\ndelete table inet ${live}\n`,
    });
  }
});

test.run();
