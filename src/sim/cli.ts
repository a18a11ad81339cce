/** @module sim/cli — `kuber-api sim` (being built: issue 3). */
export async function main(_argv: string[]): Promise<void> {
  process.stderr.write('kuber-api sim: not built yet\n');
  process.exitCode = 1;
}
