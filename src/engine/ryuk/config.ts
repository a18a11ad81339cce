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

/** Each variable, its field in Ryuk's config struct and the field's Go type (for env's error text). */
const DURATIONS = [
  ['RYUK_CONNECTION_TIMEOUT', 'connectionTimeoutMs', 'ConnectionTimeout'],
  ['RYUK_RECONNECTION_TIMEOUT', 'reconnectionTimeoutMs', 'ReconnectionTimeout'],
  ['RYUK_REQUEST_TIMEOUT', 'requestTimeoutMs', 'RequestTimeout'],
  ['RYUK_RETRY_OFFSET', 'retryOffsetMs', 'RetryOffset'],
  ['RYUK_CHANGES_RETRY_INTERVAL', 'changesRetryIntervalMs', 'ChangesRetryInterval'],
  ['RYUK_SHUTDOWN_TIMEOUT', 'shutdownTimeoutMs', 'ShutdownTimeout'],
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

/** caarlos0/env's ParseError, as Ryuk's loadConfig wraps it. */
const parseError = (field: string, type: string, why: string) =>
  new Error(`parse env: env: parse error on field "${field}" of type "${type}": ${why}`);

/**
 * Ryuk's configuration (config.go loadConfig, caarlos0/env): a value that does not parse fails
 * the start as Ryuk's does (the container then exits 1 with that error in its log).
 */
export function ryukConfig(env: readonly string[] | null | undefined): RyukConfig {
  const m = envMap(env);
  const cfg: RyukConfig = {
    connectionTimeoutMs: 60_000,
    reconnectionTimeoutMs: 10_000,
    requestTimeoutMs: 10_000,
    removeRetries: 10,
    retryOffsetMs: -1_000,
    changesRetryIntervalMs: 1_000,
    shutdownTimeoutMs: 600_000,
    port: 8080,
    verbose: false,
  };
  for (const [key, prop, field] of DURATIONS) {
    const v = m.get(key);
    if (v === undefined) continue;
    try {
      cfg[prop] = parseGoDuration(v);
    } catch (err) {
      throw parseError(field, 'time.Duration', `unable to parse duration: ${(err as Error).message}`);
    }
  }
  const port = m.get('RYUK_PORT');
  if (port !== undefined) {
    if (!/^\d+$/.test(port) || Number(port) > 65535)
      throw parseError(
        'Port',
        'uint16',
        `strconv.ParseUint: parsing ${JSON.stringify(port)}: ${/^\d+$/.test(port) ? 'value out of range' : 'invalid syntax'}`,
      );
    cfg.port = Number(port);
  }
  const retries = m.get('RYUK_REMOVE_RETRIES');
  if (retries !== undefined) {
    if (!/^[+-]?\d+$/.test(retries))
      throw parseError('RemoveRetries', 'int', `strconv.ParseInt: parsing ${JSON.stringify(retries)}: invalid syntax`);
    cfg.removeRetries = Number(retries);
  }
  const verbose = m.get('RYUK_VERBOSE');
  if (verbose !== undefined) {
    const b = (
      {
        '1': true,
        t: true,
        T: true,
        TRUE: true,
        true: true,
        True: true,
        '0': false,
        f: false,
        F: false,
        FALSE: false,
        false: false,
        False: false,
      } as Record<string, boolean>
    )[verbose];
    if (b === undefined)
      throw parseError('Verbose', 'bool', `strconv.ParseBool: parsing ${JSON.stringify(verbose)}: invalid syntax`);
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
