// Label and field selectors with the API server's grammar (k8s.io/apimachinery/pkg/labels and
// pkg/fields) and its per-resource field sets, so `kubectl wait` and `-l` behave as on a cluster.
import type { KubeObject } from '../contracts.js';
import { badRequest } from './status.js';

type LabelOp = 'exists' | '!exists' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';

interface LabelRequirement {
  key: string;
  op: LabelOp;
  values: string[];
}

export type LabelSelector = (labels: Record<string, string> | undefined) => boolean;

export function parseLabelSelector(text: string | undefined): LabelSelector {
  const requirements = text ? splitRequirements(text).map(parseLabelRequirement) : [];
  return (labels) => requirements.every((r) => matchesRequirement(r, labels ?? {}));
}

/** Splits on commas that are not inside `in (...)` value lists. */
function splitRequirements(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

const KEY = String.raw`(?:[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?\/)?[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?`;
const VALUE = String.raw`(?:[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?)?`;

function parseLabelRequirement(text: string): LabelRequirement {
  let m = new RegExp(`^!\\s*(${KEY})$`).exec(text);
  if (m) return { key: m[1] ?? '', op: '!exists', values: [] };
  m = new RegExp(`^(${KEY})$`).exec(text);
  if (m) return { key: m[1] ?? '', op: 'exists', values: [] };
  m = new RegExp(`^(${KEY})\\s*(==|=|!=)\\s*(${VALUE})$`).exec(text);
  if (m) return { key: m[1] ?? '', op: m[4] === '!=' ? '!=' : '=', values: [m[5] ?? ''] };
  m = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^)]*)\\)$`).exec(text);
  if (m) {
    const values = (m[5] ?? '').split(',').map((v) => v.trim());
    if (values.every((v) => new RegExp(`^${VALUE}$`).test(v)))
      return { key: m[1] ?? '', op: m[4] as 'in' | 'notin', values };
  }
  m = new RegExp(`^(${KEY})\\s*(>|<)\\s*(-?\\d+)$`).exec(text);
  if (m) return { key: m[1] ?? '', op: m[4] === '>' ? 'gt' : 'lt', values: [m[5] ?? '0'] };
  throw badRequest(
    `unable to parse requirement: found '${text}', expected: key, !key, key=value, key!=value, key in (...), key notin (...)`,
  );
}

function matchesRequirement(r: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const value = labels[r.key];
  switch (r.op) {
    case 'exists':
      return has;
    case '!exists':
      return !has;
    case '=':
    case 'in':
      return has && r.values.includes(value ?? '');
    case '!=':
    case 'notin':
      return !has || !r.values.includes(value ?? '');
    case 'gt':
    case 'lt': {
      if (!has || !/^-?\d+$/.test(value ?? '')) return false;
      const n = Number(value);
      const bound = Number(r.values[0]);
      return r.op === 'gt' ? n > bound : n < bound;
    }
  }
}

/** A label selector object (matchLabels / matchExpressions) as Deployments and Services carry them. */
export function matchesSelectorObject(
  selector:
    | {
        matchLabels?: Record<string, string>;
        matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
      }
    | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!selector) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(l, e.key);
    const values = e.values ?? [];
    const ok =
      e.operator === 'In'
        ? has && values.includes(l[e.key] ?? '')
        : e.operator === 'NotIn'
          ? !has || !values.includes(l[e.key] ?? '')
          : e.operator === 'Exists'
            ? has
            : e.operator === 'DoesNotExist'
              ? !has
              : false;
    if (!ok) return false;
  }
  return true;
}

/** Selects pods the way a Service's plain map selector does: every pair must match, empty selects nothing. */
export function matchesMapSelector(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** The fields each built-in resource can be selected on (its registry's GetAttrs / field label conversion). */
const FIELD_SETS: Record<string, string[]> = {
  '/pods': [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.podIPs',
    'status.nominatedNodeName',
  ],
  '/namespaces': ['status.phase'],
  '/secrets': ['type'],
  '/nodes': ['spec.unschedulable'],
  '/services': ['spec.clusterIP', 'spec.type'],
  '/events': [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  'apps/replicasets': ['status.replicas'],
};

interface FieldRequirement {
  field: string;
  negate: boolean;
  value: string;
}

export type FieldSelector = (obj: KubeObject) => boolean;

export function parseFieldSelector(
  text: string | undefined,
  group: string,
  resource: string,
  custom: boolean,
): FieldSelector {
  if (!text) return () => true;
  const allowed = new Set(['metadata.name', 'metadata.namespace', ...(FIELD_SETS[`${group}/${resource}`] ?? [])]);
  const requirements: FieldRequirement[] = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .map((part) => {
      const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(part);
      if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${part}'`);
      const field = m[1] ?? '';
      if (!allowed.has(field)) {
        throw badRequest(
          custom
            ? `"${field}" is not a known field selector: only "metadata.name", "metadata.namespace"`
            : `field label not supported: ${field}`,
        );
      }
      return { field, negate: m[2] === '!=', value: m[3] ?? '' };
    });
  return (obj) => requirements.every((r) => (fieldValue(obj, r.field) === r.value) !== r.negate);
}

function fieldValue(obj: KubeObject, field: string): string {
  if (field === 'spec.hostNetwork')
    return String(Boolean((obj.spec as { hostNetwork?: boolean } | undefined)?.hostNetwork));
  if (field === 'spec.unschedulable')
    return String(Boolean((obj.spec as { unschedulable?: boolean } | undefined)?.unschedulable));
  if (field === 'status.podIPs')
    return ((obj.status as { podIPs?: Array<{ ip: string }> } | undefined)?.podIPs ?? []).map((p) => p.ip).join(',');
  let cur: unknown = obj;
  for (const part of field.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur === undefined || cur === null ? '' : String(cur);
}
