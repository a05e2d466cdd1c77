// The write path of the emulated API server: create, replace, the patch flavours, server-side apply
// and delete, each with the API server's preconditions, defaulting, admission, validation, generation
// and managedFields bookkeeping. HTTP handlers and controllers both go through it.
import type { KubeObject } from '../contracts.js';
import { thaw, timestamp, type MemoryStore } from '../store.js';
import type { AdmissionPlugin } from './admission.js';
import { applyDefaults, qosClass } from './defaults.js';
import { serverSideApply, trackUpdate } from './managed-fields.js';
import { randomSuffix } from './names.js';
import { isObject, jsonMergePatch, jsonPatch, strategicMergePatch } from './patch.js';
import { apiVersionOf, type ResourceType } from './resources.js';
import {
  alreadyExists,
  badRequest,
  conflict,
  internalError,
  invalid,
  MODIFIED_CONFLICT,
  notFound,
  success,
  unsupportedMediaType,
  type FieldError,
  type Status,
} from './status.js';
import { sortKeys, validateObject } from './validation.js';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export const PATCH_CONTENT_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
  'application/apply-patch+cbor': 'apply',
};

export interface WriteOptions {
  /** The field manager (query `fieldManager`, else the User-Agent's product, as the API server derives it). */
  manager: string;
  dryRun?: boolean;
  /** The version the client addressed; managedFields record it. */
  version: string;
  subresource?: string;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface DeleteResult {
  /** The body to answer with: the object (still terminating, or deleted for returnDeletedObject types) or a Status. */
  body: KubeObject | Status;
  /** The object as deleted or marked for deletion. */
  object: KubeObject;
}

const GENERATION_TRACKED = new Set(['apps', 'apiextensions.k8s.io', 'admissionregistration.k8s.io']);

function tracksGeneration(type: ResourceType): boolean {
  return type.custom || GENERATION_TRACKED.has(type.group);
}

/** What counts as the "spec" for generation: everything but metadata and status (CRs), else spec. */
function specOf(type: ResourceType, obj: KubeObject): string {
  if (!type.custom) return JSON.stringify(sortKeys(obj.spec ?? null));
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return JSON.stringify(sortKeys(rest));
}

/** Equality that ignores what the store stamps, so a no-op write does not bump resourceVersion. */
function sameContent(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject): unknown => {
    const copy = structuredClone(o) as KubeObject;
    delete copy.metadata.resourceVersion;
    for (const e of (copy.metadata.managedFields ?? []) as Array<{ time?: string }>) delete e.time;
    return sortKeys(copy);
  };
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

export class ObjectService {
  private readonly admission: AdmissionPlugin[] = [];

  constructor(private readonly store: MemoryStore) {}

  addAdmission(plugin: AdmissionPlugin): void {
    this.admission.push(plugin);
  }

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const obj = this.store.get(type.group, type.resource, type.namespaced ? namespace : undefined, name);
    if (!obj) throw notFound(type, name);
    return obj;
  }

  find(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.store.get(type.group, type.resource, type.namespaced ? namespace : undefined, name);
  }

  create(type: ResourceType, namespace: string | undefined, body: unknown, options: WriteOptions): KubeObject {
    const obj = this.prepareNew(type, namespace, body, options.version);
    if (options.manager)
      trackUpdate(undefined, obj as never, options.manager, apiVersionOf(type.group, options.version), type.custom);
    return this.admitAndStoreNew(type, obj, options);
  }

