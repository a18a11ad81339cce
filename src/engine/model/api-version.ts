/** @module engine/model/api-version — compare Docker API versions ("1.44" < "1.52") for version-gated fields. */
export function versionLess(a: string, b: string): boolean {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number);
  const [b1 = 0, b2 = 0] = b.split('.').map(Number);
  return a1 < b1 || (a1 === b1 && a2 < b2);
}
