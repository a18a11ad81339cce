/**
 * @module sim/apiserver/protobuf
 * Decoding of `application/vnd.kubernetes.protobuf` request bodies for the kinds kubectl 1.33's
 * typed `create` generators send that way (kubectl create namespace|configmap|secret|
 * serviceaccount|service|role|rolebinding|clusterrole|clusterrolebinding|quota, `create token`, and `kubectl auth can-i|whoami`). The envelope is "k8s\0" + runtime.Unknown
 * {typeMeta=1 {apiVersion=1, kind=2}, raw=2, contentEncoding=3, contentType=4}
 * (apimachinery/pkg/runtime/serializer/protobuf); `raw` is the object in the field numbering of
 * k8s.io/api/<group>/<version>/generated.proto. kube-sim answers in JSON (it offers no protobuf
 * output), which client-go accepts as the Accept list names json too.
 */
import { StatusError } from '../status.js';

type Kind = 's' | 'b' | 'i' | 'bool' | 'time' | 'ios' | 'map' | 'mapb' | 'mapq' | Schema;
interface Schema {
  [field: number]: [name: string, kind: Kind, repeated?: boolean];
}

const Time: Schema = { 1: ['seconds', 'i'], 2: ['nanos', 'i'] };
const OwnerReference: Schema = {
  1: ['kind', 's'],
  3: ['name', 's'],
  4: ['uid', 's'],
  5: ['apiVersion', 's'],
  6: ['controller', 'bool'],
  7: ['blockOwnerDeletion', 'bool'],
};
const ObjectMeta: Schema = {
  1: ['name', 's'],
  2: ['generateName', 's'],
  3: ['namespace', 's'],
  5: ['uid', 's'],
  6: ['resourceVersion', 's'],
  7: ['generation', 'i'],
  8: ['creationTimestamp', 'time'],
  9: ['deletionTimestamp', 'time'],
  10: ['deletionGracePeriodSeconds', 'i'],
  11: ['labels', 'map'],
  12: ['annotations', 'map'],
  13: ['ownerReferences', OwnerReference, true],
  14: ['finalizers', 's', true],
};
const ObjectReference: Schema = {
  1: ['kind', 's'],
  2: ['namespace', 's'],
  3: ['name', 's'],
  4: ['uid', 's'],
  5: ['apiVersion', 's'],
  6: ['resourceVersion', 's'],
  7: ['fieldPath', 's'],
};
const ServicePort: Schema = {
  1: ['name', 's'],
  2: ['protocol', 's'],
  3: ['port', 'i'],
  4: ['targetPort', 'ios'],
  5: ['nodePort', 'i'],
  6: ['appProtocol', 's'],
};
const ServiceSpec: Schema = {
  1: ['ports', ServicePort, true],
  2: ['selector', 'map'],
  3: ['clusterIP', 's'],
  4: ['type', 's'],
  5: ['externalIPs', 's', true],
  7: ['sessionAffinity', 's'],
  8: ['loadBalancerIP', 's'],
  9: ['loadBalancerSourceRanges', 's', true],
  10: ['externalName', 's'],
  11: ['externalTrafficPolicy', 's'],
  12: ['healthCheckNodePort', 'i'],
  13: ['publishNotReadyAddresses', 'bool'],
  17: ['ipFamilyPolicy', 's'],
  18: ['clusterIPs', 's', true],
  19: ['ipFamilies', 's', true],
  20: ['allocateLoadBalancerNodePorts', 'bool'],
  21: ['loadBalancerClass', 's'],
  22: ['internalTrafficPolicy', 's'],
};
const PolicyRule: Schema = {
  1: ['verbs', 's', true],
  2: ['apiGroups', 's', true],
  3: ['resources', 's', true],
  4: ['resourceNames', 's', true],
  5: ['nonResourceURLs', 's', true],
};

const ResourceAttributes: Schema = {
  1: ['namespace', 's'],
  2: ['verb', 's'],
  3: ['group', 's'],
  4: ['version', 's'],
  5: ['resource', 's'],
  6: ['subresource', 's'],
  7: ['name', 's'],
};

