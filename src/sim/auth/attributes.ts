/**
 * @module sim/auth/attributes
 * What a request asks, as the authorizer sees it (apiserver/pkg/endpoints/request/requestinfo.go):
 * the verb from the method (list/watch/deletecollection on collections, the `watch` parameter and
 * the legacy /watch/ prefix), the namespace (a namespace's own name for /namespaces/<name>), the
 * `metadata.name` field selector of a list/watch as the name, and the 403 text of
 * apiserver/pkg/endpoints/handlers/responsewriters/errors.go (forbiddenMessage) wrapped as
 * apimachinery's NewForbidden does.
 */
import { StatusError } from '../status.js';
import { pinnedName } from '../store/selectors.js';
import type { ResourceDef } from '../store/resources.js';
import type { Attributes } from './rbac.js';
import type { UserInfo } from './user.js';

const WS_CREATE_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);

/**
 * A WebSocket exec/attach/portforward is a GET (verb `get`), though it starts a stream; with the
 * AuthorizePodWebsocketUpgradeCreatePermission gate (KEP-4006: beta and on by default only from
 * 1.35, so off in kube-sim's 1.33) the apiserver also asks for `create`. This gives that second check.
 */
export function websocketCreateCheck(a: Attributes): Attributes | undefined {
  if (
    !a.resourceRequest ||
    a.verb !== 'get' ||
    a.resource !== 'pods' ||
    !a.subresource ||
    !WS_CREATE_SUBRESOURCES.has(a.subresource)
  )
    return undefined;
  return { ...a, verb: 'create' };
}

/** The resource a request names (the apiserver router's ResourceRequest); undefined = a non-resource path. */
export interface ResourceTarget {
  def: ResourceDef;
  namespace?: string;
  name?: string;
  subresource?: string;
  legacyWatch: boolean;
}

export function attributesOf(user: UserInfo, target: ResourceTarget | undefined, method: string, url: URL): Attributes {
  if (!target) return { user, verb: method.toLowerCase(), resourceRequest: false, path: url.pathname };
  const { def, name, subresource } = target;
  let { namespace } = target;
  const q = url.searchParams;
  const watchParam = q.get('watch');
  const watch = target.legacyWatch || (watchParam !== null && watchParam !== 'false' && watchParam !== '0');
  let verb: string;
  switch (method) {
    case 'POST':
      verb = 'create';
      break;
    case 'GET':
    case 'HEAD':
      verb = watch ? 'watch' : name === undefined ? 'list' : 'get';
      break;
    case 'PUT':
      verb = 'update';
      break;
    case 'PATCH':
      verb = 'patch';
      break;
    case 'DELETE':
      verb = name === undefined ? 'deletecollection' : 'delete';
      break;
    default:
      verb = method.toLowerCase();
  }
  let n = name;
  if ((verb === 'list' || verb === 'watch') && n === undefined) n = pinnedName(q.get('fieldSelector'));
  if (def.resource === 'namespaces' && def.group === '' && name !== undefined) namespace = name;
  return {
    user,
    verb,
    resourceRequest: true,
    namespace,
    apiGroup: def.group,
    apiVersion: def.version,
    resource: def.resource,
    subresource,
    name: n,
  };
}

/** responsewriters.forbiddenMessage. */
export function forbiddenMessage(a: Attributes): string {
  const u = JSON.stringify(a.user.username);
  if (!a.resourceRequest) return `User ${u} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const where = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
  return `User ${u} cannot ${a.verb} resource ${JSON.stringify(res)} in API group ${JSON.stringify(a.apiGroup ?? '')} ${where}`;
}

/** apierrors.NewForbidden(groupResource, name, err). */
export function forbiddenError(
  group: string,
  resource: string,
  name: string | undefined,
  message: string,
): StatusError {
  const gr = resource ? (group ? `${resource}.${group}` : resource) : '';
  const text = !gr
    ? `forbidden: ${message}`
    : name
      ? `${gr} ${JSON.stringify(name)} is forbidden: ${message}`
      : `${gr} is forbidden: ${message}`;
  const details: Record<string, string> = {};
  if (name) details.name = name;
  if (group) details.group = group;
  if (resource) details.kind = resource;
  return new StatusError(403, 'Forbidden', text, details);
}

/** responsewriters.Forbidden: the message, then ": <reason>" when the authorizer gave one. */
export function forbidden(a: Attributes, reason: string): StatusError {
  const msg = forbiddenMessage(a);
  return forbiddenError(
    a.resourceRequest ? (a.apiGroup ?? '') : '',
    a.resourceRequest ? a.resource! : '',
    a.name,
    reason ? `${msg}: ${reason}` : msg,
  );
}
