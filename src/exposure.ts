/**
 * @module exposure
 * Who can reach the Docker API, decided before anything listens:
 * - TLS as dockerd sets it up (moby cmd/dockerd/daemon.go newAPIServerTLSConfig with
 *   docker/go-connections tlsconfig.Server): `--tls` serves TLS with `--tlscert`/`--tlskey`;
 *   `--tlsverify` (implies `--tls`) also requires a client certificate signed by `--tlscacert`
 *   (tls.RequireAndVerifyClientCert). Files default, as dockerd's flags do, to ca.pem, cert.pem
 *   and key.pem in $DOCKER_CERT_PATH or ~/.docker.
 * - a plaintext TCP listener on an address others can reach is refused unless `--insecure-tcp`
 *   (http/address.ts exposedPlaintext says why). `--tls` without `--tlsverify` encrypts but lets
 *   anyone in, so it counts as exposed too.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { TlsOptions } from 'node:tls';
import type { Options } from './config.js';
import { exposedPlaintext, formatHost, parseHost } from './http/index.js';

function certDir(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_CERT_PATH || join(env.HOME || homedir(), '.docker');
}

function readPem(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read ${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The TCP listeners' TLS options, or undefined without `--tls`/`--tlsverify`. Throws when a file cannot be read. */
export function tlsFromOptions(o: Options, env: NodeJS.ProcessEnv = process.env): TlsOptions | undefined {
  if (!o.tls && !o.tlsVerify) return undefined;
  const dir = certDir(env);
  const cert = readPem(o.tlsCert ?? join(dir, 'cert.pem'), '--tlscert');
  const key = readPem(o.tlsKey ?? join(dir, 'key.pem'), '--tlskey');
  if (!o.tlsVerify) return { cert, key, minVersion: 'TLSv1.2' };
  const ca = readPem(o.tlsCaCert ?? join(dir, 'ca.pem'), '--tlscacert');
  return { cert, key, ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' };
}

/** Why the listeners must not start as configured (one line naming the flag), or undefined. */
export function exposureProblem(o: Options): string | undefined {
  if (o.insecureTcp) return undefined;
  const exposed = exposedPlaintext(o.hosts.map(parseHost), o.tlsVerify);
  if (exposed.length === 0) return undefined;
  const where = exposed.map(formatHost).join(', ');
  const how = o.tls ? 'with --tls but without --tlsverify (no client certificates)' : 'without TLS';
  return `refusing to listen on ${where} ${how}: anyone who reaches it controls every container and kuber-api's Kubernetes credentials. Listen on 127.0.0.1, use --tlsverify with --tlscacert/--tlscert/--tlskey, or pass --insecure-tcp to accept the risk`;
}
