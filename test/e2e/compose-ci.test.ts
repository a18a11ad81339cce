/**
 * The compose flows a CI job runs, with docker-compose v1 and docker compose v2 (each SKIPped when
 * absent) against kuber-api on kube-sim: a database service with a healthcheck that the test service
 * waits for (`depends_on: service_healthy`) and reaches by name; `up --abort-on-container-exit
 * --exit-code-from tests` exits with the test service's code (attached output included); `run --rm`
 * passes its exit code; v2's `up --wait` returns once the service is healthy and `ps --format json`
 * shows it so; `down -v` leaves no container or network of the project.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSim, type SpawnedSim } from '../helpers/sim.js';
import { startKuber, type Kuber } from '../helpers/kuber.js';
import { docker } from '../helpers/docker-cli.js';
import { compose as runCompose, composeTools, COMPOSE_V2, type ComposeTool } from '../helpers/compose.js';
import { ok } from './containers-cases.js';

const tools = composeTools('compose CI flow tests');
let sim: SpawnedSim;
let kuber: Kuber;

test.before(async () => {
  if (!tools.length) return;
  sim = await spawnSim();
  kuber = await startKuber({ kubeconfig: sim.kubeconfigPath });
});
test.after(async () => {
  await kuber?.stop();
  await sim?.stop();
});

const COMPOSE_FILE = `services:
  db:
    image: busybox
    command: ["sh", "-c", "sleep 1; mkdir -p /www && echo db-answers > /www/index.html && exec httpd -f -p 8080 -h /www"]
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://127.0.0.1:8080/"]
      interval: 1s
      retries: 60
  tests:
    image: busybox
    depends_on:
      db: {condition: service_healthy}
    command: ["sh", "-c", "echo running-tests; wget -qO- http://db:8080/; exit 3"]
`;

for (const tool of tools)
  test(`~> ${tool.label}: healthcheck gate, --exit-code-from, run --rm, ${tool === COMPOSE_V2 ? 'up --wait, ' : ''}down -v`, () =>
    flows(tool));

async function flows(tool: ComposeTool): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kapi-compose-ci-'));
  writeFileSync(join(dir, 'docker-compose.yml'), COMPOSE_FILE);
  const proj = `ci${tool.argv.length}`;
  const compose = (...args: string[]) => runCompose(tool, kuber.dockerHost, dir, ['-p', proj, ...args]);
  try {
    const up = await compose('up', '--abort-on-container-exit', '--exit-code-from', 'tests');
    assert.is(up.code, 3, up.stderr);
    assert.match(up.stdout, /running-tests/);
    assert.match(up.stdout, /db-answers/);
    ok(await compose('down', '-t', '1'));
    if (tool === COMPOSE_V2) {
      const wait = await compose('up', '-d', '--wait', 'db');
      assert.is(wait.code, 0, wait.stderr);
      const ps = ok(await compose('ps', '--format', 'json'))
        .split('\n')
        .map((l) => JSON.parse(l) as { Service: string; Health: string; State: string });
      assert.equal(
        ps.map((p) => [p.Service, p.State, p.Health]),
        [['db', 'running', 'healthy']],
      );
    } else ok(await compose('up', '-d', 'db'));
    const run = await compose('run', '--rm', 'tests');
    assert.is(run.code, 3, run.stderr);
    assert.match(run.stdout, /running-tests\s+db-answers/);
    const down = await compose('down', '-v', '-t', '1');
    assert.is(down.code, 0, down.stderr);
    assert.is(
      ok(await docker(kuber.dockerHost, ['ps', '-aq', '--filter', `label=com.docker.compose.project=${proj}`])),
      '',
    );
    assert.not.match(ok(await docker(kuber.dockerHost, ['network', 'ls', '--format', '{{.Name}}'])), `${proj}_default`);
  } finally {
    await compose('down', '-v', '-t', '0');
  }
}

test.run();
