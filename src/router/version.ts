/**
 * @module router/version
 * API versions, as moby's middleware/version.go handles them: every route is served bare and
 * under `/v{version:[0-9.]+}`; a bare path speaks the default (= maximum) version; a version
 * outside [min, max] is a 400 with dockerd's exact wording; every routed response carries
 * `Server`, `Api-Version` and `Ostype` (and `Docker-Experimental` from the experimental
 * middleware, which runs after the version check).
 */
import { EngineError } from '../errors.js';
import { headerBlock, type HeaderBlock } from '../http/index.js';

const PREFIX = /^\/v([0-9.]+)(\/.*)$/;

/** Split `/v1.45/containers/json` into `1.45` and `/containers/json`; a bare path has no version. */
export function splitVersion(path: string): { version: string | undefined; rest: string } {
  if (path.length < 3 || path.charCodeAt(1) !== 0x76 /* v */) return { version: undefined, rest: path };
  const m = PREFIX.exec(path);
  return m ? { version: m[1], rest: m[2]! } : { version: undefined, rest: path };
}

/** moby api/types/versions.compare: dot-separated integers, missing parts are 0. */
export function compareVersions(a: string, b: string): number {
  const x = a.split('.');
  const y = b.split('.');
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const p = Number.parseInt(x[i] ?? '0', 10) || 0;
    const q = Number.parseInt(y[i] ?? '0', 10) || 0;
    if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}

export const versionLess = (a: string, b: string) => compareVersions(a, b) < 0;
export const versionAtLeast = (a: string, b: string) => compareVersions(a, b) >= 0;

/** The 400 moby's versionUnsupportedError gives, or undefined when `v` is accepted. */
export function checkVersion(v: string, min: string, max: string): EngineError | undefined {
  if (compareVersions(v, min) < 0)
    return new EngineError(
      'invalid',
      `client version ${v} is too old. Minimum supported API version is ${min}, please upgrade your client to a newer version`,
    );
  if (compareVersions(v, max) > 0)
    return new EngineError('invalid', `client version ${v} is too new. Maximum supported API version is ${max}`);
  return undefined;
}

export interface VersionHeaders {
  /** Server, Api-Version, Ostype: set before the version check (so its 400 carries them). */
  readonly base: HeaderBlock;
  /** base + Docker-Experimental: every response of an accepted version. */
  readonly full: HeaderBlock;
}

/** The middleware headers, serialised once (Go's canonical spelling, as dockerd sends them). */
export function versionHeaders(apiVersion: string, engineVersion: string): VersionHeaders {
  const base: [string, string][] = [
    ['Api-Version', apiVersion],
    ['Ostype', 'linux'],
    ['Server', `Docker/${engineVersion} (linux)`],
  ];
  return { base: headerBlock(base), full: headerBlock([...base, ['Docker-Experimental', 'false']]) };
}

/**
 * The Docker Engine release that advertises each API version (docs.docker.com "API version
 * matrix"); `/version` and the `Server` header report it so clients that gate on the engine
 * version behave as they would against that dockerd.
 */
const ENGINE_FOR_API: Record<string, string> = {
  '1.44': '25.0.5',
  '1.45': '26.1.4',
  '1.46': '27.1.1',
  '1.47': '27.5.1',
  '1.48': '28.0.4',
  '1.49': '28.1.1',
  '1.50': '28.2.2',
  '1.51': '28.3.3',
  '1.52': '29.0.0',
};

export function engineVersionFor(apiVersion: string): string {
  return ENGINE_FOR_API[apiVersion] ?? ENGINE_FOR_API['1.51']!;
}
