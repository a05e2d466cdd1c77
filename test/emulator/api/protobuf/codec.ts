// Kubernetes' protobuf encoding of API objects (apimachinery v0.32.9, pkg/runtime/serializer/protobuf/protobuf.go):
// the 4-byte magic "k8s\0", then a runtime.Unknown whose typeMeta names apiVersion and kind and whose raw
// field is the object's own message (which has no TypeMeta). Objects come and go here in their JSON form,
// so the rest of the API server never sees protobuf.
import { EXTRA_VALUE, FIELDS_V1, KINDS, MESSAGES, TIME, type FieldDef } from './messages.js';
import { LENGTH_DELIMITED, Reader, signed, VARINT, WireError, Writer, type WireField } from './wire.js';

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Json = Record<string, unknown>;

/** A body that is not a Kubernetes protobuf object, or one whose message this emulator does not know. */
export class ProtobufError extends Error {
  constructor(
    message: string,
    /** What the envelope said, when it could be read. */
    readonly typeMeta?: { apiVersion: string; kind: string },
    /** The envelope was fine, the kind has no message here. */
    readonly unknownKind = false,
  ) {
    super(message);
  }
}

/** Whether this apiVersion/kind has a message here. */
export function knowsKind(apiVersion: string, kind: string): boolean {
  return KINDS[`${apiVersion}/${kind}`] !== undefined;
}

/** Decodes a protobuf request body into the object's JSON form (apiVersion and kind from the envelope). */
export function decodeObject(body: Uint8Array): Json {
  if (body.length < MAGIC.length || !MAGIC.equals(Buffer.from(body.subarray(0, MAGIC.length))))
    throw new ProtobufError(
      `provided data does not appear to be a protobuf message, expected prefix [${[...MAGIC].join(' ')}]`,
    );
  if (body.length === MAGIC.length) throw new ProtobufError('empty body');
  let unknown: Json;
  try {
    unknown = decodeMessage('runtime.Unknown', body.subarray(MAGIC.length), true);
  } catch (error) {
    throw new ProtobufError(error instanceof Error ? error.message : String(error));
  }
  const typeMeta = (unknown.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const apiVersion = typeMeta.apiVersion ?? '';
  const kind = typeMeta.kind ?? '';
  if (!kind) throw new ProtobufError("Object 'Kind' is missing in the protobuf envelope");
  const message = KINDS[`${apiVersion}/${kind}`];
  if (!message)
    throw new ProtobufError(
      `no protobuf message for ${apiVersion}/${kind} in the emulator`,
      { apiVersion, kind },
      true,
    );
  const raw = Buffer.from(String(unknown.raw ?? ''), 'base64');
  try {
    return { kind, apiVersion, ...decodeMessage(message, raw) };
  } catch (error) {
    throw new ProtobufError(error instanceof Error ? error.message : String(error), { apiVersion, kind });
  }
}

/**
 * Encodes an object (its JSON form) as the API server does for a client that prefers protobuf; undefined
 * when its kind has no message here or it holds a field the message lacks (the caller answers JSON then).
 */
export function encodeObject(obj: unknown): Buffer | undefined {
  if (!obj || typeof obj !== 'object') return undefined;
  const { apiVersion, kind, ...rest } = obj as Json;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return undefined;
  const message = KINDS[`${apiVersion}/${kind}`];
  if (!message) return undefined;
  let raw: Uint8Array;
  try {
    raw = encodeMessage(message, rest);
  } catch (error) {
    if (error instanceof ProtobufError) return undefined;
    throw error;
  }
  // The envelope as gogo-protobuf writes runtime.Unknown: every field, the empty strings too.
  const typeMeta = new Writer();
  typeMeta.stringField(1, apiVersion);
  typeMeta.stringField(2, kind);
  const unknown = new Writer();
  unknown.bytesField(1, typeMeta.finish());
  unknown.bytesField(2, raw);
  unknown.stringField(3, '');
  unknown.stringField(4, '');
  return Buffer.concat([MAGIC, unknown.finish()]);
}

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false;
}

/** `keepZero`: the envelope's own fields, which gogo always writes and which mean what they say. */
export function decodeMessage(name: string, bytes: Uint8Array, keepZero = false): Json {
  const def = MESSAGES[name];
  if (!def) throw new WireError(`no message ${name}`);
  const out: Json = {};
  const reader = new Reader(bytes);
  while (!reader.done) {
    const field = reader.field();
    const fd = def[field.number];
    if (!fd) continue; // an unknown field, skipped as every protobuf reader does
    const value = fd.map ? mapEntry(fd, field) : decodeValue(fd, field);
    if (fd.map) {
      const [k, v] = value as [string, unknown];
      ((out[fd.json] ??= {}) as Json)[k] = v;
    } else if (fd.repeated) ((out[fd.json] ??= []) as unknown[]).push(value);
    else out[fd.json] = value;
  }
  for (const [number, fd] of Object.entries(def)) {
    void number;
    const v = out[fd.json];
    if (v === undefined) continue;
    if (fd.type === TIME && v === null) delete out[fd.json];
    else if (!keepZero && !fd.pointer && !fd.repeated && !fd.map && isZero(v)) delete out[fd.json];
  }
  return out;
}

