// Server-side apply, approximated: per-manager field ownership kept in metadata.managedFields
// (FieldsV1), apply conflicts when another manager owns a field with a different value, and removal of
// the fields an applier stopped sending. That last part matters to meshprobe: re-applying a policy
// without `portLevelMtls` must drop it, as on a real cluster, or the emulated mesh would keep it.
import { ApiError, type Status } from './status.js';
import { isObject, isSetList, mergeKeyFor } from './patch.js';

type JsonObject = Record<string, unknown>;

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: JsonObject;
  subresource?: string;
}

/** A field path as FieldsV1 keys: `f:spec`, `k:{"name":"app"}`, `v:"finalizer"`. */
type Path = string[];

const SEP = '\u0000';
const IDENTITY_METADATA = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
  'generateName',
]);

/** The leaf paths an object sets (status and identity metadata excluded, as the apply handler does). */
export function fieldPaths(obj: JsonObject, custom: boolean): Set<string> {
  const out = new Set<string>();
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'apiVersion' || key === 'kind' || key === 'status') continue;
    if (key === 'metadata' && isObject(value)) {
      for (const [mk, mv] of Object.entries(value)) {
        if (IDENTITY_METADATA.has(mk)) continue;
        // ObjectMeta follows the built-in list rules (ownerReferences by uid, finalizers as a set) in every type.
        walk(mv, [`f:metadata`, `f:${mk}`], mk, false, out);
      }
      continue;
    }
    walk(value, [`f:${key}`], key, custom, out);
  }
  return out;
}

function walk(value: unknown, path: Path, field: string, custom: boolean, out: Set<string>): void {
  if (Array.isArray(value)) {
    if (!custom && isSetList(field)) {
      for (const item of value) out.add([...path, `v:${JSON.stringify(item)}`].join(SEP));
      return;
    }
    const key = custom ? undefined : mergeKeyFor(field, value);
    if (!key || value.some((i) => !isObject(i) || i[key] === undefined)) {
      out.add(path.join(SEP));
      return;
    }
    for (const item of value as JsonObject[]) {
      const itemPath = [...path, `k:${JSON.stringify({ [key]: item[key] })}`];
      out.add([...itemPath, '.'].join(SEP));
      for (const [k, v] of Object.entries(item)) walk(v, [...itemPath, `f:${k}`], k, custom, out);
    }
    return;
  }
  if (isObject(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) walk(v, [...path, `f:${k}`], k, custom, out);
    return;
  }
  out.add(path.join(SEP));
}

export function toFieldsV1(paths: Iterable<string>): JsonObject {
  const root: JsonObject = {};
  for (const path of paths) {
    let node = root;
    for (const segment of path.split(SEP)) {
      if (!isObject(node[segment])) node[segment] = {};
      node = node[segment] as JsonObject;
    }
  }
  return root;
}

export function fromFieldsV1(tree: unknown): Set<string> {
  const out = new Set<string>();
  const visit = (node: unknown, path: Path): void => {
    const entries = isObject(node) ? Object.entries(node) : [];
    if (entries.length === 0) {
      if (path.length > 0) out.add(path.join(SEP));
      return;
    }
    for (const [k, v] of entries) visit(v, [...path, k]);
  };
  visit(tree, []);
  return out;
}

/** Where a path points in an object: the value, or undefined when absent. */
function valueAt(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const segment of path.split(SEP)) {
    if (segment === '.') return cur;
    if (segment.startsWith('f:')) {
      if (!isObject(cur)) return undefined;
      cur = cur[segment.slice(2)];
    } else if (segment.startsWith('k:')) {
      if (!Array.isArray(cur)) return undefined;
      const key = JSON.parse(segment.slice(2)) as JsonObject;
      cur = cur.find((item) => isObject(item) && Object.entries(key).every(([k, v]) => item[k] === v));
    } else if (segment.startsWith('v:')) {
      if (!Array.isArray(cur)) return undefined;
      const wanted = JSON.parse(segment.slice(2)) as unknown;
      return cur.includes(wanted) ? wanted : undefined;
    }
  }
  return cur;
}

