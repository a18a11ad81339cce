/**
 * `docker run -it busybox sh` through a real terminal (tmux): the prompt appears (replayed from the
 * log when it was printed before the attach), `stty size` follows a window resize (container
 * resize -> channel 4 on the attach session), `exit 7` gives exit code 7, and ctrl-p ctrl-q
 * detaches, leaving the container running (a `detach` event), after which `docker attach` gets
 * the terminal back.
 */
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import { dockerAvailable } from '../helpers/docker-cli.js';
import { clusterTest, realClusterKubeconfig } from '../helpers/cluster.js';
import { Tmux } from '../helpers/tmux.js';
import { dockerConfigDir, eventually, streamsEnv, uniqueName, type StreamsEnv } from '../helpers/streams-env.js';

const PROMPT = /\/ #\s*$/m;

type Case = [string, (env: StreamsEnv) => Promise<void>];

/**
 * The program's exit code; when it does not exit in time, what kuber-api and kube-sim knew at that
 * moment goes into the error (diagnosis of a hang after the shell's exit, seen under heavy load).
 */
async function exitCodeOrDiagnose(t: Tmux, env: StreamsEnv, name: string): Promise<number> {
  try {
    return await t.exitCode();
  } catch (err) {
    const streams = env.sim
      ? JSON.stringify((await env.simState().catch(() => ({ streams: undefined }))).streams)
      : 'n/a';
    const ps = await env.docker(['ps', '-a', '--filter', `name=${name}`, '--format', '{{.Status}}']);
    throw new Error(
      `${(err as Error).message}\ncontainer: ${ps.stdout}\nkube-sim open streams: ${streams}\nkuber-api log tail:\n${env.api.logs().split('\n').slice(-60).join('\n')}`,
    );
  }
}

const dockerTmux = (env: StreamsEnv, args: string[]) =>
  Tmux.start(['docker', ...args], {
    env: { DOCKER_HOST: env.dockerHost, DOCKER_CONFIG: dockerConfigDir() },
    width: 80,
    height: 24,
  });

const CASES: Case[] = [
  [
    '~> docker run -it busybox sh: prompt, stty size follows a resize, exit 7',
    async (env) => {
      const name = uniqueName('tty');
      const t = await dockerTmux(env, ['run', '-it', '--rm', '--name', name, 'busybox', 'sh']);
      try {
        await t.waitFor(PROMPT);
        await t.type('stty size\n');
        await t.waitFor(/^24 80\s*$/m);
        await t.resize(100, 30);
        const typed = await t.typeUntil('stty size\n', /^30 100\s*$/m);
        await t.type('echo $((6*7))\n');
        await t.waitFor(/^42\s*$/m);
        await t.type('exit 7\n');
        const code = await exitCodeOrDiagnose(t, env, name);
        assert.is(code, 7);
        const pane = await t.capture();
        assert.is(pane.match(/stty size/g)?.length, 1 + typed, `the typed commands are echoed once each:\n${pane}`);
      } finally {
        await t.kill();
      }
    },
  ],
  [
    '~> ctrl-p ctrl-q detaches and leaves the container running; docker attach gets the terminal back',
    async (env) => {
      const name = uniqueName('detach');
      const since = Math.floor(Date.now() / 1000) - 1;
      const t = await dockerTmux(env, ['run', '-it', '--name', name, 'busybox', 'sh']);
      try {
        await t.waitFor(PROMPT);
        await t.type('echo before-detach\n');
        await t.waitFor(/^before-detach\s*$/m);
        // Typed as a person types them: the docker CLI's escape proxy (moby/term NewEscapeProxy) only
        // matches keys that arrive one per read; both in one read go to the server, whose own scan
        // detaches too, but then the CLI waits for the container instead of exiting (the same with
        // dockerd: checked against dockerd-oracle). Over TCP the CLI never exits on a detach (its
        // EscapeError arrives wrapped by TCPConn.ReadFrom), again as with dockerd: this suite uses a
        // unix socket.
        await t.keys('C-p');
        await new Promise((r) => setTimeout(r, 250));
        await t.keys('C-q');
        assert.is(await t.exitCode(), 0);
      } finally {
        await t.kill();
      }
      const running = await env.docker(['inspect', '-f', '{{.State.Running}} {{.State.Status}}', name]);
      assert.is(running.stdout.toString().trim(), 'true running', running.stderr);
      const ev = await env.docker([
        'events',
        '--since',
        String(since),
        '--until',
        String(Math.floor(Date.now() / 1000) + 1),
        '--filter',
        `container=${name}`,
        '--format',
        '{{.Action}}',
      ]);
      assert.ok(ev.stdout.toString().split('\n').includes('detach'), `events: ${ev.stdout}`);
      // Attach again: the shell is still there and still reads its terminal.
      const a = await dockerTmux(env, ['attach', name]);
      try {
        await a.type('echo again-$((1+1))\n');
        await a.waitFor(/^again-2\s*$/m);
        await a.type('exit 3\n');
        assert.is(await exitCodeOrDiagnose(a, env, name), 3);
      } finally {
        await a.kill();
      }
      await eventually(
        async () =>
          (await env.docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', name])).stdout
            .toString()
            .trim() === 'exited 3',
        10_000,
        'exited 3',
      );
      await env.docker(['rm', '-f', name]);
    },
  ],
];

function register(name: string, real: boolean): void {
  const s: Test = suite(name);
  let env: StreamsEnv | undefined;
  s.before(async () => {
    if (real) {
      const k = realClusterKubeconfig();
      if (k) env = await streamsEnv({ kubeconfig: k });
    } else env = await streamsEnv({ splitStreams: true });
  });
  s.after(async () => env?.stop());
  for (const [title, fn] of CASES) {
    if (real) clusterTest(s, title, () => fn(env!));
    else s(title, () => fn(env!));
  }
  s.run();
}

if (!dockerAvailable() || !(await Tmux.available()))
  console.log('SKIP TTY attach e2e tests: needs `docker` and `tmux` on PATH');
else {
  register('attach -it (kube-sim)', false);
  register('attach -it (real cluster)', true);
}
