/**
 * @module sim/apiserver/encoding
 * Content negotiation as the apiserver's serializer does it (apiserver/pkg/endpoints/handlers/
 * negotiation): the Accept list is tried in order; `as=Table` / `as=PartialObjectMetadata[List]`
 * transform the answer; the aggregated-discovery and protobuf types are not offered, so clients
 * that list json after them get json; nothing acceptable -> 406. Request bodies: JSON or YAML
 * (415 otherwise), 3 MiB at most as the apiserver's request size limit.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StatusError, badRequest } from '../status.js';
import { decodeProtobuf, PROTOBUF } from './protobuf.js';

export type Output =
  | { kind: 'json' }
  | { kind: 'yaml' }
  | { kind: 'table'; version: string }
  | { kind: 'partial'; version: string; list: boolean };

function parseMedia(s: string): { type: string; params: Record<string, string> } {
  const [type, ...ps] = s.split(';').map((x) => x.trim());
  const params: Record<string, string> = {};
  for (const p of ps) {
    const i = p.indexOf('=');
    if (i > 0)
      params[p.slice(0, i).trim().toLowerCase()] = p
        .slice(i + 1)
        .trim()
        .replace(/^"|"$/g, '');
  }
  return { type: (type ?? '').toLowerCase(), params };
}

/** Pick the output for a GET. `transformable`: Table/PartialObjectMetadata apply (get/list/watch). */
export function negotiate(accept: string | undefined, transformable: boolean): Output {
  if (!accept || !accept.trim()) return { kind: 'json' };
  for (const part of accept.split(',')) {
    const { type, params } = parseMedia(part);
    if (params.q === '0') continue;
    const json = type === 'application/json' || type === 'application/*' || type === '*/*';
    if (params.as) {
      if (!json || !transformable || params.g !== 'meta.k8s.io') continue;
      const version = params.v ?? 'v1';
      if (version !== 'v1' && version !== 'v1beta1') continue;
      if (params.as === 'Table') return { kind: 'table', version };
      if (params.as === 'PartialObjectMetadata' || params.as === 'PartialObjectMetadataList')
        return { kind: 'partial', version, list: params.as.endsWith('List') };
      continue;
    }
    if (json) return { kind: 'json' };
    if (type === 'application/yaml') return { kind: 'yaml' };
  }
  throw new StatusError(
    406,
    'NotAcceptable',
    'only the following media types are accepted: application/json, application/yaml',
  );
}

interface Yaml {
  load(s: string): unknown;
  dump(o: unknown, opts?: object): string;
}
let yamlMod: Yaml | undefined;
/** js-yaml (a dependency of @kubernetes/client-node), loaded only when YAML is asked for. */
async function yaml(): Promise<Yaml> {
  if (!yamlMod) {
    const m = (await import('js-yaml')) as unknown as { default?: Yaml } & Yaml;
    yamlMod = m.default ?? m;
  }
  return yamlMod;
}

/** Write an object in the negotiated encoding. */
export async function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  out: Output = { kind: 'json' },
  pretty = false,
): Promise<void> {
  let text: string;
  let type = 'application/json';
  if (out.kind === 'yaml') {
    text = (await yaml()).dump(body, { noRefs: true, lineWidth: -1 });
    type = 'application/yaml';
  } else text = pretty ? JSON.stringify(body, null, 2) + '\n' : JSON.stringify(body);
  if (out.kind === 'table' || out.kind === 'partial')
    type = `application/json;as=${out.kind === 'table' ? 'Table' : out.list ? 'PartialObjectMetadataList' : 'PartialObjectMetadata'};g=meta.k8s.io;v=${out.version}`;
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
  });
  res.end(text);
}

export const MAX_BODY = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit = MAX_BODY): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > limit)
      throw new StatusError(413, 'RequestEntityTooLarge' as never, 'Request entity too large: limit is 3145728');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

export const PATCH_TYPES: Record<string, 'json' | 'merge' | 'strategic' | 'apply'> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

/** Decode a request body of the given Content-Type (JSON, or YAML, of which JSON is a subset). */
export async function decodeBody(
  req: IncomingMessage,
  patch: boolean,
): Promise<{ body: unknown; patchType?: 'json' | 'merge' | 'strategic' | 'apply' }> {
  const ct = parseMedia(req.headers['content-type'] ?? '').type;
  let patchType: 'json' | 'merge' | 'strategic' | 'apply' | undefined;
  let isYaml = false;
  if (patch) {
    patchType = PATCH_TYPES[ct];
    if (!patchType)
      throw new StatusError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
      );
    isYaml = patchType === 'apply';
  } else if (ct === 'application/yaml') isYaml = true;
  else if (ct === PROTOBUF) return { body: decodeProtobuf(await readBody(req)) };
  else if (ct !== 'application/json' && ct !== '' && ct !== '*/*')
    throw new StatusError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`,
    );
  const raw = (await readBody(req)).toString('utf8');
  if (!raw.trim()) throw badRequest('the body of the request was empty');
  try {
    return { body: JSON.parse(raw), patchType };
  } catch (err) {
    if (!isYaml) throw badRequest(`the object provided is unrecognized (json: ${(err as Error).message})`);
  }
  try {
    return { body: (await yaml()).load(raw), patchType };
  } catch (err) {
    throw badRequest(`error converting YAML to JSON: ${(err as Error).message.split('\n')[0]}`);
  }
}
