/**
 * A testcontainers 11 session with its DEFAULT settings (Ryuk enabled, no TESTCONTAINERS_*
 * variable), run as a child process by test/e2e/ryuk.test.ts: only DOCKER_HOST points at
 * kuber-api. It starts containers, a network and checks what it can see, prints one JSON line
 * with its findings and exits WITHOUT stopping anything: Ryuk must remove what it made.
 */
import http from 'node:http';
import { Readable } from 'node:stream';
import { GenericContainer, Network, Wait } from 'testcontainers';

const httpd = (text: string) => [
  'sh',
  '-c',
  `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 8080 -h /www`,
];

const get = (host: string, port: number) =>
  new Promise<string>((resolve, reject) => {
    const req = http.get({ host, port, path: '/', agent: false, timeout: 20_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
  });

async function text(s: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s as unknown as Readable) parts.push(Buffer.from(c as Buffer));
  return Buffer.concat(parts);
}

if (process.argv[2] === 'small') {
  // One container: two of these in parallel share one Ryuk (the second finds it running and connects).
  const c = await new GenericContainer('busybox').withCommand(['sleep', '600']).start();
  process.stdout.write(`${JSON.stringify({ id: c.getId() })}\n`);
  process.exit(0);
}

const out: Record<string, unknown> = {};
// GenericContainer with an exposed port and the default wait strategy (listening ports).
const web = await new GenericContainer('busybox').withCommand(httpd('hello-ryuk')).withExposedPorts(8080).start();
out.http = await get(web.getHost(), web.getMappedPort(8080));
// A log-message wait, exec, copy before start and copy out.
const logc = await new GenericContainer('busybox')
  .withCommand(['sh', '-c', 'echo booting; sleep 1; echo ready now; exec sleep 600'])
  .withCopyContentToContainer([{ content: 'copied before start\n', target: '/tmp/greeting.txt' }])
  .withWaitStrategy(Wait.forLogMessage('ready now'))
  .start();
const ex = await logc.exec(['sh', '-c', 'cat /tmp/greeting.txt; echo to-stderr >&2']);
out.exec = { exitCode: ex.exitCode, stdout: ex.stdout, stderr: ex.stderr };
const tar = await text(await logc.copyArchiveFromContainer('/tmp/greeting.txt'));
out.copyOut = tar.includes(Buffer.from('copied before start\n'));
// A health-check wait.
const healthy = await new GenericContainer('busybox')
  .withCommand(['sleep', '600'])
  .withHealthCheck({ test: ['CMD-SHELL', 'true'], interval: 1000, timeout: 1000, retries: 3, startPeriod: 0 })
  .withWaitStrategy(Wait.forHealthCheck())
  .start();
out.healthy = healthy.getId().length === 64;
// A Network with aliases: one container reaches the other by its alias.
const network = await new Network().start();
await new GenericContainer('busybox')
  .withCommand(httpd('hello-alias'))
  .withNetwork(network)
  .withNetworkAliases('tcweb')
  .start();
const client = await new GenericContainer('busybox').withCommand(['sleep', '600']).withNetwork(network).start();
const r = await client.exec([
  'sh',
  '-c',
  'for i in $(seq 100); do wget -qO- http://tcweb:8080/ && exit 0; sleep 0.1; done; exit 1',
]);
out.alias = { exitCode: r.exitCode, output: r.output };
out.network = network.getName();
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