  /** PUT: replaces the object (or, with subresource 'status' / 'finalize', only that part). */
  update(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    body: unknown,
    options: WriteOptions,
  ): KubeObject {
    const incoming = this.decode(type, body, options.version);
    if (incoming.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${incoming.metadata.name ?? ''}) does not match the name on the URL (${name})`,
      );
    }
    this.checkNamespace(type, namespace, incoming);
    const live = this.get(type, namespace, name);
    const rv = incoming.metadata.resourceVersion;
    if (rv && rv !== live.metadata.resourceVersion) throw conflict(type, name, MODIFIED_CONFLICT);
    return this.commitUpdate(type, live, incoming, options);
  }

  patch(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    patchType: PatchType,
    patch: unknown,
    options: WriteOptions & { force?: boolean },
  ): { object: KubeObject; created: boolean } {
    if (patchType === 'strategic' && type.custom) throw unsupportedMediaType('application/strategic-merge-patch+json');
    if (patchType === 'apply') return this.apply(type, namespace, name, patch, options);
    if (options.force !== undefined) {
      throw invalid('meta.k8s.io', 'PatchOptions', '', [
        { type: 'FieldValueForbidden', field: 'force', detail: 'may not be specified for non-apply patch' },
      ]);
    }
    const live = this.get(type, namespace, name);
    const current = thaw(live) as unknown;
    let patched: unknown;
    if (patchType === 'json') patched = jsonPatch(current, patch);
    else if (patchType === 'merge') patched = jsonMergePatch(current, patch);
    else patched = strategicMergePatch(current, patch);
    if (!isObject(patched)) throw badRequest('the patch did not produce an object');
    const next = thaw(patched) as unknown as KubeObject;
    if (!isObject(next.metadata)) throw badRequest('the patch removed metadata');
    if (next.metadata.name !== name)
      throw badRequest(
        `the name of the object (${String(next.metadata.name)}) does not match the name on the URL (${name})`,
      );
    const rv = next.metadata.resourceVersion;
    if (rv && rv !== live.metadata.resourceVersion) throw conflict(type, name, MODIFIED_CONFLICT);
    return { object: this.commitUpdate(type, live, next, options), created: false };
  }

  delete(type: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions): DeleteResult {
    const live = this.get(type, namespace, name);
    const pre = options.preconditions ?? {};
    if (pre.uid && pre.uid !== live.metadata.uid) {
      throw conflict(
        type,
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${live.metadata.uid ?? ''}`,
      );
    }
    if (pre.resourceVersion && pre.resourceVersion !== live.metadata.resourceVersion) {
      throw conflict(
        type,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${live.metadata.resourceVersion ?? ''}`,
      );
    }
    if (options.propagationPolicy === 'Orphan' && !options.dryRun) this.orphanDependents(live);
    if (options.propagationPolicy === 'Foreground' && !options.dryRun) this.deleteDependents(live);

    const finalizers = live.metadata.finalizers ?? [];
    const isPod = type.group === '' && type.resource === 'pods';
    const isNamespace = type.group === '' && type.resource === 'namespaces';
    const grace = isPod ? this.podGracePeriod(live, options.gracePeriodSeconds) : 0;
    if (isNamespace || finalizers.length > 0 || grace > 0) {
      // Deletion starts; the namespace controller, whoever owns the finalizers, or the kubelet finishes it.
      const marked = thaw(live);
      if (
        !marked.metadata.deletionTimestamp ||
        (isPod && grace < Number(marked.metadata.deletionGracePeriodSeconds ?? Infinity))
      ) {
        marked.metadata.deletionTimestamp = timestamp(new Date(Date.now() + grace * 1000));
        marked.metadata.deletionGracePeriodSeconds = grace;
      }
      if (isNamespace) marked.status = { ...(isObject(marked.status) ? marked.status : {}), phase: 'Terminating' };
      const stored =
        options.dryRun || sameContent(live, marked) ? marked : this.store.put(type.group, type.resource, marked);
      return { body: stored, object: stored };
    }
    if (!options.dryRun) this.store.remove(type.group, type.resource, live.metadata.namespace, name);
    const gone = options.dryRun
      ? live
      : { ...live, metadata: { ...live.metadata, resourceVersion: String(this.store.resourceVersion) } };
    if (type.returnDeletedObject) return { body: gone, object: gone };
    const details: { name: string; group?: string; kind: string; uid?: string } = { name, kind: type.resource };
    if (type.group) details.group = type.group;
    if (live.metadata.uid) details.uid = live.metadata.uid;
    return { body: success(details), object: gone };
  }

  /** Completes a deletion whose finalizers are gone (namespaces, finalized objects, terminated pods). */
  finishDeletion(type: ResourceType, obj: KubeObject): void {
    if (this.store.get(type.group, type.resource, obj.metadata.namespace, obj.metadata.name)) {
      this.store.remove(type.group, type.resource, obj.metadata.namespace, obj.metadata.name);
    }
  }

  private podGracePeriod(pod: KubeObject, requested: number | undefined): number {
    // A pod that never reached a node has nothing to stop: it goes at once, as the API server does.
    if (!(pod.spec as { nodeName?: string } | undefined)?.nodeName) return 0;
    const spec = pod.spec as { terminationGracePeriodSeconds?: number } | undefined;
    const grace = requested ?? spec?.terminationGracePeriodSeconds ?? 30;
    // A negative or zero grace period is an immediate deletion; 1 s is the shortest graceful one.
    return grace <= 0 ? 0 : grace;
  }

  private apply(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    body: unknown,
    options: WriteOptions & { force?: boolean },
  ): { object: KubeObject; created: boolean } {
    if (!options.manager) {
      throw invalid('meta.k8s.io', 'PatchOptions', '', [
        { type: 'FieldValueRequired', field: 'fieldManager', detail: 'is required for apply patch' },
      ]);
    }
    if (!isObject(body)) throw badRequest('error decoding YAML: the applied configuration is not an object');
    const config = thaw(body) as unknown as KubeObject;
    const errors: FieldError[] = [];
    if (!config.apiVersion)
      errors.push({ type: 'FieldValueRequired', field: 'apiVersion', detail: 'apiVersion must be set' });
    if (!config.kind) errors.push({ type: 'FieldValueRequired', field: 'kind', detail: 'kind must be set' });
    if (errors.length > 0) throw invalid(type.group, type.kind, name, errors);
    config.metadata = isObject(config.metadata) ? config.metadata : { name };
    if (config.metadata.name && config.metadata.name !== name) {
      throw badRequest(`the name of the object (${config.metadata.name}) does not match the name on the URL (${name})`);
    }
    config.metadata.name = name;
    this.checkNamespace(type, namespace, config);
    const apiVersion = apiVersionOf(type.group, options.version);
    const live = this.find(type, namespace, name);
    const merged = serverSideApply({
      live: live as never,
      config: config as never,
      manager: options.manager,
      force: options.force ?? false,
      apiVersion,
      custom: type.custom,
    }) as unknown as KubeObject;
    if (!live) {
      const fresh = this.prepareNew(type, namespace, merged, options.version);
      fresh.metadata.managedFields = merged.metadata.managedFields;
      return { object: this.admitAndStoreNew(type, fresh, options), created: true };
    }
    return { object: this.commitUpdate(type, live, merged, { ...options, manager: '' }), created: false };
  }

  /** Checks and normalizes a body for create: kind, namespace, server-owned metadata, generated name. */
  private prepareNew(type: ResourceType, namespace: string | undefined, body: unknown, version: string): KubeObject {
    const obj = this.decode(type, body, version);
    this.checkNamespace(type, namespace, obj);
    if (obj.metadata.resourceVersion) throw internalError('resourceVersion should not be set on objects to be created');
    // Where status has its own subresource, a create cannot set it (the strategies' PrepareForCreate).
    if (type.subresources.some((s) => s.name === 'status')) delete obj.status;
    delete obj.metadata.uid;
    delete obj.metadata.deletionTimestamp;
    delete obj.metadata.deletionGracePeriodSeconds;
    delete obj.metadata.managedFields;
    obj.metadata.creationTimestamp = timestamp();
    if (!obj.metadata.name && typeof obj.metadata.generateName === 'string' && obj.metadata.generateName) {
      obj.metadata.name = this.generateName(type, obj.metadata.namespace, obj.metadata.generateName);
    }
    if (tracksGeneration(type)) obj.metadata.generation = 1;
    else delete obj.metadata.generation;
    return obj;
  }

  private generateName(type: ResourceType, namespace: string | undefined, prefix: string): string {
    for (;;) {
      const name = `${prefix}${randomSuffix(5)}`;
      if (!this.store.get(type.group, type.resource, namespace, name)) return name;
    }
  }

  private admitAndStoreNew(type: ResourceType, obj: KubeObject, options: WriteOptions): KubeObject {
    applyDefaults(type.group, type.resource, obj, true);
    for (const plugin of this.admission)
      plugin.admit({ operation: 'CREATE', type, object: obj, old: undefined, dryRun: options.dryRun ?? false });
    if (type.group === '' && type.resource === 'pods')
      obj.status = { phase: 'Pending', qosClass: qosClass((obj.spec ?? {}) as Record<string, unknown>) };
    const errors = validateObject(type, obj, undefined);
    if (errors.length > 0) throw invalid(type.group, type.kind, obj.metadata.name ?? '', errors);
    if (this.find(type, obj.metadata.namespace, obj.metadata.name)) throw alreadyExists(type, obj.metadata.name);
    obj.apiVersion = apiVersionOf(type.group, type.storageVersion);
    if (options.dryRun) return obj;
    return this.store.put(type.group, type.resource, obj);
  }

  private commitUpdate(type: ResourceType, live: KubeObject, incoming: KubeObject, options: WriteOptions): KubeObject {
    let next: KubeObject;
    const sub = options.subresource;
    if (sub === 'status') {
      next = thaw(live);
      next.status = incoming.status;
    } else if (sub === 'finalize') {
      next = thaw(live);
      next.spec = {
        ...(isObject(next.spec) ? next.spec : {}),
        finalizers: (incoming.spec as { finalizers?: string[] } | undefined)?.finalizers ?? [],
      };
    } else {
      next = incoming;
      // The main resource cannot change status when the type has a status subresource, nor server-owned metadata.
      if (type.subresources.some((s) => s.name === 'status')) {
        next.status = structuredClone(live.status);
        if (next.status === undefined) delete next.status;
      }
      next.metadata.uid = live.metadata.uid;
      next.metadata.creationTimestamp = live.metadata.creationTimestamp;
      if (live.metadata.deletionTimestamp) next.metadata.deletionTimestamp = live.metadata.deletionTimestamp;
      else delete next.metadata.deletionTimestamp;
      if (live.metadata.deletionGracePeriodSeconds !== undefined)
        next.metadata.deletionGracePeriodSeconds = live.metadata.deletionGracePeriodSeconds;
      next.metadata.managedFields ??= live.metadata.managedFields;
      if (type.group === '' && type.resource === 'namespaces') {
        // A namespace's finalizers change only through /finalize.
        next.spec = structuredClone(live.spec);
      }
    }
    next.apiVersion = apiVersionOf(type.group, type.storageVersion);
    next.kind = type.kind;
    next.metadata.namespace = live.metadata.namespace;
    if (next.metadata.namespace === undefined) delete next.metadata.namespace;
    next.metadata.resourceVersion = live.metadata.resourceVersion;
    if (tracksGeneration(type)) {
      const generation = Number(live.metadata.generation ?? 1);
      next.metadata.generation = specOf(type, live) === specOf(type, next) ? generation : generation + 1;
    } else {
      delete next.metadata.generation;
    }
    applyDefaults(type.group, type.resource, next, false);
    for (const plugin of this.admission)
      plugin.admit({ operation: 'UPDATE', type, object: next, old: live, dryRun: options.dryRun ?? false });
    const errors = validateObject(type, next, live);
    if (errors.length > 0) throw invalid(type.group, type.kind, next.metadata.name, errors);
    if (options.manager && sub === undefined) {
      trackUpdate(
        live as never,
        next as never,
        options.manager,
        apiVersionOf(type.group, options.version),
        type.custom,
      );
    }
    if (options.dryRun || sameContent(live, next)) return options.dryRun ? next : live;
    const deleting = next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0;
    const isPod = type.group === '' && type.resource === 'pods';
    const isNamespace = type.group === '' && type.resource === 'namespaces';
    if (deleting && !isPod && !isNamespace) {
      // The last finalizer is gone: the object goes now, as the registry does on such an update.
      const stored = this.store.put(type.group, type.resource, next);
      this.store.remove(type.group, type.resource, stored.metadata.namespace, stored.metadata.name);
      return stored;
    }
    return this.store.put(type.group, type.resource, next);
  }

  private decode(type: ResourceType, body: unknown, version: string): KubeObject {
    if (!isObject(body)) throw badRequest(`Object '${type.kind}' is missing in the request body`);
    const obj = thaw(body) as unknown as KubeObject;
    const expectedVersion = apiVersionOf(type.group, version);
    if (obj.apiVersion !== undefined && obj.apiVersion !== expectedVersion) {
      throw badRequest(
        `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${expectedVersion})`,
      );
    }
    if (obj.kind !== undefined && obj.kind !== type.kind) {
      throw badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${type.kind})`);
    }
    obj.apiVersion = expectedVersion;
    obj.kind = type.kind;
    if (!isObject(obj.metadata)) obj.metadata = { name: '' };
    return obj;
  }

  private checkNamespace(type: ResourceType, namespace: string | undefined, obj: KubeObject): void {
    if (!type.namespaced) {
      delete obj.metadata.namespace;
      return;
    }
    const ns = namespace ?? 'default';
    if (obj.metadata.namespace && obj.metadata.namespace !== ns) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    obj.metadata.namespace = ns;
  }

  /** Objects that name `owner` in their ownerReferences (same namespace, or anywhere for cluster-scoped owners). */
  dependentsOf(owner: KubeObject): Array<{ group: string; resource: string; object: KubeObject }> {
    const out: Array<{ group: string; resource: string; object: KubeObject }> = [];
    const uid = owner.metadata.uid;
    if (!uid) return out;
    for (const { group, resource } of this.store.resources()) {
      for (const object of this.store.list(group, resource, owner.metadata.namespace)) {
        if ((object.metadata.ownerReferences ?? []).some((r) => r.uid === uid)) out.push({ group, resource, object });
      }
    }
    return out;
  }

  private orphanDependents(owner: KubeObject): void {
    for (const d of this.dependentsOf(owner)) {
      const copy = thaw(d.object);
      copy.metadata.ownerReferences = (copy.metadata.ownerReferences ?? []).filter((r) => r.uid !== owner.metadata.uid);
      if (copy.metadata.ownerReferences.length === 0) delete copy.metadata.ownerReferences;
      this.store.put(d.group, d.resource, copy);
    }
  }

  /** Foreground deletion, compressed: the dependents go first (recursively), then the owner. */
  private deleteDependents(owner: KubeObject): void {
    for (const d of this.dependentsOf(owner)) {
      this.deleteDependents(d.object);
      const current = this.store.get(d.group, d.resource, d.object.metadata.namespace, d.object.metadata.name);
      if (current && !current.metadata.deletionTimestamp)
        this.store.remove(d.group, d.resource, current.metadata.namespace, current.metadata.name);
    }
  }
}
