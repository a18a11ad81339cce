export async function loadBench(_argv: string[]): Promise<number> {
  return 2;
}
