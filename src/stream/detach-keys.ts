/**
 * @module stream/detach-keys
 * Docker's detach key sequence (`--detach-keys`, default ctrl-p,ctrl-q): parsed exactly as moby's
 * `github.com/moby/term` `ToBytes` does, and scanned on a TTY session's stdin as moby's
 * `escapeProxy` does (the daemon's `copyEscapable`, used only with a TTY).
 */
import { Buffer } from 'node:buffer';
import { EngineError } from '../errors.js';

/** ctrl-p, ctrl-q: the default when the client names no keys (moby `defaultEscapeSequence`). */
export const DEFAULT_DETACH_KEYS: Buffer = Buffer.from([0x10, 0x11]);

// moby/term's ASCII table: index = the control code, so "ctrl-a" is 1 and "ctrl-@" is 0.
const CTRL = [
  '@',
  'a',
  'b',
  'c',
  'd',
  'e',
  'f',
  'g',
  'h',
  'i',
  'j',
  'k',
  'l',
  'm',
  'n',
  'o',
  'p',
  'q',
  'r',
  's',
  't',
  'u',
  'v',
  'w',
  'x',
  'y',
  'z',
  '[',
  '\\',
  ']',
  '^',
  '_',
];

/**
 * Parse a detach key spec such as `ctrl-p,ctrl-q`, `ctrl-a,x` or `ctrl-@,DEL`: comma-separated,
 * each either one byte taken literally, `ctrl-<c>` for c in a-z @ [ \ ] ^ _ (lower case only, no
 * spaces trimmed, as moby), or `DEL` (127). `undefined` or `''` gives the default.
 * Throws an invalid-parameter `EngineError` with dockerd's message
 * "Invalid detach keys (<spec>) provided" (moby `daemon/attach.go`).
 */
export function parseDetachKeys(spec: string | undefined): Buffer {
  if (spec === undefined || spec === '') return DEFAULT_DETACH_KEYS;
  const codes: number[] = [];
  for (const key of spec.split(',')) {
    // Go's len(key) counts bytes: a single multi-byte character is not "one key".
    if (Buffer.byteLength(key) === 1) {
      codes.push(key.charCodeAt(0));
      continue;
    }
    const i = key.startsWith('ctrl-') && key.length === 6 ? CTRL.indexOf(key[5]!) : -1;
    if (i >= 0) codes.push(i);
    else if (key === 'DEL') codes.push(127);
    else throw new EngineError('invalid', `Invalid detach keys (${spec}) provided`, { code: 'KAPI_ERR_DETACH_KEYS' });
  }
  return Buffer.from(codes);
}

/**
 * Finds the detach sequence in a byte stream split arbitrarily into chunks. Bytes that could be the
 * start of the sequence are held back; if the sequence breaks they are released in order, if it
 * completes they are swallowed and the scanner reports detach (bytes after it are dropped: the
 * session ends there).
 *
 * Matching follows moby/term `escapeProxy.Read`: on a mismatch the partial match is released and
 * the mismatching byte is *not* re-tried as the start of a new match, so with ctrl-p,ctrl-q the
 * input ctrl-p ctrl-p ctrl-q does not detach. The docker CLI scans its own stdin with the same
 * code, so the daemon and the CLI agree on what detaches.
 */
export class DetachScanner {
  readonly keys: Buffer;
  #pos = 0;
  #detached = false;

  constructor(keys: Buffer = DEFAULT_DETACH_KEYS) {
    this.keys = keys;
  }

  /** True once the full sequence was seen. */
  get detached(): boolean {
    return this.#detached;
  }

  /** Number of bytes held back (a partial match in progress). */
  get held(): number {
    return this.#pos;
  }

  /**
   * Scan `chunk`, calling `forward` with the bytes to pass on (views into `chunk`, or a copy of
   * held key bytes). Returns true when the sequence completed (then nothing after it is forwarded).
   */
  push(chunk: Buffer, forward: (b: Buffer) => void): boolean {
    if (this.#detached) return true;
    const keys = this.keys;
    const n = keys.length;
    if (n === 0) {
      if (chunk.length) forward(chunk);
      return false;
    }
    let pos = this.#pos;
    let heldPrev = pos; // key bytes matched in earlier chunks, not forwarded yet
    let matchStart = 0; // where the in-chunk part of the current match begins
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] === keys[pos]) {
        if (pos === 0) matchStart = i;
        if (++pos === n) {
          this.#pos = 0;
          this.#detached = true;
          if (heldPrev === 0 && matchStart > 0) forward(chunk.subarray(0, matchStart));
          return true;
        }
        continue;
      }
      if (pos > 0) {
        // The sequence broke: what was held from earlier chunks goes out first, in order; the
        // in-chunk part is still in `chunk` and goes out with it.
        if (heldPrev > 0) {
          forward(Buffer.from(keys.subarray(0, heldPrev)));
          heldPrev = 0;
        }
        pos = 0;
      }
    }
    this.#pos = pos;
    if (pos === 0) {
      if (chunk.length) forward(chunk);
    } else if (heldPrev === 0 && matchStart > 0) {
      // Hold back the tail that may start the sequence.
      forward(chunk.subarray(0, matchStart));
    }
    return false;
  }

  /**
   * The input ended: release a partial match (moby drops it; we pass it on so no typed byte is
   * lost). Calls `forward` at most once.
   */
  end(forward: (b: Buffer) => void): void {
    if (this.#detached || this.#pos === 0) return;
    const held = Buffer.from(this.keys.subarray(0, this.#pos));
    this.#pos = 0;
    forward(held);
  }
}
