/**
 * engine/volumes/usage: claim sizes from the kubelets' Summary API (nodes/proxy stats/summary),
 * with a client double answering per node.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { claimUsage } from '../../../src/engine/volumes/usage.js';

const summary = (pods: Array<Array<{ claim: string; ns: string; used?: number }>>) => ({
  node: { nodeName: 'n' },
  pods: pods.map((vols, i) => ({
    podRef: { name: `p${i}`, namespace: 'ns' },
    volume: vols.map((v) => ({ name: 'd', pvcRef: { name: v.claim, namespace: v.ns }, usedBytes: v.used })),
  })),
});

test('~> usedBytes by claim of our namespace; a node that fails is left out and reported; each node asked once', async () => {
  const asked: string[] = [];
  const errors: string[] = [];
  const client = {
    get: async (path: string) => {
      asked.push(path);
      if (path.includes('/n1/'))
        return summary([[{ claim: 'a', ns: 'ns', used: 4096 }], [{ claim: 'other', ns: 'elsewhere', used: 1 }]]);
      if (path.includes('/n2/'))
        return summary([
          [
            { claim: 'a', ns: 'ns', used: 8192 },
            { claim: 'b', ns: 'ns' },
          ],
        ]);
      throw Object.assign(new Error('forbidden'), { statusCode: 403 });
    },
  } as never;
  const sizes = await claimUsage(client, ['n1', 'n2', 'n1', 'n3'], 'ns', (node) => errors.push(node));
  assert.equal([...sizes], [['a', 8192]], 'the largest reading of a claim mounted on two nodes; b has none');
  assert.equal(asked.sort(), [
    '/api/v1/nodes/n1/proxy/stats/summary',
    '/api/v1/nodes/n2/proxy/stats/summary',
    '/api/v1/nodes/n3/proxy/stats/summary',
  ]);
  assert.equal(errors, ['n3']);
});

test.run();