/** Kinds kube-sim decodes, by "apiVersion/kind". */
const KINDS: Record<string, Schema> = {
  'v1/Namespace': {
    1: ['metadata', ObjectMeta],
    2: ['spec', { 1: ['finalizers', 's', true] }],
    3: ['status', { 1: ['phase', 's'] }],
  },
  'v1/ConfigMap': {
    1: ['metadata', ObjectMeta],
    2: ['data', 'map'],
    3: ['binaryData', 'mapb'],
    4: ['immutable', 'bool'],
  },
  'v1/Secret': {
    1: ['metadata', ObjectMeta],
    2: ['data', 'mapb'],
    3: ['type', 's'],
    4: ['stringData', 'map'],
    5: ['immutable', 'bool'],
  },
  'v1/ServiceAccount': {
    1: ['metadata', ObjectMeta],
    2: ['secrets', ObjectReference, true],
    3: ['imagePullSecrets', { 1: ['name', 's'] }, true],
    4: ['automountServiceAccountToken', 'bool'],
  },
  'v1/Service': { 1: ['metadata', ObjectMeta], 2: ['spec', ServiceSpec], 3: ['status', {}] },
  'v1/ResourceQuota': {
    1: ['metadata', ObjectMeta],
    2: ['spec', { 1: ['hard', 'mapq'], 2: ['scopes', 's', true] }],
    3: ['status', {}],
  },
  'authorization.k8s.io/v1/SelfSubjectAccessReview': {
    1: ['metadata', ObjectMeta],
    2: [
      'spec',
      {
        1: ['resourceAttributes', ResourceAttributes],
        2: ['nonResourceAttributes', { 1: ['path', 's'], 2: ['verb', 's'] }],
      },
    ],
  },
  'authorization.k8s.io/v1/SelfSubjectRulesReview': {
    1: ['metadata', ObjectMeta],
    2: ['spec', { 1: ['namespace', 's'] }],
  },
  'authentication.k8s.io/v1/SelfSubjectReview': { 1: ['metadata', ObjectMeta] },
  'authentication.k8s.io/v1/TokenRequest': {
    1: ['metadata', ObjectMeta],
    2: [
      'spec',
      {
        1: ['audiences', 's', true],
        3: ['boundObjectRef', { 1: ['kind', 's'], 2: ['apiVersion', 's'], 3: ['name', 's'], 4: ['uid', 's'] }],
        4: ['expirationSeconds', 'i'],
      },
    ],
  },
  'rbac.authorization.k8s.io/v1/Role': { 1: ['metadata', ObjectMeta], 2: ['rules', PolicyRule, true] },
  'rbac.authorization.k8s.io/v1/RoleBinding': {
    1: ['metadata', ObjectMeta],
    2: ['subjects', { 1: ['kind', 's'], 2: ['apiGroup', 's'], 3: ['name', 's'], 4: ['namespace', 's'] }, true],
    3: ['roleRef', { 1: ['apiGroup', 's'], 2: ['kind', 's'], 3: ['name', 's'] }],
  },
  // kubectl create clusterrole|clusterrolebinding (k8s.io/api/rbac/v1/generated.proto).
  'rbac.authorization.k8s.io/v1/ClusterRole': {
    1: ['metadata', ObjectMeta],
    2: ['rules', PolicyRule, true],
    3: [
      'aggregationRule',
      {
        1: [
          'clusterRoleSelectors',
          {
            1: ['matchLabels', 'map'],
            2: ['matchExpressions', { 1: ['key', 's'], 2: ['operator', 's'], 3: ['values', 's', true] }, true],
          },
          true,
        ],
      },
    ],
  },
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': {
    1: ['metadata', ObjectMeta],
    2: ['subjects', { 1: ['kind', 's'], 2: ['apiGroup', 's'], 3: ['name', 's'], 4: ['namespace', 's'] }, true],
    3: ['roleRef', { 1: ['apiGroup', 's'], 2: ['kind', 's'], 3: ['name', 's'] }],
  },
};

/** *bool fields: present (even false) only when set. */
const POINTER_BOOLS = new Set([
  'immutable',
  'automountServiceAccountToken',
  'allocateLoadBalancerNodePorts',
  'controller',
  'blockOwnerDeletion',
]);

