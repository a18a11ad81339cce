/**
 * @module engine/ryuk/config
 * Which containers are Ryuk, and Ryuk's own configuration from the container's environment
 * (moby-ryuk config.go: RYUK_CONNECTION_TIMEOUT 60s, RYUK_RECONNECTION_TIMEOUT 10s,
 * RYUK_REQUEST_TIMEOUT 10s, RYUK_REMOVE_RETRIES 10, RYUK_RETRY_OFFSET -1s,
 * RYUK_CHANGES_RETRY_INTERVAL 1s, RYUK_SHUTDOWN_TIMEOUT 10m, RYUK_PORT 8080, RYUK_VERBOSE false;
 * durations in Go's syntax). These are Ryuk's documented defaults, the client's to change, not
 * kuber-api limits.
 */
import { parseRef } from '../model/image-ref.js';
import { formatGoDuration, parseGoDuration } from './go.js';

/** The label the Ryuk image carries (moby-ryuk linux/Dockerfile `LABEL org.testcontainers.ryuk=true`, consts.go ryukLabel). */
export const RYUK_LABEL = 'org.testcontainers.ryuk';

/**
 * Is `image` one of the repositories emulated in-process (`--ryuk-image`, default
 * `testcontainers/ryuk`)? Matched at a path-component boundary after any registry or mirror
 * prefix (TESTCONTAINERS_HUB_IMAGE_NAME_PREFIX, RYUK_CONTAINER_IMAGE pointing at a mirror),
 * whatever the tag or digest.
 */
export function isRyukImage(image: string | undefined, repositories: readonly string[]): boolean {
  if (!image || !repositories.length) return false;
  let path: string;
  try {
    const ref = parseRef(image);
    path = `${ref.domain}/${ref.path}`;
  } catch {
    return false;
  }
  return repositories.some((r) => {
    const repo = r.replace(/^\/+|\/+$/g, '');
    return repo !== '' && (path === repo || path.endsWith(`/${repo}`));
  });
}

/**
 * Ryuk before 0.10.0 logged with Go's `log` package (`2024/01/02 15:04:05 Started!`); from 0.10.0
 * on with log/slog (`time=... level=INFO msg=Started address=[::]:8080`). Clients wait for either
 * (testcontainers-node matches `.*Started.*`, testcontainers-python `.* Started!`), each with the
 * image version it pins, so the log follows the tag.
 */
export function legacyLog(image: string | undefined): boolean {
  try {
    const tag = parseRef(image ?? '').tag ?? '';
    const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(tag);
    return !!m && Number(m[1]) === 0 && Number(m[2]) < 10;
  } catch {
    return false;
  }
}

export interface RyukConfig {
  connectionTimeoutMs: number;
  reconnectionTimeoutMs: number;
  requestTimeoutMs: number;
  removeRetries: number;
  retryOffsetMs: number;
  changesRetryIntervalMs: number;
  shutdownTimeoutMs: number;
  port: number;
  verbose: boolean;
}

const DURATIONS = [
  ['RYUK_CONNECTION_TIMEOUT', 'connectionTimeoutMs', 60_000],
  ['RYUK_RECONNECTION_TIMEOUT', 'reconnectionTimeoutMs', 10_000],
  ['RYUK_REQUEST_TIMEOUT', 'requestTimeoutMs', 10_000],
  ['RYUK_RETRY_OFFSET', 'retryOffsetMs', -1_000],
  ['RYUK_CHANGES_RETRY_INTERVAL', 'changesRetryIntervalMs', 1_000],
  ['RYUK_SHUTDOWN_TIMEOUT', 'shutdownTimeoutMs', 600_000],
] as const;

/** The environment of a create body (`KEY=value` list), later entries winning as in a process environment. */
export function envMap(env: readonly string[] | null | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const i = e.indexOf('=');
    if (i > 0) m.set(e.slice(0, i), e.slice(i + 1));
  }
  return m;
}

/**
 * Ryuk's configuration (config.go loadConfig, caarlos0/env): a value that does not parse fails
 * the start as Ryuk's does, with `parse env: ...` (the container then exits 1).
 */
export function ryukConfig(env: readonly string[] | null | undefined): RyukConfig {
  const m = envMap(env);
  const cfg: RyukConfig = {
    connectionTimeoutMs: 60_000, reconnectionTimeoutMs: 10_000, requestTimeoutMs: 10_000, removeRetries: 10,
    retryOffsetMs: -1_000, changesRetryIntervalMs: 1_000, shutdownTimeoutMs: 600_000, port: 8080, verbose: false,
  };
  const fail = (key: string, value: string, why: string) => new Error(`parse env: env: parse error on field "${key}": ${why} (value ${JSON.stringify(value)})`);
  for (const [key, field] of DURATIONS) {
    const v = m.get(key);
    if (v === undefined) continue;
    try {
      cfg[field] = parseGoDuration(v);
    } catch (err) {
      throw fail(key, v, (err as Error).message);
    }
  }
  const int = (key: string, max: number): number | undefined => {
    const v = m.get(key);
    if (v === undefined) return undefined;
    if (!/^[+-]?\d+$/.test(v.trim()) || Number(v) < 0 || Number(v) > max) throw fail(key, v, `strconv.ParseUint: parsing ${JSON.stringify(v)}: invalid syntax`);
    return Number(v);
  };
  cfg.port = int('RYUK_PORT', 65535) ?? cfg.port;
  cfg.removeRetries = int('RYUK_REMOVE_RETRIES', 2 ** 31 - 1) ?? cfg.removeRetries;
  const verbose = m.get('RYUK_VERBOSE');
  if (verbose !== undefined) {
    const b = { '1': true, t: true, T: true, TRUE: true, true: true, True: true, '0': false, f: false, F: false, FALSE: false, false: false, False: false }[verbose];
    if (b === undefined) throw fail('RYUK_VERBOSE', verbose, `strconv.ParseBool: parsing ${JSON.stringify(verbose)}: invalid syntax`);
    cfg.verbose = b;
  }
  return cfg;
}

/** The attributes of Ryuk's `starting` line (config.go LogAttrs), in its order. */
export function configAttrs(c: RyukConfig): Array<[string, string]> {
  return [
    ['connection_timeout', formatGoDuration(c.connectionTimeoutMs)],
    ['reconnection_timeout', formatGoDuration(c.reconnectionTimeoutMs)],
    ['request_timeout', formatGoDuration(c.requestTimeoutMs)],
    ['shutdown_timeout', formatGoDuration(c.shutdownTimeoutMs)],
    ['remove_retries', String(c.removeRetries)],
    ['retry_offset', formatGoDuration(c.retryOffsetMs)],
    ['changes_retry_interval', formatGoDuration(c.changesRetryIntervalMs)],
    ['port', String(c.port)],
    ['verbose', String(c.verbose)],
  ];
}
