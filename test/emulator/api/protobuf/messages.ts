// The protobuf messages of the kinds kubectl's typed commands send and receive, field numbers and types
// transcribed from the published generated.proto files at Kubernetes 1.32:
//   kubernetes/api v0.32.9: core/v1, authorization/v1, authentication/v1 generated.proto
//   kubernetes/apimachinery v0.32.9: pkg/apis/meta/v1/generated.proto, pkg/runtime/generated.proto
// Only the messages these kinds reach are here. `pointer` marks a Go pointer field (*bool, *int64): its zero
// value is data; every other zero value is what gogo-protobuf writes for an unset Go field, and the JSON
// form leaves it out (omitempty).

export type Scalar = 'string' | 'bool' | 'int32' | 'int64' | 'bytes';

export interface FieldDef {
  /** The JSON name (the Go field's json tag). */
  json: string;
  /** A scalar, or the name of a message in MESSAGES. */
  type: Scalar | string;
  repeated?: true;
  /** map<string, type>, sent as repeated entries {1: key, 2: value}. */
  map?: true;
  pointer?: true;
}

export type MessageDef = Record<number, FieldDef>;

const f = (json: string, type: string, extra: Partial<FieldDef> = {}): FieldDef => ({ json, type, ...extra });
const repeated = { repeated: true } as const;
const map = { map: true } as const;
const pointer = { pointer: true } as const;

/**
 * Messages with a JSON form of their own, handled in codec.ts: metav1.Time (RFC 3339 seconds), FieldsV1 (raw
 * JSON), authentication ExtraValue (a plain string array).
 */
export const TIME = 'meta.Time';
export const FIELDS_V1 = 'meta.FieldsV1';
export const EXTRA_VALUE = 'authentication.ExtraValue';

