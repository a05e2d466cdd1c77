// The validation the emulator enforces, with the API server's wording (apimachinery validation and
// pkg/apis/*/validation): enough that a malformed manifest fails here as it would on a cluster.
import type { KubeObject } from '../contracts.js';
import type { ResourceType } from './resources.js';
import type { FieldError } from './status.js';
import { isObject } from './patch.js';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const QUALIFIED_NAME_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

/** Go's %q of a string, which is how field errors quote offending values. */
export function goQuote(value: unknown): string {
  return JSON.stringify(String(value));
}

function goMap(map: Record<string, string>): string {
  return `map[string]string{${Object.entries(map)
    .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
    .join(', ')}}`;
}

function required(field: string, detail?: string): FieldError {
  return detail ? { type: 'FieldValueRequired', field, detail } : { type: 'FieldValueRequired', field };
}

function invalidValue(field: string, value: string, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, value, detail };
}

/** Which name rule each built-in applies to metadata.name (most use the subdomain rule). */
function nameRule(type: ResourceType): { re: RegExp; msg: string } {
  if (type.group === '' && type.resource === 'namespaces') return { re: DNS1123_LABEL, msg: LABEL_MSG };
  if (type.group === '' && type.resource === 'services') return { re: DNS1035_LABEL, msg: DNS1035_MSG };
  return { re: DNS1123_SUBDOMAIN, msg: SUBDOMAIN_MSG };
}

export function validateMetadata(type: ResourceType, obj: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const name = obj.metadata.name;
  if (!name) {
    errors.push(required('metadata.name', 'name or generateName is required'));
  } else {
    const rule = nameRule(type);
    if (!rule.re.test(name)) errors.push(invalidValue('metadata.name', goQuote(name), rule.msg));
    else if (name.length > (rule.re === DNS1123_SUBDOMAIN ? 253 : 63))
      errors.push(
        invalidValue(
          'metadata.name',
          goQuote(name),
          `must be no more than ${rule.re === DNS1123_SUBDOMAIN ? 253 : 63} characters`,
        ),
      );
  }
  errors.push(...validateLabels(obj.metadata.labels, 'metadata.labels'));
  for (const key of Object.keys(obj.metadata.annotations ?? {})) {
    const keyErrors = validateQualifiedName(key);
    if (keyErrors) errors.push(invalidValue('metadata.annotations', goQuote(key), keyErrors));
  }
  return errors;
}

function validateQualifiedName(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined && !DNS1123_SUBDOMAIN.test(prefix)) return `prefix part ${SUBDOMAIN_MSG}`;
  if (!QUALIFIED_NAME.test(name) || name.length > 63) return QUALIFIED_NAME_MSG;
  return undefined;
}

function validateLabels(labels: Record<string, string> | undefined, field: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(labels ?? {})) {
    const keyError = validateQualifiedName(key);
    if (keyError) errors.push(invalidValue(field, goQuote(key), keyError));
    if (typeof value !== 'string' || !LABEL_VALUE.test(value) || value.length > 63)
      errors.push(invalidValue(field, goQuote(value), LABEL_VALUE_MSG));
  }
  return errors;
}

interface Container {
  name?: string;
  image?: string;
  ports?: Array<{ containerPort?: number; name?: string }>;
}

function validatePodSpec(spec: unknown, field: string): FieldError[] {
  const errors: FieldError[] = [];
  const s = isObject(spec) ? (spec as { containers?: Container[]; initContainers?: Container[] }) : {};
  if (!Array.isArray(s.containers) || s.containers.length === 0) {
    errors.push(required(`${field}.containers`));
    return errors;
  }
  const seen = new Set<string>();
  const check = (list: Container[], listField: string): void => {
    list.forEach((c, i) => {
      const at = `${field}.${listField}[${i}]`;
      if (!c.name) errors.push(required(`${at}.name`));
      else if (!DNS1123_LABEL.test(c.name)) errors.push(invalidValue(`${at}.name`, goQuote(c.name), LABEL_MSG));
      else if (seen.has(c.name))
        errors.push({ type: 'FieldValueDuplicate', field: `${at}.name`, value: goQuote(c.name) });
      if (c.name) seen.add(c.name);
      if (!c.image) errors.push(required(`${at}.image`));
      (c.ports ?? []).forEach((p, j) => {
        const port = p.containerPort;
        if (port === undefined) errors.push(required(`${at}.ports[${j}].containerPort`));
        else if (!Number.isInteger(port) || port < 1 || port > 65535)
          errors.push(
            invalidValue(`${at}.ports[${j}].containerPort`, String(port), 'must be between 1 and 65535, inclusive'),
          );
      });
    });
  };
  check(s.containers, 'containers');
  if (Array.isArray(s.initContainers)) check(s.initContainers, 'initContainers');
  return errors;
}

