/**
 * @module engine/backend/platform
 * The architecture kuber-api runs on, as Go names it (GOARCH): what `/version` reports as Arch and
 * what an image pull selects from a manifest index (OCI image-index platform.architecture).
 */

/** Go's GOARCH for Node's process.arch. */
const GOARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
};

/** GOARCH of this process (`amd64`, `arm64`...); Node's own name where Go has none. */
export function goArch(arch: string = process.arch): string {
  return GOARCH[arch] ?? arch;
}
