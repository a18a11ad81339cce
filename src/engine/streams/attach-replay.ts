/**
 * @module engine/streams/attach-replay
 * Joining a container log replay to a live pods/attach stream without duplicating bytes (pure).
 *
 * A TTY attach made before `docker start` must show the terminal's first byte (dockerd attaches
 * before the start: docker/cli cli/command/container/start.go),
 * but pods/attach only carries output produced after it was established. So the attach is opened
 * first and its output held back; then the log (everything the terminal printed so far) is read
 * and sent; then the held attach output is sent minus the bytes that the log already contained.
 * While this happens the client's stdin is held, so the program has no input to react to and
 * prints nothing but what it prints on its own.
 *
 * The bytes in both are a suffix of the log that is also a prefix of the attach output: the
 * longest such overlap is found with the Knuth-Morris-Pratt failure function of the attach head,
 * run over the log tail (linear time). A program that prints, on its own, exactly the bytes that
 * end its log again within the replay window would lose that repetition: the one case this cannot
 * tell apart (documented in src/ARCHITECTURE.md, "Stream guarantees").
 */

/** Longest k such that the last k bytes of `log` equal the first k bytes of `head`. */
export function overlapLength(log: Uint8Array, head: Uint8Array): number {
  const m = head.length;
  if (m === 0 || log.length === 0) return 0;
  // Only the last m bytes of the log can take part in the overlap.
  const start = Math.max(0, log.length - m);
  const fail = new Int32Array(m);
  for (let i = 1, k = 0; i < m; i++) {
    while (k > 0 && head[i] !== head[k]) k = fail[k - 1]!;
    if (head[i] === head[k]) k++;
    fail[i] = k;
  }
  let q = 0;
  for (let i = start; i < log.length; i++) {
    while (q > 0 && log[i] !== head[q]) q = fail[q - 1]!;
    if (log[i] === head[q]) q++;
    if (q === m && i < log.length - 1) q = fail[q - 1]!; // a full match not at the end: keep looking
  }
  return q;
}

/**
 * Collects the attach output that arrives while the log is replayed, bounded: past `limit` bytes
 * the caller pauses the attach WebSocket (backpressure), so memory stays bounded.
 */
export class ReplayJoin {
  private held: Buffer[] = [];
  private heldBytes = 0;

  constructor(readonly limit: number) {}

  /** Hold attach output; returns false once the limit is reached (pause the source). */
  hold(chunk: Buffer): boolean {
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    return this.heldBytes < this.limit;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  /**
   * The replay is done: `logTail` is the end of what the log held (at least `bytes` long when
   * the log was that long). Returns the held attach output minus the overlap, in order.
   */
  release(logTail: Uint8Array): Buffer[] {
    const all = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held, this.heldBytes);
    this.held = [];
    this.heldBytes = 0;
    const k = overlapLength(logTail, all);
    return k >= all.length ? [] : [k ? all.subarray(k) : all];
  }
}
