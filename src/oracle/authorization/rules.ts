// One rule of an AuthorizationPolicy against one request, as istiod turns it into an Envoy RBAC policy
// (pilot/pkg/security/authz/model/model.go at 1.24: New, Generate, checkError) and Envoy evaluates it:
// the rule matches when one `from` source, one `to` operation and every `when` condition match; in each,
// the listed fields are ANDed, a field's values ORed, a not- field negates the OR of its values.
//
// What istiod does before Envoy sees a rule decides a lot, and is followed here:
// - an unknown `when` key makes model.New fail: the rule is skipped, whatever the action;
// - a field that cannot be generated (an HTTP-only field on a TCP filter chain, a bad port or IP) fails an
//   ALLOW rule whole ("a smaller allow policy"), while a DENY, AUDIT or CUSTOM rule just loses that value,
//   and with all its values that field ("a wider deny policy").
import { knownConditionKey, type AuthzAction, type AuthzRule } from '../../model/authorization-policy.js';
import { httpOnly, matchValue, observe, type Attribute } from './fields.js';
import type { RequestAttributes } from './request.js';
import { and, not, or, type Tri } from './tri.js';

/** A rule's verdict for the request, and one line saying why. */
export interface RuleResult {
  /** Undefined: the rule was skipped by istiod, so it matches nothing. */
  match: Tri;
  skipped?: boolean;
  text: string;
}

interface Field {
  /** As the explanation names it: `source.principals`, `operation.methods`, `when request.headers[x-token]`. */
  label: string;
  attribute: Attribute;
  values: string[];
  negated: boolean;
  /** For request.headers[NAME]. */
  header?: string;
}

const SOURCE: Array<[string, Attribute, boolean]> = [
  ['principals', 'principal', false],
  ['notPrincipals', 'principal', true],
  ['requestPrincipals', 'requestPrincipal', false],
  ['notRequestPrincipals', 'requestPrincipal', true],
  ['namespaces', 'namespace', false],
  ['notNamespaces', 'namespace', true],
  ['ipBlocks', 'ip', false],
  ['notIpBlocks', 'ip', true],
  ['remoteIpBlocks', 'ip', false],
  ['notRemoteIpBlocks', 'ip', true],
];
const OPERATION: Array<[string, Attribute, boolean]> = [
  ['hosts', 'host', false],
  ['notHosts', 'host', true],
  ['ports', 'port', false],
  ['notPorts', 'port', true],
  ['methods', 'method', false],
  ['notMethods', 'method', true],
  ['paths', 'path', false],
  ['notPaths', 'path', true],
];

/** The attribute a `when` key reads (model.go New), or undefined for a key istiod does not know. */
function conditionAttribute(key: string): { attribute: Attribute; header?: string } | undefined {
  if (!knownConditionKey(key)) return undefined;
  if (key === 'source.principal') return { attribute: 'principal' };
  if (key === 'source.namespace') return { attribute: 'namespace' };
  if (key === 'destination.port') return { attribute: 'port' };
  if (key === 'source.ip' || key === 'remote.ip' || key === 'destination.ip') return { attribute: 'ip' };
  if (key === 'connection.sni') return { attribute: 'sni' };
  if (key.startsWith('experimental.envoy.filters.')) return { attribute: 'metadata' };
  if (key.startsWith('request.headers'))
    return { attribute: 'header', header: /^request\.headers\[(.+)\]$/.exec(key)?.[1] };
  return { attribute: 'jwt' };
}

/** Why istiod cannot generate this value on this filter chain, or undefined when it can. */
function generationError(f: Field, value: string, chain: 'http' | 'tcp'): string | undefined {
  if (chain === 'tcp' && httpOnly(f.attribute)) return `${f.label} is HTTP only`;
  if (f.attribute === 'port' && !(/^\d+$/.test(value) && Number(value) <= 65535)) return `invalid port ${value}`;
  if (f.attribute === 'header' && !f.header) return `bad key ${f.label}: expecting format request.headers[NAME]`;
  return undefined;
}

type Compiled = { fields: Field[]; dropped: string[] } | { error: string };

/** A list of fields as istiod generates them for `action` on `chain`: an error skips an ALLOW rule. */
function compile(fields: Field[], action: AuthzAction, chain: 'http' | 'tcp'): Compiled {
  const out: Field[] = [];
  const dropped: string[] = [];
  for (const f of fields) {
    const kept: string[] = [];
    for (const v of f.values) {
      const err = generationError(f, v, chain);
      if (!err) kept.push(v);
      else if (action === 'ALLOW') return { error: err };
      else dropped.push(err === `${f.label} is HTTP only` ? `${f.label} (HTTP only)` : `${f.label} ${v} (${err})`);
    }
    if (kept.length) out.push({ ...f, values: kept });
  }
  return { fields: out, dropped };
}

function listed(spec: Record<string, string[] | undefined> | null | undefined, table: typeof SOURCE, prefix: string) {
  const fields: Field[] = [];
  for (const [name, attribute, negated] of table) {
    const values = spec?.[name];
    if (values?.length) fields.push({ label: `${prefix}.${name}`, attribute, values, negated });
  }
  return fields;
}