type Field = { no: number; wire: number; v: number | Buffer };

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): number => {
    let n = 0,
      mul = 1,
      b: number;
    do {
      if (i >= buf.length) throw new Error('truncated varint');
      b = buf[i++]!;
      n += (b & 0x7f) * mul;
      mul *= 128;
    } while (b & 0x80);
    return n;
  };
  while (i < buf.length) {
    const key = varint();
    const no = Math.floor(key / 8),
      wire = key & 7;
    if (wire === 0) out.push({ no, wire, v: varint() });
    else if (wire === 2) {
      const len = varint();
      if (i + len > buf.length) throw new Error('truncated field');
      out.push({ no, wire, v: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

/** Varints are int64 two's complement: values >= 2^63 are negative. */
const int = (v: number) => (v >= 2 ** 63 ? v - 2 ** 64 : v);
const rfc3339 = (secs: number) => new Date(secs * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

function decodeMessage(buf: Buffer, schema: Schema): Record<string, unknown> {
  const obj: Record<string, any> = {};
  for (const f of fields(buf)) {
    const spec = schema[f.no];
    if (!spec) continue;
    const [name, kind, repeated] = spec;
    let value: unknown;
    const bytes = f.v as Buffer;
    switch (kind) {
      case 's':
        value = bytes.toString('utf8');
        break;
      case 'b':
        value = bytes.toString('base64');
        break;
      case 'i':
        value = int(f.v as number);
        break;
      case 'bool':
        value = f.v === 1;
        break;
      case 'time': {
        const t = decodeMessage(bytes, Time);
        value = rfc3339(Number(t.seconds ?? 0));
        break;
      }
      case 'ios': {
        const t = decodeMessage(bytes, { 1: ['type', 'i'], 2: ['intVal', 'i'], 3: ['strVal', 's'] });
        value = t.type === 1 ? (t.strVal ?? '') : (t.intVal ?? 0);
        break;
      }
      case 'map':
      case 'mapb':
      case 'mapq': {
        const e = decodeMessage(bytes, {
          1: ['k', 's'],
          2: ['v', kind === 'map' ? 's' : kind === 'mapb' ? 'b' : { 1: ['string', 's'] }],
        });
        const m = (obj[name] ??= {});
        m[String(e.k ?? '')] = kind === 'mapq' ? ((e.v as Record<string, string>)?.string ?? '') : (e.v ?? '');
        continue;
      }
      default:
        value = decodeMessage(bytes, kind);
    }
    if (repeated) (obj[name] ??= []).push(value);
    // gogo-protobuf writes non-pointer Go fields even when empty; their JSON form omits them.
    else if (!(value === '' || value === 0 || (value === false && !POINTER_BOOLS.has(name)))) obj[name] = value;
  }
  return obj;
}

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Decode a protobuf request body into the JSON object it stands for; 415 for kinds not handled. */
export function decodeProtobuf(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC))
    throw new StatusError(400, 'BadRequest', 'the body of the request was not a protobuf object (no k8s magic prefix)');
  let env: Record<string, any>;
  try {
    env = decodeMessage(body.subarray(4), {
      1: ['typeMeta', { 1: ['apiVersion', 's'], 2: ['kind', 's'] }],
      2: ['raw', 'b'],
      3: ['contentEncoding', 's'],
      4: ['contentType', 's'],
    });
  } catch (err) {
    throw new StatusError(400, 'BadRequest', `the body of the request could not be decoded: ${(err as Error).message}`);
  }
  const apiVersion = env.typeMeta?.apiVersion ?? '';
  const kind = env.typeMeta?.kind ?? '';
  const schema = KINDS[`${apiVersion}/${kind}`];
  if (!schema) {
    throw new StatusError(
      415,
      'UnsupportedMediaType',
      `kube-sim decodes protobuf only for ${Object.keys(KINDS).join(', ')}; send ${apiVersion}/${kind} as application/json`,
    );
  }
  try {
    return { apiVersion, kind, ...decodeMessage(Buffer.from(env.raw ?? '', 'base64'), schema) };
  } catch (err) {
    throw new StatusError(400, 'BadRequest', `the body of the request could not be decoded: ${(err as Error).message}`);
  }
}