export const MESSAGES: Record<string, MessageDef> = {
  // k8s.io/apimachinery/pkg/runtime/generated.proto
  'runtime.Unknown': {
    1: f('typeMeta', 'runtime.TypeMeta'),
    2: f('raw', 'bytes'),
    3: f('contentEncoding', 'string'),
    4: f('contentType', 'string'),
  },
  'runtime.TypeMeta': { 1: f('apiVersion', 'string'), 2: f('kind', 'string') },

  // k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto
  'meta.ObjectMeta': {
    1: f('name', 'string'),
    2: f('generateName', 'string'),
    3: f('namespace', 'string'),
    4: f('selfLink', 'string'),
    5: f('uid', 'string'),
    6: f('resourceVersion', 'string'),
    7: f('generation', 'int64'),
    8: f('creationTimestamp', TIME),
    9: f('deletionTimestamp', TIME),
    10: f('deletionGracePeriodSeconds', 'int64', pointer),
    11: f('labels', 'string', map),
    12: f('annotations', 'string', map),
    13: f('ownerReferences', 'meta.OwnerReference', repeated),
    14: f('finalizers', 'string', repeated),
    17: f('managedFields', 'meta.ManagedFieldsEntry', repeated),
  },
  [TIME]: { 1: f('seconds', 'int64'), 2: f('nanos', 'int32') },
  'meta.OwnerReference': {
    1: f('kind', 'string'),
    3: f('name', 'string'),
    4: f('uid', 'string'),
    5: f('apiVersion', 'string'),
    6: f('controller', 'bool', pointer),
    7: f('blockOwnerDeletion', 'bool', pointer),
  },
  'meta.ManagedFieldsEntry': {
    1: f('manager', 'string'),
    2: f('operation', 'string'),
    3: f('apiVersion', 'string'),
    4: f('time', TIME),
    6: f('fieldsType', 'string'),
    7: f('fieldsV1', FIELDS_V1),
    8: f('subresource', 'string'),
  },
  [FIELDS_V1]: { 1: f('Raw', 'bytes') },
  'meta.ListMeta': {
    1: f('selfLink', 'string'),
    2: f('resourceVersion', 'string'),
    3: f('continue', 'string'),
    4: f('remainingItemCount', 'int64', pointer),
  },
  'meta.Status': {
    1: f('metadata', 'meta.ListMeta'),
    2: f('status', 'string'),
    3: f('message', 'string'),
    4: f('reason', 'string'),
    5: f('details', 'meta.StatusDetails'),
    6: f('code', 'int32'),
  },
  'meta.StatusDetails': {
    1: f('name', 'string'),
    2: f('group', 'string'),
    3: f('kind', 'string'),
    4: f('causes', 'meta.StatusCause', repeated),
    5: f('retryAfterSeconds', 'int32'),
    6: f('uid', 'string'),
  },
  'meta.StatusCause': { 1: f('reason', 'string'), 2: f('message', 'string'), 3: f('field', 'string') },
  'meta.LabelSelectorRequirement': {
    1: f('key', 'string'),
    2: f('operator', 'string'),
    3: f('values', 'string', repeated),
  },
  'meta.FieldSelectorRequirement': {
    1: f('key', 'string'),
    2: f('operator', 'string'),
    3: f('values', 'string', repeated),
  },

  // k8s.io/api/core/v1/generated.proto
  'core.Namespace': {
    1: f('metadata', 'meta.ObjectMeta'),
    2: f('spec', 'core.NamespaceSpec'),
    3: f('status', 'core.NamespaceStatus'),
  },
  'core.NamespaceSpec': { 1: f('finalizers', 'string', repeated) },
  'core.NamespaceStatus': { 1: f('phase', 'string'), 2: f('conditions', 'core.NamespaceCondition', repeated) },
  'core.NamespaceCondition': {
    1: f('type', 'string'),
    2: f('status', 'string'),
    4: f('lastTransitionTime', TIME),
    5: f('reason', 'string'),
    6: f('message', 'string'),
  },
  'core.Secret': {
    1: f('metadata', 'meta.ObjectMeta'),
    2: f('data', 'bytes', map),
    3: f('type', 'string'),
    4: f('stringData', 'string', map),
    5: f('immutable', 'bool', pointer),
  },
  'core.ConfigMap': {
    1: f('metadata', 'meta.ObjectMeta'),
    2: f('data', 'string', map),
    3: f('binaryData', 'bytes', map),
    4: f('immutable', 'bool', pointer),
  },
  'core.ServiceAccount': {
    1: f('metadata', 'meta.ObjectMeta'),
    2: f('secrets', 'core.ObjectReference', repeated),
    3: f('imagePullSecrets', 'core.LocalObjectReference', repeated),
    4: f('automountServiceAccountToken', 'bool', pointer),
  },
  'core.ObjectReference': {
    1: f('kind', 'string'),
    2: f('namespace', 'string'),
    3: f('name', 'string'),
    4: f('uid', 'string'),
    5: f('apiVersion', 'string'),
    6: f('resourceVersion', 'string'),
    7: f('fieldPath', 'string'),
  },
  'core.LocalObjectReference': { 1: f('name', 'string') },

  // k8s.io/api/authorization/v1/generated.proto
  'authorization.SelfSubjectAccessReview': {
    1: f('metadata', 'meta.ObjectMeta'),
    2: f('spec', 'authorization.SelfSubjectAccessReviewSpec'),
    3: f('status', 'authorization.SubjectAccessReviewStatus'),
  },
  'authorization.SelfSubjectAccessReviewSpec': {
    1: f('resourceAttributes', 'authorization.ResourceAttributes'),
    2: f('nonResourceAttributes', 'authorization.NonResourceAttributes'),
  },
  'authorization.ResourceAttributes': {
    1: f('namespace', 'string'),
    2: f('verb', 'string'),
    3: f('group', 'string'),
    4: f('version', 'string'),
    5: f('resource', 'string'),
    6: f('subresource', 'string'),
    7: f('name', 'string'),
    8: f('fieldSelector', 'authorization.FieldSelectorAttributes'),
    9: f('labelSelector', 'authorization.LabelSelectorAttributes'),
  },
  'authorization.FieldSelectorAttributes': {
    1: f('rawSelector', 'string'),
    2: f('requirements', 'meta.FieldSelectorRequirement', repeated),
  },
  'authorization.LabelSelectorAttributes': {
    1: f('rawSelector', 'string'),
    2: f('requirements', 'meta.LabelSelectorRequirement', repeated),
  },
  'authorization.NonResourceAttributes': { 1: f('path', 'string'), 2: f('verb', 'string') },
  'authorization.SubjectAccessReviewStatus': {
    1: f('allowed', 'bool'),
    2: f('reason', 'string'),
    3: f('evaluationError', 'string'),
    4: f('denied', 'bool'),
  },

  // k8s.io/api/authentication/v1/generated.proto
  'authentication.SelfSubjectReview': {
    1: f('metadata', 'meta.ObjectMeta'),
    2: f('status', 'authentication.SelfSubjectReviewStatus'),
  },
  'authentication.SelfSubjectReviewStatus': { 1: f('userInfo', 'authentication.UserInfo') },
  'authentication.UserInfo': {
    1: f('username', 'string'),
    2: f('uid', 'string'),
    3: f('groups', 'string', repeated),
    4: f('extra', EXTRA_VALUE, map),
  },
  [EXTRA_VALUE]: { 1: f('items', 'string', repeated) },
};

/** apiVersion/kind → the message its protobuf body is. */
export const KINDS: Record<string, string> = {
  'v1/Namespace': 'core.Namespace',
  'v1/Secret': 'core.Secret',
  'v1/ConfigMap': 'core.ConfigMap',
  'v1/ServiceAccount': 'core.ServiceAccount',
  'v1/Status': 'meta.Status',
  'authorization.k8s.io/v1/SelfSubjectAccessReview': 'authorization.SelfSubjectAccessReview',
  'authentication.k8s.io/v1/SelfSubjectReview': 'authentication.SelfSubjectReview',
};
