// Request bodies and response encodings, negotiated as the API server does: JSON, YAML and (for the kinds in
// protobuf/messages.ts) protobuf, both ways. kubectl 1.32's typed commands (create namespace / secret /
// configmap / serviceaccount, auth can-i, auth whoami) send protobuf with
// `Accept: application/vnd.kubernetes.protobuf,application/json`, so they get protobuf back, as from a real
// server; a kind without a message here is answered in JSON, which that Accept allows.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { decodeObject, encodeObject, PROTOBUF, ProtobufError } from './protobuf/codec.js';
import { ApiError, badRequest, unsupportedMediaType } from './status.js';

const MAX_BODY = 3 * 1024 * 1024;

export type BodyPurpose = 'create' | 'update' | 'patch' | 'delete';

export function mediaType(header: string | undefined): string {
  return (header ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? 'application/json';
}

/** `into`: the kind the endpoint takes, named in a decoding error as the API server names it. */
export async function readBody(req: IncomingMessage, purpose: BodyPurpose, into = ''): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY)
      throw new ApiError({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Request entity too large: limit is 3145728',
        reason: 'RequestEntityTooLarge',
        code: 413,
      });
    chunks.push(chunk);
  }
  const bytes = Buffer.concat(chunks);
  const type = mediaType(req.headers['content-type']);
  if (bytes.length === 0 || (type !== PROTOBUF && bytes.toString('utf8').trim() === '')) {
    if (purpose === 'delete') return undefined;
    throw badRequest(`Object '' is missing in ''`);
  }
  if (type === PROTOBUF && purpose !== 'patch') {
    try {
      return decodeObject(bytes);
    } catch (error) {
      if (!(error instanceof ProtobufError)) throw error;
      // A kind without a message here is refused as a real server refuses protobuf for a custom resource.
      if (error.unknownKind) throw unsupportedMediaType(type);
      throw badRequest(undecodable(error, into, bytes));
    }
  }
  if (type.includes('protobuf') || type.includes('cbor')) throw unsupportedMediaType(type);
  const text = bytes.toString('utf8');
  try {
    if (type === 'application/yaml' || type === 'application/apply-patch+yaml') return parseYaml(text) as unknown;
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw badRequest(
      `error decoding ${purpose === 'patch' ? 'patch' : 'body'}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** apiserver/pkg/endpoints/handlers/rest.go transformDecodeError (and summarizeData). */
function undecodable(error: ProtobufError, into: string, body: Buffer): string {
  if (error.typeMeta) {
    const version = error.typeMeta.apiVersion.split('/').at(-1) ?? '';
    return `${error.typeMeta.kind} in version "${version}" cannot be handled as a ${into}: ${error.message}`;
  }
  const head = body.subarray(0, 30).toString('hex');
  return `the object provided is unrecognized (must be of type ${into}): ${error.message} (${head}${body.length > 30 ? ' ...' : ''})`;
}

/** The client's media types in its order of preference (q-values are not used by Kubernetes clients). */
function accepted(accept: string | undefined): string[] {
  return (accept ?? '')
    .split(',')
    .map((t) => mediaType(t))
    .filter((t) => t.length > 0);
}

export function sendObject(res: ServerResponse, code: number, body: unknown, accept: string | undefined): void {
  for (const type of accepted(accept)) {
    if (type === 'application/yaml') {
      res.writeHead(code, { 'Content-Type': 'application/yaml' });
      res.end(stringifyYaml(body));
      return;
    }
    if (type === PROTOBUF) {
      const encoded = encodeObject(body);
      if (!encoded) continue;
      res.writeHead(code, { 'Content-Type': PROTOBUF, 'Content-Length': encoded.length });
      res.end(encoded);
      return;
    }
    if (type === 'application/json' || type === '*/*' || type === 'application/*') break;
  }
  sendJson(res, code, body);
}

export function sendJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, error: unknown, accept: string | undefined): void {
  const apiError = error instanceof ApiError ? error : undefined;
  if (!apiError) console.error('emulator: unexpected error while serving a request:', error);
  const status = apiError?.status ?? {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${String(error)}`,
    reason: 'InternalError',
    code: 500,
  };
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const [k, v] of Object.entries(apiError?.headers ?? {})) res.setHeader(k, v);
  sendObject(res, status.code ?? 500, status, accept);
}
