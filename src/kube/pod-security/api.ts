/**
 * @module kube/pod-security/api
 * Pod Security levels, policy versions and the namespace labels that choose them, as
 * k8s.io/pod-security-admission/api (helpers.go, constants.go) defines them. Pure data and
 * parsing: no I/O.
 */

export type Level = 'privileged' | 'baseline' | 'restricted';
export const LEVELS: readonly Level[] = ['privileged', 'baseline', 'restricted'];

/** A policy version: `v1.<minor>` or `latest` (always newer than any numbered version). */
export type Version = { latest: true } | { latest: false; minor: number };
export const LATEST: Version = { latest: true };
export const v1 = (minor: number): Version => ({ latest: false, minor });

export interface LevelVersion {
  level: Level;
  version: Version;
}

export interface Policy {
  enforce: LevelVersion;
  audit: LevelVersion;
  warn: LevelVersion;
}

const PREFIX = 'pod-security.kubernetes.io/';
export const LABELS = {
  enforce: `${PREFIX}enforce`,
  enforceVersion: `${PREFIX}enforce-version`,
  audit: `${PREFIX}audit`,
  auditVersion: `${PREFIX}audit-version`,
  warn: `${PREFIX}warn`,
  warnVersion: `${PREFIX}warn-version`,
} as const;

export const versionString = (v: Version) => (v.latest ? 'latest' : `v1.${v.minor}`);
/** LevelVersion.String(): `baseline:latest`, `restricted:v1.29`. */
export const levelVersionString = (lv: LevelVersion) => `${lv.level}:${versionString(lv.version)}`;
export const older = (a: Version, b: Version) => !a.latest && (b.latest || a.minor < b.minor);

/** The built-in default when a namespace has no labels (PodSecurityConfiguration defaults). */
export const DEFAULT_POLICY: Policy = {
  enforce: { level: 'privileged', version: LATEST },
  audit: { level: 'privileged', version: LATEST },
  warn: { level: 'privileged', version: LATEST },
};

/** A label the admission refuses on a Namespace (field.Invalid). */
export interface LabelError {
  label: string;
  value: string;
  detail: string;
}

function parseLevel(v: string): Level | undefined {
  return (LEVELS as readonly string[]).includes(v) ? (v as Level) : undefined;
}

/** ParseVersion: "latest" or "v1.x". */
export function parseVersion(v: string): Version | undefined {
  if (v === 'latest') return LATEST;
  const m = /^v1\.([0-9]|[1-9][0-9]*)$/.exec(v);
  return m ? v1(Number(m[1])) : undefined;
}

const compareLevels = (a: Level, b: Level) => LEVELS.indexOf(a) - LEVELS.indexOf(b);

/**
 * PolicyToEvaluate: the namespace labels over the defaults. A bad enforce level means
 * `restricted` (fail closed), a bad audit/warn level `privileged` (fail open), a bad version
 * `latest`; the errors are returned too. A warn level left unset follows a stricter enforce level.
 */
export function policyFromLabels(
  labels: Record<string, string> | undefined,
  defaults: Policy = DEFAULT_POLICY,
): { policy: Policy; errors: LabelError[] } {
  const p: Policy = { enforce: { ...defaults.enforce }, audit: { ...defaults.audit }, warn: { ...defaults.warn } };
  const errors: LabelError[] = [];
  if (!labels || !Object.keys(labels).length) return { policy: p, errors };
  const levelErr = (label: string, value: string) =>
    errors.push({ label, value, detail: 'must be one of privileged, baseline, restricted' });
  const versionErr = (label: string, value: string) =>
    errors.push({ label, value, detail: 'must be "latest" or "v1.x"' });
  let hasEnforceLevel = false;
  const mode = (m: 'enforce' | 'audit' | 'warn', levelLabel: string, versionLabel: string, failLevel: Level) => {
    const lv = labels[levelLabel];
    if (lv !== undefined) {
      const l = parseLevel(lv);
      p[m].level = l ?? failLevel;
      if (!l) levelErr(levelLabel, lv);
      else if (m === 'enforce') hasEnforceLevel = true;
    }
    const vv = labels[versionLabel];
    if (vv !== undefined) {
      const v = parseVersion(vv);
      p[m].version = v ?? LATEST;
      if (!v) versionErr(versionLabel, vv);
    }
  };
  mode('enforce', LABELS.enforce, LABELS.enforceVersion, 'restricted');
  mode('audit', LABELS.audit, LABELS.auditVersion, 'privileged');
  mode('warn', LABELS.warn, LABELS.warnVersion, 'privileged');
  if (labels[LABELS.warn] === undefined && hasEnforceLevel && compareLevels(p.enforce.level, p.warn.level) > 0) {
    p.warn.level = p.enforce.level;
    if (labels[LABELS.warnVersion] === undefined) p.warn.version = p.enforce.version;
  }
  return { policy: p, errors };
}

export const fullyPrivileged = (p: Policy) =>
  p.enforce.level === 'privileged' && p.audit.level === 'privileged' && p.warn.level === 'privileged';
