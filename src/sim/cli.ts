/**
 * @module sim/cli
 * `kuber-api sim --kubeconfig PATH [--tls|--no-tls] [--host H] [--port N] [--token T|--no-token]
 *  [--state-dir D] [--feature-gates A=true,B=false] [--bookmark-interval-ms N]
 *  [--unknown-image-policy run|pull-error] [--token-auth-file CSV] [--nodes N] [--no-default-storage-class]
 *  [--no-network-policy] [--verbose]`
 * Writes a kubeconfig for clients to PATH and serves until SIGTERM/SIGINT. Prints one line
 * `kube-sim ready url=<url> kubeconfig=<path>` on stdout when it is serving.
 */
import { readFileSync } from 'node:fs';
import { parseTokenFile } from './auth/token-file.js';
import { start, type SimOptions } from './index.js';
import { ensurePrereqs } from './prereqs.js';

const USAGE = `usage: kuber-api sim --kubeconfig PATH [--tls|--no-tls] [--host H] [--port N] [--token T|--no-token]
       [--state-dir DIR] [--feature-gates Gate=true,...] [--bookmark-interval-ms N]
       [--min-request-timeout-seconds N] [--unknown-image-policy run|pull-error] 
       [--no-network-policy (do not enforce NetworkPolicy)]
       [--token-auth-file CSV (token,user,uid,"group1,group2" per line; RBAC applies)]
       [--nodes N] [--no-default-storage-class] [--verbose]
       [--exit-with-stdin] [--install-prereqs] [--persist (keep objects in <state-dir>/store.json across restarts)]
`;

type CliOptions = SimOptions & {
  kubeconfigPath?: string;
  help?: boolean;
  exitWithStdin?: boolean;
  installPrereqs?: boolean;
};

export function parseArgs(argv: string[]): CliOptions {
  const o: CliOptions = {};
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!;
    let v: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      v = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const val = () => {
      if (v !== undefined) return v;
      const n = argv[++i];
      if (n === undefined) throw new Error(`${a} needs a value`);
      return n;
    };
    const int = () => {
      const n = Number(val());
      if (!Number.isInteger(n) || n < 0) throw new Error(`${a} needs a non-negative integer`);
      return n;
    };
    switch (a) {
      case '--kubeconfig':
        o.kubeconfigPath = val();
        break;
      case '--tls':
        o.tls = true;
        break;
      case '--no-tls':
        o.tls = false;
        break;
      case '--host':
        o.host = val();
        break;
      case '--port':
        o.port = int();
        break;
      case '--token':
        o.token = val();
        break;
      case '--no-token':
        o.token = false;
        break;
      case '--state-dir':
        o.stateDir = val();
        break;
      case '--feature-gates':
        o.featureGates = { ...(o.featureGates ?? {}) };
        for (const kv of val().split(',').filter(Boolean)) {
          const [k, b = 'true'] = kv.split('=');
          if (b !== 'true' && b !== 'false') throw new Error(`--feature-gates: ${kv}: value must be true or false`);
          o.featureGates[k!.trim()] = b === 'true';
        }
        break;
      case '--bookmark-interval-ms':
        o.bookmarkIntervalMs = int();
        break;
      case '--min-request-timeout-seconds':
        o.minRequestTimeoutSeconds = int();
        break;
      case '--unknown-image-policy': {
        const p = val();
        if (p !== 'run' && p !== 'pull-error') throw new Error('--unknown-image-policy must be run or pull-error');
        o.unknownImagePolicy = p;
        break;
      }
      case '--token-auth-file':
        o.users = [...(o.users ?? []), ...parseTokenFile(readFileSync(val(), 'utf8'))];
        break;
      case '--nodes': {
        const n = int();
        if (n < 1) throw new Error('--nodes needs at least 1');
        o.nodes = n;
        break;
      }
      case '--no-default-storage-class':
        o.defaultStorageClass = false;
        break;
      case '--no-network-policy':
        o.networkPolicy = false;
        break;
      case '--install-prereqs':
        o.installPrereqs = true;
        break;
      case '--persist':
        o.persist = true;
        break;
      case '--exit-with-stdin':
        o.exitWithStdin = true;
        break;
      case '--verbose':
        o.log = (l) => process.stderr.write(`kube-sim: ${l}\n`);
        break;
      case '-h':
      case '--help':
        o.help = true;
        break;
      default:
        throw new Error(`unknown flag ${a}`);
    }
  }
  return o;
}

export async function main(argv: string[]): Promise<void> {
  let o: ReturnType<typeof parseArgs>;
  try {
    o = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`kuber-api sim: ${(err as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (o.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (!o.kubeconfigPath) {
    process.stderr.write(`kuber-api sim: --kubeconfig PATH is required\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (o.persist && !o.stateDir) {
    process.stderr.write(
      `kuber-api sim: --persist needs --state-dir (a temporary state directory is removed at exit)\n`,
    );
    process.exitCode = 2;
    return;
  }
  try {
    ensurePrereqs({ install: !!o.installPrereqs, log: (l) => process.stderr.write(`kube-sim: ${l}\n`) });
  } catch (err) {
    process.stderr.write(`kuber-api sim: ${(err as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  const sim = await start(o);
  process.stdout.write(`kube-sim ready url=${sim.url} kubeconfig=${sim.kubeconfigPath}\n`);
  const stop = (sig: string) => {
    process.stderr.write(`kube-sim: ${sig}, stopping\n`);
    sim.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  // A parent that embeds the simulator (kuber-api with no kubeconfig) gives it a stdin pipe and never
  // writes to it: the pipe's end means the parent is gone, even after a SIGKILL that left it no time
  // to stop us, so the simulator and its pods never outlive it.
  if (o.exitWithStdin) {
    // Our stdout and stderr are pipes to that parent too: once it is gone, a write to them fails
    // (EPIPE), and unhandled that error would end the process before the stop saved the store.
    for (const s of [process.stdout, process.stderr]) s.on('error', () => {});
    process.stdin.on('data', () => {});
    process.stdin.once('end', () => stop('parent gone (stdin closed)'));
    process.stdin.once('error', () => stop('parent gone (stdin error)'));
  }
}
