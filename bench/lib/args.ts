/**
 * @module bench/lib/args
 * `npm run bench -- [scenario...] [flags]`: the options of a run, with the defaults of a full run
 * and of `--quick` (a few seconds per scenario: the CI smoke test).
 */
import { join } from 'node:path';
import { ROOT } from './procs.js';
import type { Options } from './types.js';

export const GROUPS = [
  'control',
  'startup',
  'logs',
  'attach',
  'exec',
  'cli',
  'roundtrip',
  'echo',
  'backpressure',
  'concurrency',
] as const;

export const USAGE = `usage: npm run bench -- [scenario...] [flags]
       node dist/bench/run.js [scenario...] [flags]

scenarios (default: all): ${GROUPS.join(', ')}

reliability (issue 14; not part of "all"; each records bench/reliability.json and the
"Reliability" section of bench/RESULTS.md):
  fuzz [--cases N] [--seed N] [--seeds FILE] [--workers N] [--max-rss-mib N]
                        100,000 mutated real-client requests (bench/reliability/fuzz.ts)
  load [--streams N] [--cycles N] [--containers K] [--mib M] [--thousand]
                        200 exec, 200 logs -f, 50 create/start/rm cycles (bench/reliability/load.ts)
  reliability-report    re-render that section into bench/RESULTS.md

  --quick               a few seconds per scenario (the CI smoke test)
  --cluster             against the cluster of KUBECONFIG (or --kubeconfig) instead of a local kube-sim
  --kubeconfig PATH     the kubeconfig for --cluster
  --namespace NS        namespace for --cluster (default: the context's)
  --docker-host URL     also run the Docker-side scenarios against this endpoint (path d), e.g.
                        unix:///run/docker-oracle.sock or tcp://127.0.0.1:2376 (default: the
                        dockerd-oracle's socket when ../shared/tools/dockerd-oracle is up)
  --no-docker-host      no path d, even when the dockerd-oracle is up
  --docker-host-mib MIB at most this many MiB per stream on path d (default 256: dockerd serves
                        json-file logs at ~10 MiB/s, so 1 GiB would take ~100 s a run for the
                        same rate); the docker CLI cases are never capped
  --docker-pid PID      the daemon of --docker-host, for its RSS and CPU (default: read from
                        /run/docker-oracle.pid or /var/run/docker.pid for a local unix socket)
  --size MIB            MiB per log stream (default 1024; quick 8)
  --stream-mib MIB      MiB per attach/exec stream (default 256; quick 8)
  --reps N              repetitions per path (default 3; quick 1)
  --cli-mib MIB         MiB per stream of the docker CLI cases, path e (default 256; quick 8)
  --cli-samples N       wall-time samples of \`docker exec true\` and \`docker run --rm true\`
                        per path (default 20; quick 3)
  --samples N           latency samples per path (default 200; quick 20)
  --concurrency N       concurrent streams (default 1000, issue 15's target; quick 32)
  --conc-mib MIB        MiB per concurrent stream (default 1; quick 1)
  --ps-containers N     containers for \`docker ps\` (default 100; quick 10)
  --slow-mib MIB        MiB read by the slow reader (default 1024; quick 16)
  --slow-rate MIBPS     the slow reader's rate (default 64; quick 32)
  --image REF           the busybox image (default busybox)
  --unix                kuber-api on a unix socket instead of TCP 127.0.0.1
  --no-tls              kube-sim over plain HTTP (default: HTTPS, as a real apiserver)
  --split-streams on|off|both
                        kube-sim's PodLogsQuerySplitStreams gate (default both: off, as on real
                        clusters, plus a second kube-sim with it on for the "(split)" log cases)
  --cpu-prof            profile kuber-api and kube-sim (node --cpu-prof) into the run's out dir
  --out DIR             where this run's files go (default bench/out/<date>)
  --results / --no-results  write bench/RESULTS.md and its charts (default: only for a full
                        run: every scenario, no --quick, on kube-sim)
  --kuber-cli PATH      run this kuber-api build (its dist/src/cli.js) instead of this tree's:
                        before/after comparisons of an optimisation
  --report FILE         rebuild the table, charts and RESULTS.md from a results.json
`;

