/**
 * @kubernetes/client-node 1.x against kube-sim (TLS + token) with pods run by the kubelet: Exec
 * (both streams, exit code in the status, stdin end as v5 [255,0]), Attach, Log (follow, tail),
 * Watch (phase transitions), PortForward (one TCP conversation to a busybox httpd).
 */
import * as k8s from '@kubernetes/client-node';
import { createServer, type AddressInfo } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startSim, type SimHandle } from '../../helpers/sim.js';

const test = suite<{ sim: SimHandle; kc: k8s.KubeConfig; core: k8s.CoreV1Api }>('client-node');

class Sink extends Writable {
  data = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
    this.data += chunk.toString();
    cb();
  }
}

async function until<T>(fn: () => Promise<T | undefined | false>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test.before(async (ctx) => {
  ctx.sim = await startSim();
  ctx.kc = new k8s.KubeConfig();
  ctx.kc.loadFromFile(ctx.sim.kubeconfigPath);
  ctx.core = ctx.kc.makeApiClient(k8s.CoreV1Api);
});

test.after(async (ctx) => {
  await ctx.sim.stop();
});

const running = (core: k8s.CoreV1Api, name: string) =>
  until(
    async () => (await core.readNamespacedPod({ name, namespace: 'default' })).status?.phase === 'Running',
    20000,
    `${name} Running`,
  );

test('~> Watch sees the pod go Pending -> Running -> Succeeded', async ({ kc, core }) => {
  const phases: string[] = [];
  const w = new k8s.Watch(kc);
  const req = await w.watch(
    '/api/v1/namespaces/default/pods',
    { fieldSelector: 'metadata.name=watched' },
    (_type, obj: k8s.V1Pod) => {
      const p = obj.status?.phase ?? '';
      if (phases.at(-1) !== p) phases.push(p);
    },
    () => {},
  );
  await core.createNamespacedPod({
    namespace: 'default',
    body: {
      metadata: { name: 'watched' },
      spec: {
        restartPolicy: 'Never',
        containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'sleep 0.5'] }],
      },
    },
  });
  await until(async () => phases.includes('Succeeded'), 20000, 'Succeeded');
  req.abort();
  assert.equal(phases, ['Pending', 'Running', 'Succeeded']);
});

test('~> Exec: stdout, stderr and the exit code in the status; stdin end is delivered', async ({ kc, core }) => {
  await core.createNamespacedPod({
    namespace: 'default',
    body: {
      metadata: { name: 'ex' },
      spec: {
        terminationGracePeriodSeconds: 0,
        containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }],
      },
    },
  });
  await running(core, 'ex');
  const exec = new k8s.Exec(kc);
  const out = new Sink();
  const err = new Sink();
  const status = await new Promise<k8s.V1Status>((resolve) => {
    void exec.exec(
      'default',
      'ex',
      'c',
      ['sh', '-c', 'echo out; echo err >&2; exit 3'],
      out,
      err,
      null,
      false,
      resolve,
    );
  });
  assert.is(out.data, 'out\n');
  assert.is(err.data, 'err\n');
  assert.is(status.status, 'Failure');
  assert.is(status.details?.causes?.[0]?.message, '3');
  const input = new PassThrough();
  const out2 = new Sink();
  const ws = await exec.exec('default', 'ex', 'c', ['sh', '-c', 'cat; echo end'], out2, null, input, false, () => {});
  assert.is(ws.protocol, 'v5.channel.k8s.io');
  input.end('from stdin\n');
  await until(async () => out2.data.includes('end'), 5000, 'cat output');
  assert.is(out2.data, 'from stdin\nend\n');
});

test('~> Attach: receives the main process output', async ({ kc, core }) => {
  await core.createNamespacedPod({
    namespace: 'default',
    body: {
      metadata: { name: 'att' },
      spec: {
        terminationGracePeriodSeconds: 0,
        containers: [
          { name: 'c', image: 'busybox', stdin: true, command: ['sh', '-c', 'while read l; do echo "echo:$l"; done'] },
        ],
      },
    },
  });
  await running(core, 'att');
  const input = new PassThrough();
  const out = new Sink();
  const ws = await new k8s.Attach(kc).attach('default', 'att', 'c', out, null, input, false);
  input.write('ping\n');
  await until(async () => out.data.includes('echo:ping'), 5000, 'attach output');
  ws.close();
});

test('~> Log: follow until the container ends, and tailLines', async ({ kc, core }) => {
  await core.createNamespacedPod({
    namespace: 'default',
    body: {
      metadata: { name: 'lg' },
      spec: {
        restartPolicy: 'Never',
        containers: [
          { name: 'c', image: 'busybox', command: ['sh', '-c', 'for i in 1 2 3; do echo n$i; sleep 0.2; done'] },
        ],
      },
    },
  });
  await running(core, 'lg');
  // client-node 1.x never calls `done`: the body is piped into the stream, which ends with the response.
  const out = new Sink();
  const finished = new Promise((r) => out.on('finish', r));
  await new k8s.Log(kc).log('default', 'lg', 'c', out, { follow: true });
  await finished;
  assert.is(out.data, 'n1\nn2\nn3\n');
  const tail = new Sink();
  const tailDone = new Promise((r) => tail.on('finish', r));
  await new k8s.Log(kc).log('default', 'lg', 'c', tail, { tailLines: 1 });
  await tailDone;
  assert.is(tail.data, 'n3\n');
});

test('~> PortForward: a local TCP connection to a busybox httpd in the pod', async ({ kc, core }) => {
  await core.createNamespacedPod({
    namespace: 'default',
    body: {
      metadata: { name: 'pfw' },
      spec: {
        terminationGracePeriodSeconds: 0,
        containers: [
          {
            name: 'c',
            image: 'busybox',
            command: ['sh', '-c', 'mkdir /w; echo forwarded > /w/x; exec httpd -f -p 8080 -h /w'],
          },
        ],
      },
    },
  });
  await running(core, 'pfw');
  await new Promise((r) => setTimeout(r, 300));
  const pf = new k8s.PortForward(kc);
  const server = createServer((socket) => {
    void pf.portForward('default', 'pfw', [8080], socket, null, socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const r = await fetch(`http://127.0.0.1:${port}/x`, { headers: { connection: 'close' } });
  assert.is(r.status, 200);
  assert.is(await r.text(), 'forwarded\n');
  server.close();
});

test.run();
