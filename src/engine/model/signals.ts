/**
 * @module engine/model/signals
 * Signal names and numbers as Docker accepts them (moby pkg/signal ParseSignal: `SIGKILL`, `KILL`,
 * `kill`, `9`, `SIGRTMIN+3`), for the Linux table (x86-64/arm64 numbering).
 */
const TABLE: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  IOT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  STKFLT: 16,
  CHLD: 17,
  CONT: 18,
  STOP: 19,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  IO: 29,
  POLL: 29,
  PWR: 30,
  SYS: 31,
};
const BY_NUMBER = new Map<number, string>();
for (const [k, v] of Object.entries(TABLE)) if (!BY_NUMBER.has(v)) BY_NUMBER.set(v, k);
const RTMIN = 34,
  RTMAX = 64;

/** The signal number of a Docker signal string, or undefined if it is not a signal. */
export function signalNumber(sig: string): number | undefined {
  const s = sig.trim();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    return n >= 1 && n <= RTMAX ? n : undefined;
  }
  const name = s.toUpperCase().replace(/^SIG/, '');
  if (name in TABLE) return TABLE[name];
  const rt = /^RTMIN(?:\+(\d+))?$/.exec(name) ?? /^RTMAX(?:-(\d+))?$/.exec(name);
  if (rt) {
    const off = Number(rt[1] ?? 0);
    const n = name.startsWith('RTMIN') ? RTMIN + off : RTMAX - off;
    return n >= RTMIN && n <= RTMAX ? n : undefined;
  }
  return undefined;
}

/** The canonical `SIGNAME` of a Docker signal string (numbers too), or undefined. */
export function signalName(sig: string): string | undefined {
  const n = signalNumber(sig);
  if (n === undefined) return undefined;
  const base = BY_NUMBER.get(n);
  if (base) return `SIG${base}`;
  return n - RTMIN <= RTMAX - n ? `SIGRTMIN+${n - RTMIN}` : `SIGRTMAX-${RTMAX - n}`;
}
