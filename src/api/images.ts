/**
 * @module api/images
 * The image family (moby daemon/server/router/image/image_routes.go) on engine/image-service:
 * images are resolved against their registries and their configs kept in Kubernetes; the kubelet
 * pulls the layers. Pull progress is newline-delimited JSON, one whole message per write
 * (podman's StreamBufferedAPIHandler: some clients expect one record per read); an error before
 * the first message is an HTTP error, after it an `{"errorDetail":{"message":...},"error":...}`
 * line, as moby's `output.Flushed()` decides.
 */
import type { Writable } from 'node:stream';
import { invalid, notImplemented, statusFromError } from '../errors.js';
import { boolValue, filtersOf, stringValue } from '../router/query.js';
import type { Request, Response } from '../http/index.js';
import type { ApiContext } from './context.js';
import { authFromObject, decodeRegistryAuth } from '../engine/images/registry/auth.js';
import type { ProgressMessage } from '../engine/backend/backend.js';

const nameOf = (req: Request) => req.params['name'] ?? '';

/** GET /images/{name}/json: 404 "No such image: <name>" until the image is pulled or used. */
export async function getImagesByName(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  res.json(200, await ctx.backend.inspectImage(nameOf(req), req.apiVersion));
}

/** GET /images/{name}/history: from the image config kept in Kubernetes (engine/images/history.ts). */
export async function getImagesHistory(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  res.json(200, await ctx.backend.imageHistory(nameOf(req)));
}

/** GET /images/json?all=&filters=&digests= */
export async function getImagesJSON(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const filters = filtersOf(req.query);
  // API < 1.41 had `filter=<reference>` (moby image_routes.go getImagesJSON).
  const legacy = stringValue(req.query, 'filter');
  if (legacy) filters.reference = [...(filters.reference ?? []), legacy];
  res.json(200, await ctx.backend.listImages({ all: boolValue(req.query, 'all'), filters }, req.apiVersion));
}

/**
 * POST /images/create?fromImage=&tag=&platform= with `X-Registry-Auth`. `fromSrc` imports are not
 * possible without an image store.
 */
export async function postImagesCreate(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  req.body.resume();
  const q = req.query;
  if (stringValue(q, 'fromSrc'))
    throw notImplemented(
      'Image import is not supported by kuber-api: there is no image store; push the image to a registry the cluster can pull from',
    );
  const from = stringValue(q, 'fromImage');
  if (!from) throw invalid('fromImage or fromSrc is required');
  const tag = stringValue(q, 'tag');
  // The docker CLI and dockerode send the repository and the tag apart; a digest "tag" contains a
  // colon (moby: digest.Parse(tag) -> WithDigest(TrimNamed(ref)), else WithTag, replacing any tag).
  let ref = from;
  if (tag) {
    const repo = from.replace(/@.*$/, '').replace(/:[^:/]*$/, '');
    ref = tag.includes(':') ? `${repo}@${tag}` : `${repo}:${tag}`;
  }
  const auth = decodeRegistryAuth(req.headers['x-registry-auth']);
  let out: Writable | undefined;
  const write = (m: ProgressMessage | Record<string, unknown>) => {
    out ??= res.stream(200, { 'Content-Type': 'application/json' });
    out.write(JSON.stringify(m) + '\r\n');
  };
  try {
    await ctx.backend.pullImage(
      ref,
      { ...(auth ? { auth } : {}), ...(stringValue(q, 'platform') ? { platform: stringValue(q, 'platform') } : {}) },
      write,
    );
  } catch (err) {
    if (!out) throw err;
    const message = (err as Error).message;
    req.logs('info') &&
      req.log.info({ status: statusFromError(err), err: message }, 'pull failed after its progress started');
    write({ errorDetail: { message }, error: message });
  }
  out?.end();
}

/** POST /images/{name}/tag?repo=&tag= : 201 */
export async function postImagesTag(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const repo = stringValue(req.query, 'repo');
  if (!repo) throw invalid('repository name (repo) is required');
  await ctx.backend.tagImage(nameOf(req), repo, stringValue(req.query, 'tag'));
  res.empty(201);
}

/** DELETE /images/{name}?force=&noprune= : the untag/delete records. */
export async function deleteImages(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  res.json(
    200,
    await ctx.backend.removeImage(nameOf(req), {
      force: boolValue(req.query, 'force'),
      noprune: boolValue(req.query, 'noprune'),
    }),
  );
}

/** POST /images/prune?filters= */
export async function postImagesPrune(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  req.body.resume();
  res.json(200, await ctx.backend.pruneImages(filtersOf(req.query)));
}

/**
 * POST /auth (`docker login`; moby's system router, kept here with the registry code): the
 * credentials are checked against the registry and kept for the kubelet's pulls (an
 * imagePullSecrets Secret). 200 `{"Status":"Login Succeeded"}`; refused credentials are 401 with
 * moby's wording.
 */
export async function postAuth(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const body = await req.json<Record<string, unknown>>();
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalid('a JSON AuthConfig body is required');
  res.json(200, await ctx.backend.login(authFromObject(body)));
}