const show = (values: string[]) => `[${values.join(', ')}]`;

/** One field against the request, with the words for it. */
function evaluateField(f: Field, req: RequestAttributes): { match: Tri; text: string } {
  const seen = observe(f.attribute, req, f.header);
  const any = or(f.values.map((v) => matchValue(f.attribute, v, seen)));
  const match = f.negated ? not(any) : any;
  const head = `${f.label} ${show(f.values)}`;
  if (match === undefined) return { match, text: `${head} cannot be predicted: ${seen.why}` };
  const shown = seen.shown ?? seen.value;
  if (seen.value === undefined) {
    const mtlsOnly = f.attribute === 'principal' || f.attribute === 'namespace';
    return {
      match,
      text: f.negated
        ? `${head} matched: ${seen.why}, and a not- match holds on an empty value${mtlsOnly ? ' (ISTIO-SECURITY-2021-004)' : ''}`
        : `${head} did not match: ${seen.why}`,
    };
  }
  if (f.negated)
    return { match, text: match ? `${head} matched: ${shown} is none of them` : `${head} did not match ${shown}` };
  return { match, text: match ? `${head} matched ${shown}` : `${head} did not match ${shown}` };
}

/** All of a list of fields (a source, an operation, the conditions); its text names what decided. */
function evaluateAll(fields: Field[], req: RequestAttributes): { match: Tri; text: string } {
  const results = fields.map((f) => evaluateField(f, req));
  const match = and(results.map((r) => r.match));
  const deciding =
    match === false
      ? results.filter((r) => r.match === false).slice(0, 1)
      : match === undefined
        ? results.filter((r) => r.match === undefined)
        : results;
  return { match, text: deciding.map((r) => r.text).join(', ') };
}

/** One of several alternatives (`from` sources, `to` operations); its text names the one that decided. */
function evaluateAny(alternatives: Array<{ match: Tri; text: string }>, what: string): { match: Tri; text: string } {
  const match = or(alternatives.map((a) => a.match));
  if (alternatives.length === 1) return alternatives[0]!;
  if (match === true) return alternatives.find((a) => a.match === true)!;
  const relevant = alternatives.filter((a) => a.match === match);
  return { match, text: `no ${what} matched: ${relevant.map((a, i) => `[${i}] ${a.text}`).join('; ')}` };
}

export function evaluateRule(rule: AuthzRule, action: AuthzAction, req: RequestAttributes): RuleResult {
  // model.New: an unknown `when` key fails the whole rule.
  const conditions: Field[] = [];
  for (const c of rule.when ?? []) {
    if (!c) continue;
    const a = conditionAttribute(c.key);
    if (!a) return { match: false, skipped: true, text: `skipped by istiod: unknown attribute ${c.key} in when` };
    const base = { attribute: a.attribute, header: a.header };
    if (c.values?.length) conditions.push({ ...base, label: `when ${c.key}`, values: c.values, negated: false });
    if (c.notValues?.length)
      conditions.push({ ...base, label: `when ${c.key} notValues`, values: c.notValues, negated: true });
  }
  const sources = (rule.from ?? []).map((f) => listed(f?.source, SOURCE, 'source'));
  const operations = (rule.to ?? []).map((t) => listed(t?.operation, OPERATION, 'operation'));

  const compiled = [conditions, ...sources, ...operations].map((fields) => compile(fields, action, req.chain));
  const failed = compiled.find((c): c is { error: string } => 'error' in c);
  if (failed)
    return {
      match: false,
      skipped: true,
      text: `ALLOW rule dropped by istiod on the ${req.chain === 'tcp' ? 'TCP' : 'HTTP'} filter chain: ${failed.error}`,
    };
  const ok = compiled as Array<{ fields: Field[]; dropped: string[] }>;
  const [when, ...rest] = ok.map((c) => c.fields);
  const fromFields = rest.slice(0, sources.length);
  const toFields = rest.slice(sources.length);
  const dropped = [...new Set(ok.flatMap((c) => c.dropped))];
  const widened = dropped.length
    ? ` (the ${action} rule is wider on the ${req.chain === 'tcp' ? 'TCP' : 'HTTP'} filter chain: istiod dropped ${dropped.join(', ')})`
    : '';

  const parts: Array<{ match: Tri; text: string }> = [];
  if (fromFields.length)
    parts.push(
      evaluateAny(
        fromFields.map((f) => evaluateAll(f, req)),
        'from.source',
      ),
    );
  if (toFields.length)
    parts.push(
      evaluateAny(
        toFields.map((f) => evaluateAll(f, req)),
        'to.operation',
      ),
    );
  if (when!.length) parts.push(evaluateAll(when!, req));
  const nonEmpty = parts.filter((p) => p.text);
  const match = and(parts.map((p) => p.match));
  if (match === true)
    return {
      match,
      text: `${nonEmpty.length ? nonEmpty.map((p) => p.text).join('; ') : 'an empty rule matches every request'}${widened}`,
    };
  const deciding = parts.filter((p) => p.match === match);
  return { match, text: `${deciding.map((p) => p.text).join('; ')}${widened}` };
}