export function parseArgs(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): Options & { report?: string; help?: boolean } {
  const quick = argv.includes('--quick');
  const o: Options & { report?: string; help?: boolean } = {
    groups: [],
    quick,
    cluster: false,
    sizeMiB: quick ? 8 : 1024,
    streamMiB: quick ? 8 : 256,
    reps: quick ? 1 : 3,
    samples: quick ? 20 : 200,
    cliMiB: quick ? 8 : 256,
    cliSamples: quick ? 3 : 20,
    noDockerHost: false,
    dMiB: 256,
    concurrency: quick ? 32 : 1000,
    concMiB: 1,
    concContainers: 4,
    psContainers: quick ? 10 : 100,
    slowMiBps: quick ? 32 : 64,
    slowMiB: quick ? 16 : 1024,
    outDir: '',
    results: false,
    cpuProf: false,
    unix: false,
    splitStreams: 'both',
    tls: true,
    image: 'busybox',
    command: '',
  };
  let results: boolean | undefined;
  const num = (v: string | undefined, flag: string): number => {
    const n = Number(v);
    if (!v || !Number.isFinite(n) || n <= 0) throw new Error(`${flag} needs a positive number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => argv[++i];
    switch (a) {
      case '--quick':
        break;
      case '--help':
      case '-h':
        o.help = true;
        break;
      case '--cluster':
        o.cluster = true;
        break;
      case '--kubeconfig':
        o.kubeconfig = next();
        break;
      case '--namespace':
        o.namespace = next();
        break;
      case '--docker-host':
        o.dockerHost = next();
        if (!o.dockerHost) throw new Error('--docker-host needs a URL');
        break;
      case '--no-docker-host':
        o.noDockerHost = true;
        break;
      case '--docker-host-mib':
        o.dMiB = Math.round(num(next(), a));
        break;
      case '--cli-mib':
        o.cliMiB = Math.round(num(next(), a));
        break;
      case '--cli-samples':
        o.cliSamples = Math.round(num(next(), a));
        break;
      case '--docker-pid':
        o.dockerPid = Math.round(num(next(), a));
        break;
      case '--size':
        o.sizeMiB = Math.round(num(next(), a));
        break;
      case '--stream-mib':
        o.streamMiB = Math.round(num(next(), a));
        break;
      case '--reps':
        o.reps = Math.round(num(next(), a));
        break;
      case '--samples':
        o.samples = Math.round(num(next(), a));
        break;
      case '--concurrency':
        o.concurrency = Math.round(num(next(), a));
        break;
      case '--conc-mib':
        o.concMiB = Math.round(num(next(), a));
        break;
      case '--ps-containers':
        o.psContainers = Math.round(num(next(), a));
        break;
      case '--slow-mib':
        o.slowMiB = Math.round(num(next(), a));
        break;
      case '--slow-rate':
        o.slowMiBps = num(next(), a);
        break;
      case '--image':
        o.image = next() ?? 'busybox';
        break;
      case '--unix':
        o.unix = true;
        break;
      case '--no-tls':
        o.tls = false;
        break;
      case '--split-streams': {
        const v = next();
        if (v !== 'on' && v !== 'off' && v !== 'both') throw new Error('--split-streams takes on, off or both');
        o.splitStreams = v;
        break;
      }
      case '--cpu-prof':
        o.cpuProf = true;
        break;
      case '--out':
        o.outDir = next() ?? '';
        break;
      case '--results':
        results = true;
        break;
      case '--no-results':
        results = false;
        break;
      case '--kuber-cli':
        o.kuberCli = next();
        break;
      case '--report':
        o.report = next();
        break;
      default:
        if (a.startsWith('-')) throw new Error(`unknown flag ${a}`);
        if (!(GROUPS as readonly string[]).includes(a))
          throw new Error(`unknown scenario ${a} (one of ${GROUPS.join(', ')})`);
        o.groups.push(a);
    }
  }
  if (o.cluster) {
    o.kubeconfig ??= env.KUBECONFIG?.split(':')[0];
    if (!o.kubeconfig) throw new Error('--cluster needs KUBECONFIG or --kubeconfig');
  }
  const full = o.groups.length === 0;
  if (!o.groups.length) o.groups = [...GROUPS];
  o.results = results ?? (full && !o.quick && !o.cluster);
  if (!o.outDir) o.outDir = join(ROOT, 'bench', 'out', new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19));
  const via =
    env.npm_lifecycle_event === 'bench'
      ? `npm run bench${argv.length ? ' -- ' + argv.join(' ') : ''}`
      : `node dist/bench/run.js ${argv.join(' ')}`.trim();
  o.command = via;
  return o;
}
