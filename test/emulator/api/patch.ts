// The three PATCH flavours: JSON Patch (RFC 6902), JSON Merge Patch (RFC 7386) and an approximate
// strategic merge patch that knows the built-in types' list merge keys and the directives kubectl's
// three-way client-side apply sends ($patch, $setElementOrder, $retainKeys, $deleteFromPrimitiveList).
import { ApiError, badRequest, type Status } from './status.js';

type Json = unknown;
type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function patchError(message: string): ApiError {
  // apimachinery reports unappliable patches as a generic 422 with the patch library's message.
  const status: Status = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: 'Invalid',
    code: 422,
  };
  return new ApiError(status);
}

export function jsonMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = jsonMergePatch(result[key], value);
  }
  return result;
}

export function jsonPatch(target: Json, operations: Json): Json {
  if (!Array.isArray(operations))
    throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc = structuredClone(target);
  for (const raw of operations) {
    if (!isObject(raw)) throw patchError('invalid JSON patch operation');
    const op = raw as { op?: string; path?: string; value?: Json; from?: string };
    const path = op.path ?? '';
    switch (op.op) {
      case 'add':
        doc = setPointer(doc, path, structuredClone(op.value), 'add');
        break;
      case 'replace':
        getPointer(doc, path);
        doc = setPointer(doc, path, structuredClone(op.value), 'replace');
        break;
      case 'remove':
        doc = removePointer(doc, path);
        break;
      case 'move': {
        const value = getPointer(doc, op.from ?? '');
        doc = setPointer(removePointer(doc, op.from ?? ''), path, value, 'add');
        break;
      }
      case 'copy':
        doc = setPointer(doc, path, structuredClone(getPointer(doc, op.from ?? '')), 'add');
        break;
      case 'test':
        if (JSON.stringify(getPointer(doc, path)) !== JSON.stringify(op.value))
          throw patchError(`testing value ${path} failed: test failed`);
        break;
      default:
        throw patchError(`Unexpected kind: ${String(op.op)}`);
    }
  }
  return doc;
}

function pointerTokens(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw patchError(`JSON pointer must start with "/": ${pointer}`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function getPointer(doc: Json, pointer: string): Json {
  let cur: Json = doc;
  for (const token of pointerTokens(pointer)) {
    if (Array.isArray(cur)) cur = cur[Number(token)];
    else if (isObject(cur) && Object.hasOwn(cur, token)) cur = cur[token];
    else throw patchError(`doc is missing path: "${pointer}": missing value`);
    if (cur === undefined) throw patchError(`doc is missing path: "${pointer}": missing value`);
  }
  return cur;
}

function setPointer(doc: Json, pointer: string, value: Json, mode: 'add' | 'replace'): Json {
  const tokens = pointerTokens(pointer);
  const last = tokens.pop();
  if (last === undefined) return value;
  const parent = getPointer(doc, tokens.map((t) => `/${t.replace(/~/g, '~0').replace(/\//g, '~1')}`).join(''));
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(index) || index < 0 || index > parent.length)
      throw patchError(`add operation does not apply: doc is missing path: "${pointer}"`);
    if (mode === 'add') parent.splice(index, 0, value);
    else parent[index] = value;
  } else if (isObject(parent)) {
    parent[last] = value;
  } else throw patchError(`doc is missing path: "${pointer}"`);
  return doc;
}

function removePointer(doc: Json, pointer: string): Json {
  const tokens = pointerTokens(pointer);
  const last = tokens.pop();
  if (last === undefined) return undefined;
  getPointer(doc, pointer);
  const parent = getPointer(doc, tokens.map((t) => `/${t.replace(/~/g, '~0').replace(/\//g, '~1')}`).join(''));
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else if (isObject(parent)) delete parent[last];
  return doc;
}

/**
 * patchMergeKey of the built-in types' lists, by field name (the emulator does not carry the full
 * schemas; these names mean the same thing wherever they appear in the built-ins it serves).
 */
