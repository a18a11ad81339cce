/**
 * @module sim/status
 * metav1.Status errors as a real apiserver writes them (k8s.io/apimachinery/pkg/api/errors).
 */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'UnsupportedMediaType'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout';

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: Array<{ reason?: string; message?: string; field?: string }>;
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason | string;
  details?: StatusDetails;
  code?: number;
}

/** A thrown Status; the apiserver's error writer turns it into a response. */
export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }
  toStatus(): Status {
    const s: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) s.details = this.details;
    return s;
  }
}

/** `pods "x" not found` */
export const notFound = (resource: string, name: string, group = '') =>
  new StatusError(404, 'NotFound', `${group ? `${resource}.${group}` : resource} "${name}" not found`, {
    name,
    group: group || undefined,
    kind: resource,
  });
export const alreadyExists = (resource: string, name: string, group = '') =>
  new StatusError(409, 'AlreadyExists', `${group ? `${resource}.${group}` : resource} "${name}" already exists`, {
    name,
    group: group || undefined,
    kind: resource,
  });
export const conflict = (resource: string, name: string, why: string) =>
  new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${resource} "${name}": ${why}`, {
    name,
    kind: resource,
  });
export const badRequest = (message: string) => new StatusError(400, 'BadRequest', message);
export const invalid = (
  kind: string,
  name: string,
  causes: Array<{ field: string; message: string; reason?: string }>,
  group = '',
) =>
  // NewInvalid: the message names the GroupKind ("StorageClass.storage.k8s.io"), the details the kind
  // and group apart; field.ErrorList.ToAggregate().Error(): one error as is, several in brackets.
  new StatusError(
    422,
    'Invalid',
    `${group ? `${kind}.${group}` : kind} "${name}" is invalid: ${causes.length > 1 ? `[${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}]` : causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
    {
      name,
      group: group || undefined,
      kind,
      causes: causes.map((c) => ({ reason: c.reason ?? 'FieldValueInvalid', message: c.message, field: c.field })),
    },
  );
export const internal = (message: string) => new StatusError(500, 'InternalError', message);

/** Write a Status as an HTTP response. */
export function writeStatus(res: ServerResponse, err: StatusError): void {
  const body = JSON.stringify(err.toStatus());
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(err.code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-cache, private',
  });
  res.end(body);
}

/** Write a Status on a raw socket (before an upgrade completes) and close it. */
export function writeStatusOnSocket(socket: Duplex, err: StatusError): void {
  const body = JSON.stringify(err.toStatus());
  const text = STATUS_TEXT[err.code] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${err.code} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-cache, private\r\nConnection: close\r\n\r\n${body}`,
  );
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  410: 'Gone',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};