function removeAt(obj: JsonObject, path: string): void {
  const segments = path.split(SEP);
  if (segments[segments.length - 1] === '.') segments.pop();
  const last = segments.pop();
  if (!last) return;
  const parent = valueAt(obj, segments.join(SEP));
  if (last.startsWith('f:') && isObject(parent)) {
    delete parent[last.slice(2)];
  } else if (last.startsWith('k:') && Array.isArray(parent)) {
    const key = JSON.parse(last.slice(2)) as JsonObject;
    const index = parent.findIndex((item) => isObject(item) && Object.entries(key).every(([k, v]) => item[k] === v));
    if (index !== -1) parent.splice(index, 1);
  } else if (last.startsWith('v:') && Array.isArray(parent)) {
    const index = parent.indexOf(JSON.parse(last.slice(2)));
    if (index !== -1) parent.splice(index, 1);
  }
  // Removing the last field of a map removes the map too, as structured-merge-diff prunes empty parents.
  if (
    segments.length > 0 &&
    isObject(valueAt(obj, segments.join(SEP))) &&
    Object.keys(valueAt(obj, segments.join(SEP)) as object).length === 0
  ) {
    removeAt(obj, segments.join(SEP));
  }
}

/** `.spec.template.spec.containers[name="app"].image`, as conflict messages render field paths. */
export function renderPath(path: string): string {
  return path
    .split(SEP)
    .filter((s) => s !== '.')
    .map((s) => {
      if (s.startsWith('f:')) return `.${s.slice(2)}`;
      if (s.startsWith('k:')) {
        const key = JSON.parse(s.slice(2)) as JsonObject;
        return `[${Object.entries(key)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(',')}]`;
      }
      return `[=${s.slice(2)}]`;
    })
    .join('');
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A keyed list item's own path (`.`) is about the item existing, not about its whole value. */
function samePathValue(a: unknown, b: unknown, path: string): boolean {
  if (path.endsWith(`${SEP}.`)) return valueAt(a, path) !== undefined && valueAt(b, path) !== undefined;
  return sameValue(valueAt(a, path), valueAt(b, path));
}

function readEntries(obj: JsonObject): ManagedFieldsEntry[] {
  const metadata = obj.metadata as { managedFields?: ManagedFieldsEntry[] } | undefined;
  return (metadata?.managedFields ?? []).map((e) => ({ ...e }));
}

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Merges applied configuration into the live object: maps merge, keyed built-in lists merge by key, other lists are replaced. */
function mergeApplied(live: unknown, config: unknown, field: string, custom: boolean): unknown {
  if (isObject(config)) {
    const out: JsonObject = isObject(live) ? { ...live } : {};
    for (const [k, v] of Object.entries(config)) out[k] = mergeApplied(out[k], v, k, custom);
    return out;
  }
  if (Array.isArray(config)) {
    if (custom || !Array.isArray(live)) return structuredClone(config);
    if (isSetList(field)) return [...live, ...config.filter((v) => !live.includes(v))];
    const key = mergeKeyFor(field, [...config, ...live]);
    if (!key) return structuredClone(config);
    const out = [...live];
    for (const item of config) {
      const index = out.findIndex((o) => isObject(o) && isObject(item) && o[key] === item[key]);
      if (index === -1) out.push(structuredClone(item));
      else out[index] = mergeApplied(out[index], item, '', custom);
    }
    return out;
  }
  return config;
}

export interface ApplyInput {
  live: JsonObject | undefined;
  config: JsonObject;
  manager: string;
  force: boolean;
  apiVersion: string;
  custom: boolean;
}

/** Returns the object to store (with managedFields), or throws the 409 apply conflict. */
export function serverSideApply(input: ApplyInput): JsonObject {
  const { live, config, manager, force, apiVersion, custom } = input;
  const configPaths = fieldPaths(config, custom);
  const entries = live ? readEntries(live) : [];
  const owned = entries.map((e) => ({ entry: e, paths: fromFieldsV1(e.fieldsV1) }));
  const mine = owned.find((o) => o.entry.manager === manager && o.entry.operation === 'Apply');
  const others = owned.filter((o) => o !== mine);

  if (live) {
    const conflicts: Array<{ manager: string; apiVersion: string; path: string }> = [];
    for (const other of others) {
      for (const path of configPaths) {
        if (other.paths.has(path) && !samePathValue(live, config, path)) {
          conflicts.push({ manager: other.entry.manager, apiVersion: other.entry.apiVersion, path });
        }
      }
    }
    if (conflicts.length > 0 && !force) throw applyConflict(conflicts);
    for (const c of conflicts) for (const o of others) if (o.entry.manager === c.manager) o.paths.delete(c.path);
  }

  const merged = (live ? mergeApplied(stripMeta(live), config, '', custom) : structuredClone(config)) as JsonObject;
  if (mine) {
    for (const path of mine.paths) {
      if (configPaths.has(path)) continue;
      if (others.some((o) => o.paths.has(path))) continue;
      removeAt(merged, path);
    }
  }

  const next: ManagedFieldsEntry[] = [];
  for (const o of others) {
    if (o.paths.size > 0) next.push({ ...o.entry, fieldsV1: toFieldsV1(o.paths) });
  }
  next.push({
    manager,
    operation: 'Apply',
    apiVersion,
    time: now(),
    fieldsType: 'FieldsV1',
    fieldsV1: toFieldsV1(configPaths),
  });
  (merged.metadata as JsonObject).managedFields = next;
  return merged;
}

/** Records an Update (create, replace, patch) by `manager`: it takes over every field it changed. */
export function trackUpdate(
  before: JsonObject | undefined,
  after: JsonObject,
  manager: string,
  apiVersion: string,
  custom: boolean,
): void {
  const afterPaths = fieldPaths(after, custom);
  const changed = new Set<string>();
  for (const p of afterPaths) if (!before || !samePathValue(before, after, p)) changed.add(p);
  const entries = before ? readEntries(before) : [];
  const next: ManagedFieldsEntry[] = [];
  let mine: Set<string> | undefined;
  for (const e of entries) {
    const paths = fromFieldsV1(e.fieldsV1);
    if (e.manager === manager && e.operation === 'Update') {
      mine = paths;
      continue;
    }
    for (const p of [...paths]) if (changed.has(p) || !afterPaths.has(p)) paths.delete(p);
    if (paths.size > 0) next.push({ ...e, fieldsV1: toFieldsV1(paths) });
  }
  const merged = new Set([...(mine ?? [])].filter((p) => afterPaths.has(p)));
  for (const p of changed) merged.add(p);
  if (merged.size > 0)
    next.push({
      manager,
      operation: 'Update',
      apiVersion,
      time: now(),
      fieldsType: 'FieldsV1',
      fieldsV1: toFieldsV1(merged),
    });
  (after.metadata as JsonObject).managedFields = next;
}

function stripMeta(obj: JsonObject): JsonObject {
  const copy = structuredClone(obj);
  delete (copy.metadata as JsonObject).managedFields;
  return copy;
}

function applyConflict(conflicts: Array<{ manager: string; apiVersion: string; path: string }>): ApiError {
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) {
    const key = `"${c.manager}" using ${c.apiVersion}`;
    byManager.set(key, [...(byManager.get(key) ?? []), renderPath(c.path)]);
  }
  const parts = [...byManager.entries()].map(([who, paths]) =>
    paths.length === 1
      ? `conflict with ${who}: ${paths[0]}`
      : `conflicts with ${who}:\n${paths.map((p) => `- ${p}`).join('\n')}`,
  );
  const n = conflicts.length;
  const status: Status = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `Apply failed with ${n} conflict${n === 1 ? '' : 's'}: ${parts.join('\n')}`,
    reason: 'Conflict',
    details: {
      causes: conflicts.map((c) => ({
        reason: 'FieldManagerConflict',
        message: `conflict with "${c.manager}" using ${c.apiVersion}`,
        field: renderPath(c.path),
      })),
    },
    code: 409,
  };
  return new ApiError(status);
}