const MERGE_KEYS: Record<string, string | ((items: unknown[]) => string)> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name',
  conditions: 'type',
  ownerReferences: 'uid',
  secrets: 'name',
  webhooks: 'name',
  containerStatuses: 'name',
  // Service ports merge on `port`, container ports on `containerPort`.
  ports: (items) => (items.some((i) => isObject(i) && 'containerPort' in i) ? 'containerPort' : 'port'),
};

/** Lists of scalars that merge as sets rather than being replaced. */
const SET_LISTS = new Set(['finalizers']);

export function mergeKeyFor(field: string, items: unknown[]): string | undefined {
  const key = MERGE_KEYS[field];
  return typeof key === 'function' ? key(items) : key;
}

export function isSetList(field: string): boolean {
  return SET_LISTS.has(field);
}

export function strategicMergePatch(original: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  return mergeObject(isObject(original) ? original : {}, patch);
}

function mergeObject(original: JsonObject, patch: JsonObject): Json {
  if (patch.$patch === 'replace') {
    const { $patch: _ignored, ...rest } = patch;
    return stripDirectives(rest);
  }
  if (patch.$patch === 'delete') return undefined;
  const result: JsonObject = { ...original };
  const orders: Record<string, unknown[]> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys') continue;
    if (key.startsWith('$setElementOrder/')) {
      if (Array.isArray(value)) orders[key.slice('$setElementOrder/'.length)] = value;
      continue;
    }
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const current = result[field];
      if (Array.isArray(current) && Array.isArray(value)) result[field] = current.filter((v) => !value.includes(v));
      continue;
    }
    if (value === null) {
      delete result[key];
    } else if (Array.isArray(value)) {
      const merged = mergeList(key, result[key], value);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    } else if (isObject(value)) {
      const merged = mergeObject(isObject(result[key]) ? (result[key] as JsonObject) : {}, value);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    } else {
      result[key] = value;
    }
  }
  for (const [field, order] of Object.entries(orders)) {
    const list = result[field];
    if (Array.isArray(list)) result[field] = applyOrder(field, list, order);
  }
  if (Array.isArray(patch.$retainKeys)) {
    const keep = new Set(patch.$retainKeys as string[]);
    for (const key of Object.keys(result)) if (!keep.has(key) && !Object.hasOwn(patch, key)) delete result[key];
  }
  return result;
}

function mergeList(field: string, original: Json, patch: unknown[]): Json {
  const base = Array.isArray(original) ? original : [];
  if (isSetList(field)) {
    const out = [...base];
    for (const v of patch) if (!out.includes(v)) out.push(v);
    return out;
  }
  const key = mergeKeyFor(field, [...patch, ...base]);
  const replace = patch.some((i) => isObject(i) && i.$patch === 'replace');
  if (!key || replace) return patch.filter((i) => !(isObject(i) && i.$patch === 'replace')).map(stripDirectives);
  const out: unknown[] = base.map((i) => i);
  for (const item of patch) {
    if (!isObject(item)) continue;
    const index = out.findIndex((o) => isObject(o) && o[key] === item[key]);
    if (item.$patch === 'delete') {
      if (index !== -1) out.splice(index, 1);
    } else if (index === -1) {
      out.push(stripDirectives(item));
    } else {
      out[index] = mergeObject(out[index] as JsonObject, item);
    }
  }
  return out;
}

function applyOrder(field: string, list: unknown[], order: unknown[]): unknown[] {
  const key = mergeKeyFor(field, list);
  const id = (item: unknown): unknown => (key && isObject(item) ? item[key] : item);
  const wanted = order.map((o) => (key && isObject(o) ? o[key] : o));
  const ranked = list.map((item, i) => {
    const rank = wanted.indexOf(id(item));
    return { item, rank: rank === -1 ? wanted.length + i : rank };
  });
  return ranked.sort((a, b) => a.rank - b.rank).map((r) => r.item);
}

function stripDirectives(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) if (!k.startsWith('$')) out[k] = stripDirectives(v);
  return out;
}
