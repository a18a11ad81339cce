/**
 * @module sim/apiserver/openapi-v2
 * /openapi/v2 as kubectl <= 1.27 reads it: a gnostic openapi_v2.Document in protobuf
 * (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`, google/gnostic
 * openapiv2/OpenAPIv2.proto), or JSON when asked for JSON. Like the v3 document it carries only
 * paths: every PATCH operation lists the `fieldValidation` query parameter and its
 * `x-kubernetes-group-version-kind`, which is what kubectl's QueryParamVerifier looks for to use
 * server-side field validation (kubectl/pkg/cmd/util ... resource/query_param_verifier.go).
 */
import { RESOURCES } from '../store/resources.js';
import { VERSION } from './discovery.js';

// -- a minimal protobuf writer
function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}
const field = (no: number, payload: Buffer) => Buffer.concat([varint(no * 8 + 2), varint(payload.length), payload]);
const str = (no: number, s: string) => field(no, Buffer.from(s, 'utf8'));
const msg = (no: number, ...parts: Buffer[]) => field(no, Buffer.concat(parts));

// Field numbers of OpenAPIv2.proto.
const queryParam = (name: string, type: string) =>
  // ParametersItem{parameter=1: Parameter{non_body_parameter=2: NonBodyParameter{query_parameter_sub_schema=3: {in=2, name=4, type=6}}}}
  msg(8, msg(1, msg(2, msg(3, str(2, 'query'), str(4, name), str(6, type)))));
const gvkExtension = (group: string, version: string, kind: string) =>
  // NamedAny{name=1, value=2: Any{yaml=2}}
  msg(
    13,
    str(1, 'x-kubernetes-group-version-kind'),
    msg(2, str(2, `group: "${group}"\nkind: ${kind}\nversion: ${version}\n`)),
  );

let cached: Buffer | undefined;
export function openapiV2Protobuf(): Buffer {
  if (cached) return cached;
  const paths: Buffer[] = [];
  for (const d of RESOURCES) {
    const base = d.group ? `/apis/${d.group}/${d.version}` : `/api/${d.version}`;
    const path = d.namespaced ? `${base}/namespaces/{namespace}/${d.resource}/{name}` : `${base}/${d.resource}/{name}`;
    // Operation: operation_id=5, parameters=8, vendor_extension=13
    const patch = Buffer.concat([
      str(5, `patch${d.kind}`),
      queryParam('dryRun', 'string'),
      queryParam('fieldManager', 'string'),
      queryParam('fieldValidation', 'string'),
      queryParam('force', 'boolean'),
      gvkExtension(d.group, d.version, d.kind),
    ]);
    // NamedPathItem{name=1, value=2: PathItem{patch=8}}
    paths.push(msg(2, str(1, path), msg(2, msg(8, patch))));
  }
  // Document{swagger=1, info=2{title=1, version=2}, paths=8}
  cached = Buffer.concat([str(1, '2.0'), msg(2, str(1, 'Kubernetes'), str(2, VERSION.gitVersion)), msg(8, ...paths)]);
  return cached;
}

export function openapiV2Json(): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const d of RESOURCES) {
    const base = d.group ? `/apis/${d.group}/${d.version}` : `/api/${d.version}`;
    const path = d.namespaced ? `${base}/namespaces/{namespace}/${d.resource}/{name}` : `${base}/${d.resource}/{name}`;
    paths[path] = {
      patch: {
        operationId: `patch${d.kind}`,
        parameters: ['dryRun', 'fieldManager', 'fieldValidation'].map((name) => ({
          uniqueItems: true,
          type: 'string',
          name,
          in: 'query',
        })),
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': { group: d.group, kind: d.kind, version: d.version },
      },
    };
  }
  return { swagger: '2.0', info: { title: 'Kubernetes', version: VERSION.gitVersion }, paths };
}