interface Workload {
  spec?: {
    selector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
    template?: { metadata?: { labels?: Record<string, string> }; spec?: unknown };
    replicas?: number;
  };
}

function validateWorkload(obj: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const spec = (obj as Workload).spec ?? {};
  const selector = spec.selector;
  const labels = spec.template?.metadata?.labels ?? {};
  if (
    !selector ||
    (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0)
  ) {
    errors.push(required('spec.selector'));
  } else if (!Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v)) {
    errors.push(
      invalidValue('spec.template.metadata.labels', goMap(labels), '`selector` does not match template `labels`'),
    );
  }
  if (spec.replicas !== undefined && (!Number.isInteger(spec.replicas) || spec.replicas < 0))
    errors.push(invalidValue('spec.replicas', String(spec.replicas), 'must be greater than or equal to 0'));
  errors.push(...validateLabels(labels, 'spec.template.labels'));
  errors.push(...validatePodSpec(spec.template?.spec, 'spec.template.spec'));
  return errors;
}

interface ServiceSpec {
  type?: string;
  clusterIP?: string;
  ports?: Array<{ name?: string; port?: number; targetPort?: number | string; protocol?: string }>;
}

function validateService(obj: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const spec = (obj.spec ?? {}) as ServiceSpec;
  const ports = spec.ports ?? [];
  if (ports.length === 0 && spec.clusterIP !== 'None' && spec.type !== 'ExternalName')
    errors.push(required('spec.ports'));
  const names = new Set<string>();
  ports.forEach((p, i) => {
    if (ports.length > 1 && !p.name) errors.push(required(`spec.ports[${i}].name`));
    if (p.name) {
      if (names.has(p.name))
        errors.push({ type: 'FieldValueDuplicate', field: `spec.ports[${i}].name`, value: goQuote(p.name) });
      names.add(p.name);
    }
    if (p.port === undefined || !Number.isInteger(p.port) || p.port < 1 || p.port > 65535)
      errors.push(invalidValue(`spec.ports[${i}].port`, String(p.port ?? 0), 'must be between 1 and 65535, inclusive'));
    if (p.protocol && !['TCP', 'UDP', 'SCTP'].includes(p.protocol))
      errors.push({
        type: 'FieldValueNotSupported',
        field: `spec.ports[${i}].protocol`,
        value: goQuote(p.protocol),
        detail: 'supported values: "SCTP", "TCP", "UDP"',
      });
  });
  return errors;
}

/** Rules per kind on create and update; `old` is the stored object on update. */
export function validateObject(type: ResourceType, obj: KubeObject, old: KubeObject | undefined): FieldError[] {
  const errors = validateMetadata(type, obj);
  const key = `${type.group}/${type.resource}`;
  if (key === '/pods') {
    errors.push(...validatePodSpec(obj.spec, 'spec'));
    if (old && errors.length === 0 && podSpecChangedBeyondMutable(old, obj)) {
      errors.push({
        type: 'FieldValueForbidden',
        field: 'spec',
        detail:
          'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
      });
    }
  }
  if (key === 'apps/deployments' || key === 'apps/replicasets') {
    errors.push(...validateWorkload(obj));
    const before = (old as Workload | undefined)?.spec?.selector;
    const after = (obj as Workload).spec?.selector;
    if (old && before && JSON.stringify(before) !== JSON.stringify(after)) {
      errors.push(invalidValue('spec.selector', describeSelector(after), 'field is immutable'));
    }
  }
  if (key === '/services') {
    errors.push(...validateService(obj));
    const before = (old?.spec as ServiceSpec | undefined)?.clusterIP;
    const after = (obj.spec as ServiceSpec | undefined)?.clusterIP;
    if (old && before && after && before !== after)
      errors.push(invalidValue('spec.clusterIPs[0]', goQuote(after), 'may not change once set'));
  }
  return errors;
}

function describeSelector(selector: unknown): string {
  const s = (selector ?? {}) as { matchLabels?: Record<string, string> };
  return `v1.LabelSelector{MatchLabels:${goMap(s.matchLabels ?? {})}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}`;
}

function podSpecChangedBeyondMutable(old: KubeObject, obj: KubeObject): boolean {
  const normalize = (spec: unknown): string => {
    const s = structuredClone(spec ?? {}) as Record<string, unknown>;
    for (const list of ['containers', 'initContainers']) {
      const cs = s[list];
      if (Array.isArray(cs)) for (const c of cs) if (isObject(c)) delete c.image;
    }
    delete s.activeDeadlineSeconds;
    delete s.tolerations;
    delete s.terminationGracePeriodSeconds;
    return JSON.stringify(sortKeys(s));
  };
  return normalize(old.spec) !== normalize(obj.spec);
}

export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortKeys(value[key]);
  return out;
}
