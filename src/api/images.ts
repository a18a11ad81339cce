/**
 * @module api/images
 * A minimal image family (moby daemon/server/router/image/image_routes.go) for a server without
 * an image store: the kubelet pulls images when a container starts, so a "pull" only records the
 * reference and answers a well-formed progress stream. Enough for the inspect-then-pull dance of
 * testcontainers, Compose and docker-py, and for `docker pull`. The images issue will grow this
 * (registry lookups for real IDs and configs, ExposedPorts, image healthchecks).
 */
import { invalid, notImplemented } from '../errors.js';
import { boolValue, stringValue } from '../router/query.js';
import type { Request, Response } from '../http/index.js';
import type { ApiContext } from './context.js';

const nameOf = (req: Request) => req.params['name'] ?? '';

/** GET /images/{name}/json: 404 "No such image: <name>" until the image is pulled or used. */
export async function getImagesByName(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  res.json(200, await ctx.backend.inspectImage(nameOf(req), req.apiVersion));
}

/** GET /images/json */
export async function getImagesJSON(ctx: ApiContext, _req: Request, res: Response): Promise<void> {
  res.json(200, await ctx.backend.listImages());
}

/**
 * POST /images/create?fromImage=&tag=: a JSON progress stream, one object per write (podman's
 * StreamBufferedAPIHandler: some clients expect one record per read). `fromSrc` imports are not
 * possible without an image store.
 */
export async function postImagesCreate(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  req.body.resume();
  const q = req.query;
  if (stringValue(q, 'fromSrc')) throw notImplemented('Image import is not supported by kuber-api: there is no image store; push the image to a registry the cluster can pull from');
  const from = stringValue(q, 'fromImage');
  if (!from) throw invalid('fromImage or fromSrc is required');
  const tag = stringValue(q, 'tag');
  // dockerode splits repo and tag; the Go client may put a tag or digest in fromImage and the tag
  // parameter (a digest "tag" starts with sha256:).
  const ref = tag ? (tag.startsWith('sha256:') ? `${from}@${tag}` : `${from}:${tag}`) : from;
  const normalised = await ctx.backend.pullImage(ref);
  const out = res.stream(200, { 'Content-Type': 'application/json' });
  const idPart = normalised.includes('@') ? normalised.slice(normalised.indexOf('@') + 1) : normalised.slice(normalised.lastIndexOf(':') + 1);
  const repo = normalised.replace(/^docker\.io\//, '').replace(/[:@][^/]*$/, '');
  const lines = [
    { status: `Pulling from ${repo}`, id: idPart },
    { status: 'kuber-api does not pull: the kubelet pulls the image when a container starts' },
    { status: `Status: Image is up to date for ${normalised}` },
  ];
  for (const l of lines) out.write(JSON.stringify(l) + '\r\n');
  out.end();
}

/** POST /images/{name}/tag?repo=&tag= : 201 */
export async function postImagesTag(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const repo = stringValue(req.query, 'repo');
  if (!repo) throw invalid('repository name (repo) is required');
  const tag = stringValue(req.query, 'tag');
  await ctx.backend.tagImage(nameOf(req), tag ? `${repo}:${tag}` : repo);
  res.empty(201);
}

/** DELETE /images/{name}?force= : the untag/delete records. */
export async function deleteImages(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  res.json(200, await ctx.backend.removeImage(nameOf(req), boolValue(req.query, 'force')));
}
