// metav1.Status bodies shaped exactly as k8s.io/apimachinery/pkg/api/errors builds them, because
// kubectl prints `message` verbatim and clients branch on `reason`, `code` and `details`.

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  /** Absent on a successful delete's Status, as the generic registry's finalizeDelete leaves it. */
  code?: number;
}

/** A failed API call: the HTTP code is status.code; headers go out with the response (Retry-After). */
export class ApiError extends Error {
  get code(): number {
    return this.status.code ?? 500;
  }

  constructor(
    readonly status: Status,
    readonly headers: Record<string, string> = {},
  ) {
    super(status.message ?? status.reason ?? `HTTP ${status.code ?? 500}`);
  }
}

/** A group and plural, as errors name them: `pods`, `destinationrules.networking.istio.io`. */
export interface GroupResource {
  group: string;
  resource: string;
}

export function qualifiedResource(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

function failure(code: number, reason: string, message: string, details?: StatusDetails): ApiError {
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) status.details = details;
  return new ApiError(status);
}

function resourceDetails(gr: GroupResource, name: string | undefined): StatusDetails {
  const details: StatusDetails = {};
  if (name) details.name = name;
  if (gr.group) details.group = gr.group;
  details.kind = gr.resource;
  return details;
}

export function notFound(gr: GroupResource, name: string): ApiError {
  return failure(404, 'NotFound', `${qualifiedResource(gr)} "${name}" not found`, resourceDetails(gr, name));
}

/** What the API server says for a path it does not serve (unknown group, version or resource). */
export function pathNotFound(): ApiError {
  return failure(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function alreadyExists(gr: GroupResource, name: string): ApiError {
  return failure(409, 'AlreadyExists', `${qualifiedResource(gr)} "${name}" already exists`, resourceDetails(gr, name));
}

export function conflict(gr: GroupResource, name: string, why: string): ApiError {
  return failure(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${why}`,
    resourceDetails(gr, name),
  );
}

export const MODIFIED_CONFLICT =
  'the object has been modified; please apply your changes to the latest version and try again';

/** A field error as field.Error renders it: `spec.containers: Required value`. */
export interface FieldError {
  type:
    | 'FieldValueRequired'
    | 'FieldValueInvalid'
    | 'FieldValueNotSupported'
    | 'FieldValueDuplicate'
    | 'FieldValueForbidden'
    | 'FieldValueTooLong';
  field: string;
  /** For Invalid / NotSupported / Duplicate: the offending value, rendered as Go's %#v would. */
  value?: string;
  detail?: string;
}

const TYPE_TEXT: Record<FieldError['type'], string> = {
  FieldValueRequired: 'Required value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
};

export function fieldErrorBody(e: FieldError): string {
  let body = TYPE_TEXT[e.type];
  if (e.value !== undefined) body += `: ${e.value}`;
  if (e.detail) body += `: ${e.detail}`;
  return body;
}

export function invalid(group: string, kind: string, name: string, errors: FieldError[]): ApiError {
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  const rendered = errors.map((e) => `${e.field}: ${fieldErrorBody(e)}`);
  const aggregate = rendered.length === 1 ? rendered[0] : `[${rendered.join(', ')}]`;
  const details: StatusDetails = {};
  if (name) details.name = name;
  if (group) details.group = group;
  details.kind = kind;
  details.causes = errors.map((e) => ({ reason: e.type, message: fieldErrorBody(e), field: e.field }));
  return failure(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${aggregate}`, details);
}

/** `gr` undefined: a non-resource path; the message then starts with "forbidden:". */
export function forbidden(gr: GroupResource | undefined, name: string | undefined, why: string): ApiError {
  if (!gr) return failure(403, 'Forbidden', `forbidden: ${why}`, {});
  const subject = name ? `${qualifiedResource(gr)} "${name}"` : qualifiedResource(gr);
  return failure(403, 'Forbidden', `${subject} is forbidden: ${why}`, resourceDetails(gr, name));
}

export function unauthorized(): ApiError {
  return failure(401, 'Unauthorized', 'Unauthorized');
}

export function badRequest(message: string): ApiError {
  return failure(400, 'BadRequest', message);
}

export function methodNotSupported(): ApiError {
  return failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
}

export function unsupportedMediaType(contentType: string): ApiError {
  return failure(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/apply-patch+yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got ${contentType})`,
  );
}

export function internalError(cause: string): ApiError {
  return failure(500, 'InternalError', `Internal error occurred: ${cause}`, { causes: [{ message: cause }] });
}

export function tooManyRequests(retryAfterSeconds: number): ApiError {
  const error = failure(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds });
  return new ApiError(error.status, { 'Retry-After': String(retryAfterSeconds) });
}

export function serviceUnavailable(message: string): ApiError {
  return failure(503, 'ServiceUnavailable', message);
}

export function timeout(message: string): ApiError {
  return failure(504, 'Timeout', message);
}

export function expired(message: string): ApiError {
  return failure(410, 'Expired', message);
}

export function success(details?: StatusDetails): Status {
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' };
  if (details) status.details = details;
  return status;
}