function mapEntry(fd: FieldDef, field: WireField): [string, unknown] {
  if (field.wireType !== LENGTH_DELIMITED || !field.bytes)
    throw new WireError(`${fd.json}: a map entry must be length-delimited`);
  const reader = new Reader(field.bytes);
  let key = '';
  let value: unknown = fd.type === 'string' || fd.type === 'bytes' ? '' : fd.type === EXTRA_VALUE ? [] : {};
  while (!reader.done) {
    const f = reader.field();
    if (f.number === 1) key = Buffer.from(f.bytes ?? []).toString('utf8');
    else if (f.number === 2) value = decodeValue({ json: fd.json, type: fd.type }, f);
  }
  return [key, value];
}

function decodeValue(fd: FieldDef, field: WireField): unknown {
  switch (fd.type) {
    case 'string':
      return Buffer.from(lengthDelimited(fd, field)).toString('utf8');
    case 'bytes':
      return Buffer.from(lengthDelimited(fd, field)).toString('base64');
    case 'bool':
      return varint(fd, field) !== 0n;
    case 'int32':
    case 'int64':
      return signed(varint(fd, field));
    case TIME: {
      const t = decodeMessage(TIME, lengthDelimited(fd, field), true);
      const seconds = Number(t.seconds ?? 0);
      const nanos = Number(t.nanos ?? 0);
      // metav1.Time's JSON form is RFC 3339 to the second; the zero time is null (left out).
      if (seconds === 0 && nanos === 0) return null;
      return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    }
    case FIELDS_V1: {
      const raw = decodeMessage(FIELDS_V1, lengthDelimited(fd, field), true).Raw;
      return JSON.parse(Buffer.from(String(raw ?? ''), 'base64').toString('utf8') || '{}') as unknown;
    }
    case EXTRA_VALUE:
      return decodeMessage(EXTRA_VALUE, lengthDelimited(fd, field)).items ?? [];
    default:
      return decodeMessage(fd.type, lengthDelimited(fd, field));
  }
}

function lengthDelimited(fd: FieldDef, field: WireField): Uint8Array {
  if (field.wireType !== LENGTH_DELIMITED || !field.bytes)
    throw new WireError(`${fd.json}: expected a length-delimited field, got wire type ${field.wireType}`);
  return field.bytes;
}

function varint(fd: FieldDef, field: WireField): bigint {
  if (field.wireType !== VARINT || field.varint === undefined)
    throw new WireError(`${fd.json}: expected a varint, got wire type ${field.wireType}`);
  return field.varint;
}

/** Fields in field-number order, map entries in key order, as the generated Marshal code writes them. */
export function encodeMessage(name: string, obj: Json): Uint8Array {
  const def = MESSAGES[name];
  if (!def) throw new ProtobufError(`no message ${name}`);
  const byJson = new Map(Object.entries(def).map(([n, fd]) => [fd.json, { number: Number(n), fd }]));
  for (const key of Object.keys(obj))
    if (!byJson.has(key) && obj[key] !== undefined) throw new ProtobufError(`${name} has no field ${key}`);
  const w = new Writer();
  for (const [n, fd] of Object.entries(def).sort(([a], [b]) => Number(a) - Number(b))) {
    const number = Number(n);
    const v = obj[fd.json];
    if (v === undefined || v === null) continue;
    if (fd.map) {
      if (typeof v !== 'object' || Array.isArray(v)) throw new ProtobufError(`${name}.${fd.json} is not a map`);
      for (const key of Object.keys(v).sort()) {
        const entry = new Writer();
        entry.stringField(1, key);
        encodeValue(entry, 2, { json: fd.json, type: fd.type }, (v as Json)[key], name);
        w.bytesField(number, entry.finish());
      }
    } else if (fd.repeated) {
      if (!Array.isArray(v)) throw new ProtobufError(`${name}.${fd.json} is not a list`);
      for (const item of v) encodeValue(w, number, fd, item, name);
    } else encodeValue(w, number, fd, v, name);
  }
  return w.finish();
}

function encodeValue(w: Writer, number: number, fd: FieldDef, v: unknown, parent: string): void {
  const wrong = (): never => {
    throw new ProtobufError(`${parent}.${fd.json}: ${JSON.stringify(v)} is not a ${fd.type}`);
  };
  switch (fd.type) {
    case 'string':
      return typeof v === 'string' ? w.stringField(number, v) : wrong();
    case 'bytes':
      return typeof v === 'string' ? w.bytesField(number, Buffer.from(v, 'base64')) : wrong();
    case 'bool':
      return typeof v === 'boolean' ? w.varintField(number, v) : wrong();
    case 'int32':
    case 'int64':
      return typeof v === 'number' && Number.isInteger(v) ? w.varintField(number, v) : wrong();
    case TIME: {
      const ms = typeof v === 'string' ? Date.parse(v) : NaN;
      if (Number.isNaN(ms)) return wrong();
      const t = new Writer();
      t.varintField(1, Math.floor(ms / 1000));
      t.varintField(2, (ms % 1000) * 1_000_000);
      return w.bytesField(number, t.finish());
    }
    case FIELDS_V1: {
      if (typeof v !== 'object') return wrong();
      const raw = new Writer();
      raw.bytesField(1, Buffer.from(JSON.stringify(v), 'utf8'));
      return w.bytesField(number, raw.finish());
    }
    case EXTRA_VALUE:
      if (!Array.isArray(v)) return wrong();
      return w.bytesField(number, encodeMessage(EXTRA_VALUE, { items: v }));
    default:
      if (typeof v !== 'object' || Array.isArray(v)) return wrong();
      return w.bytesField(number, encodeMessage(fd.type, v as Json));
  }
}
