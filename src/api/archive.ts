/**
 * @module api/archive
 * `docker cp` (moby api/server/router/container/copy.go; docker/cli cli/command/container/cp.go): HEAD answers 200 with
 * the `X-Docker-Container-Path-Stat` header, GET a tar stream (`application/x-tar`, the same header,
 * gzip/deflate when Accept-Encoding asks, as moby's writeCompressedResponse: Go clients ask for
 * gzip and decompress transparently), PUT extracts the body and answers 200 with no body
 * (dockerode's putArchive accepts 200 only). A missing `path` is moby's 400 "bad parameter:
 * pathcannot be empty" (sic: badParameterError concatenates without a space).
 */
import { createDeflateRaw, createGzip } from 'node:zlib';
import type { Writable } from 'node:stream';
import { invalid } from '../errors.js';
import { boolValue } from '../router/query.js';
import type { Request, Response } from '../http/index.js';
import { encodePathStat } from '../engine/archive/stat.js';
import type { ApiContext } from './context.js';

const STAT_HEADER = 'X-Docker-Container-Path-Stat';

function archiveParams(req: Request): { name: string; path: string } {
  const name = req.params['name'] ?? '';
  if (!name) throw invalid('bad parameter: namecannot be empty');
  const path = req.query.get('path') ?? '';
  if (!path) throw invalid('bad parameter: pathcannot be empty');
  // The path becomes an argument of tar, stat or sh run inside the container (pods/exec): execve
  // cannot carry a NUL byte, and the runtime's failure would read as a missing tool (moby's Go
  // syscalls refuse such a path too, EINVAL). Found by the bench fuzz (bench/reliability/fuzz.ts).
  if (path.includes('\0')) throw invalid(`bad parameter: path ${JSON.stringify(path)} contains a NUL byte`);
  return { name, path };
}

/** gddo NegotiateContentEncoding over the offers ["gzip", "deflate"]: the highest q wins, gzip on ties. */
export function negotiateEncoding(accept: string | undefined): 'gzip' | 'deflate' | undefined {
  if (!accept) return undefined;
  let best: 'gzip' | 'deflate' | undefined;
  let bestQ = 0;
  for (const part of accept.split(',')) {
    const [token, ...params] = part.trim().split(';');
    const name = token!.trim().toLowerCase();
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
      if (m) q = Number(m[1]);
    }
    const offers: Array<'gzip' | 'deflate'> =
      name === '*' ? ['gzip', 'deflate'] : name === 'gzip' || name === 'deflate' ? [name] : [];
    for (const o of offers)
      if (q > bestQ || (q === bestQ && q > 0 && best === 'deflate' && o === 'gzip')) {
        best = o;
        bestQ = q;
      }
  }
  return bestQ > 0 ? best : undefined;
}

/** HEAD /containers/{name}/archive?path= */
export async function headContainersArchive(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const { name, path } = archiveParams(req);
  const stat = await ctx.backend.statContainerPath(name, path);
  res.setHeader(STAT_HEADER, encodePathStat(stat));
  res.empty(200);
}

/** GET /containers/{name}/archive?path= */
export async function getContainersArchive(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const { name, path } = archiveParams(req);
  const abort = new AbortController();
  res.onClose(() => abort.abort());
  const archive = await ctx.backend.getContainerArchive(name, path, abort.signal);
  const encoding = negotiateEncoding(req.headers['accept-encoding']);
  const headers: Record<string, string> = {
    [STAT_HEADER]: encodePathStat(archive.stat),
    'Content-Type': 'application/x-tar',
  };
  if (encoding) headers['Content-Encoding'] = encoding;
  const out = res.stream(200, headers);
  // Fast compression: the archive is mostly on a local network; level 1 keeps kuber-api's CPU low.
  // "deflate" is raw DEFLATE (RFC 1951) as Go's compress/flate writes it in moby, not zlib-wrapped.
  const z =
    encoding === 'gzip'
      ? createGzip({ level: 1 })
      : encoding === 'deflate'
        ? createDeflateRaw({ level: 1 })
        : undefined;
  let sink: Writable = out;
  const finished = z
    ? new Promise<void>((resolve, reject) => {
        z.pipe(out, { end: false });
        z.on('end', resolve);
        z.on('error', reject);
      })
    : Promise.resolve();
  if (z) sink = z;
  abort.signal.addEventListener('abort', () => archive.abort(), { once: true });
  try {
    await archive.pipe(sink);
    if (z) {
      z.end();
      await finished;
    }
    out.end();
  } catch (err) {
    // The head is out: the only way left to say "failed" is to cut the stream before its last
    // chunk, so that the client reports an unexpected EOF instead of a short archive.
    archive.abort();
    if (!abort.signal.aborted)
      req.log.warn({ err: (err as Error).message, path }, 'docker cp from container failed after the response started');
    z?.destroy();
    res.closeConnection();
    req.socket.destroy();
  }
}

/** PUT /containers/{name}/archive?path=&noOverwriteDirNonDir=&copyUIDGID= with a tar body. */
export async function putContainersArchive(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const { name, path } = archiveParams(req);
  const q = req.query;
  await ctx.backend.putContainerArchive(
    name,
    path,
    { noOverwriteDirNonDir: boolValue(q, 'noOverwriteDirNonDir'), copyUIDGID: boolValue(q, 'copyUIDGID') },
    req.body,
  );
  res.empty(200);
}
