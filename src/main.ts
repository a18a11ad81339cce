/** @module main — the Docker API server entry point (being built: issue 2). */
export async function main(_argv: string[]): Promise<void> {
  process.stderr.write('kuber-api: the server entry point is not built yet\n');
  process.exitCode = 1;
}
