// security.istio.io AuthorizationPolicy (v1beta1 and v1, one schema): its spec as the CRD of Istio 1.24
// admits it (istio/api security/v1beta1/authorization_policy.proto, preserveUnknownFields: false), and the
// checks of Istio's validation webhook (pkg/config/validation/validation.go ValidateAuthorizationPolicy),
// so that a scenario the API server would refuse is refused when it is loaded.
import { z } from 'zod';

export const AUTHZ_ACTIONS = ['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'] as const;
export type AuthzAction = (typeof AUTHZ_ACTIONS)[number];

/** Fields of `from[].source`; each a list of values, ANDed with the others. */
export const SOURCE_FIELDS = [
  'principals',
  'notPrincipals',
  'requestPrincipals',
  'notRequestPrincipals',
  'namespaces',
  'notNamespaces',
  'ipBlocks',
  'notIpBlocks',
  'remoteIpBlocks',
  'notRemoteIpBlocks',
] as const;
/** Fields of `to[].operation`. */
export const OPERATION_FIELDS = [
  'hosts',
  'notHosts',
  'ports',
  'notPorts',
  'methods',
  'notMethods',
  'paths',
  'notPaths',
] as const;

export type AuthzSource = Partial<Record<(typeof SOURCE_FIELDS)[number], string[]>>;
export type AuthzOperation = Partial<Record<(typeof OPERATION_FIELDS)[number], string[]>>;
export interface AuthzCondition {
  key: string;
  values?: string[];
  notValues?: string[];
}
export interface AuthzRule {
  from?: Array<{ source?: AuthzSource | null } | null>;
  to?: Array<{ operation?: AuthzOperation | null } | null>;
  when?: Array<AuthzCondition | null>;
}

/** The spec fields the oracle reads, as a cluster may hold them (its objects need not have passed the webhook). */
export interface AuthorizationPolicySpec {
  selector?: { matchLabels?: Record<string, string> } | null;
  targetRef?: unknown;
  targetRefs?: unknown[];
  action?: AuthzAction;
  provider?: { name?: string } | null;
  rules?: Array<AuthzRule | null> | null;
}

const values = z.array(z.string()).optional();
const source = z.strictObject(Object.fromEntries(SOURCE_FIELDS.map((f) => [f, values])));
const operation = z.strictObject(Object.fromEntries(OPERATION_FIELDS.map((f) => [f, values])));
const targetRef = z.strictObject({
  group: z.string().optional(),
  kind: z.string().min(1),
  name: z.string().min(1),
  namespace: z.string().optional(),
});

export const authorizationPolicySpec = z
  .strictObject({
    selector: z.strictObject({ matchLabels: z.record(z.string(), z.string()).optional() }).optional(),
    targetRef: targetRef.optional(),
    targetRefs: z.array(targetRef).max(16).optional(),
    action: z.enum(AUTHZ_ACTIONS).optional(),
    provider: z.strictObject({ name: z.string().optional() }).optional(),
    rules: z
      .array(
        z.strictObject({
          from: z.array(z.strictObject({ source: source.optional() })).optional(),
          to: z.array(z.strictObject({ operation: operation.optional() })).optional(),
          when: z.array(z.strictObject({ key: z.string(), values, notValues: values })).optional(),
        }),
      )
      .optional(),
  })
  .refine((s) => [s.selector, s.targetRef, s.targetRefs].filter((x) => x !== undefined).length <= 1, {
    message: 'only one of targetRefs or selector can be set (as the AuthorizationPolicy CRD says)',
  })
  .nullable();

/** The `when` keys Istio 1.24 knows (pilot/pkg/security/authz/model/model.go; the conditions reference page). */
export const CONDITION_KEYS = [
  'request.headers[NAME]',
  'source.ip',
  'remote.ip',
  'source.namespace',
  'source.principal',
  'request.auth.principal',
  'request.auth.audiences',
  'request.auth.presenter',
  'request.auth.claims[NAME]',
  'destination.ip',
  'destination.port',
  'connection.sni',
  'experimental.envoy.filters.*[NAME]',
] as const;

/** Is `key` an attribute istiod's model.New accepts? Anything else makes it skip the whole rule. */
export function knownConditionKey(key: string): boolean {
  return (
    [
      'source.ip',
      'remote.ip',
      'source.namespace',
      'source.principal',
      'request.auth.principal',
      'request.auth.audiences',
      'request.auth.presenter',
      'destination.ip',
      'destination.port',
      'connection.sni',
    ].includes(key) ||
    key.startsWith('request.headers') ||
    key.startsWith('request.auth.claims') ||
    key.startsWith('experimental.envoy.filters.')
  );
}

/** `istio.io/dry-run` as istiod reads it: Go's strconv.ParseBool; anything else is an error, and the policy is enforced. */
export function dryRunOf(annotation: string | undefined): boolean {
  return annotation !== undefined && ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(annotation);
}

export const DRY_RUN = 'istio.io/dry-run';

export interface Problem {
  path: Array<string | number>;
  message: string;
}

const PORT = /^\d+$/;
/** pkg/config/security ValidateIPs: an address, or a CIDR prefix with the address part on its boundary. */
function ipProblem(v: string): string | undefined {
  const [addr = '', bits, extra] = v.split('/');
  if (extra !== undefined) return `bad CIDR range (${v})`;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(addr);
  const ok4 = !!v4 && v4.slice(1).every((o) => Number(o) <= 255 && String(Number(o)) === o);
  const ok6 = !ok4 && addr.includes(':') && /^[0-9a-fA-F:.]+$/.test(addr);
  if (!ok4 && !ok6) return bits === undefined ? `bad IP address (${v})` : `bad CIDR range (${v})`;
  if (bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > (ok4 ? 32 : 128)))
    return `bad CIDR range (${v})`;
  return undefined;
}

/**
 * What Istio's validation webhook refuses in an AuthorizationPolicy (ValidateAuthorizationPolicy, 1.24), as
 * located problems. The API server's answer to `kubectl apply` would be an admission error naming the same.
 */
export function validateAuthorizationPolicy(spec: AuthorizationPolicySpec | null): Problem[] {
  const problems: Problem[] = [];
  const s = spec ?? {};
  const action = s.action ?? 'ALLOW';
  const rules = s.rules ?? undefined;
  if (action === 'CUSTOM') {
    if (rules === undefined)
      problems.push({
        path: ['rules'],
        message:
          'CUSTOM action without `rules` is meaningless as it will never be triggered; add an empty rule `{}` to trigger it for every request',
      });
    else if (!s.provider?.name)
      problems.push({ path: ['provider', 'name'], message: '`provider.name` must not be empty' });
  }
  if (s.provider && action !== 'CUSTOM')
    problems.push({ path: ['provider'], message: `\`provider\` must not be with non CUSTOM action, found ${action}` });
  if (action === 'DENY' && rules === undefined)
    problems.push({
      path: ['action'],
      message:
        'DENY action without `rules` is meaningless as it will never be triggered; add an empty rule `{}` to deny every request',
    });
  for (const [i, rule] of (rules ?? []).entries()) {
    const at = (...p: Array<string | number>) => ['rules', i, ...p];
    if (!rule) {
      problems.push({ path: at(), message: `\`rule\` must not be nil, found at rule ${i}` });
      continue;
    }
    if (rule.from && rule.from.length === 0) problems.push({ path: at('from'), message: '`from` must not be empty' });
    for (const [j, from] of (rule.from ?? []).entries()) {
      const src = from?.source;
      if (!src) {
        problems.push({ path: at('from', j), message: '`from.source` must not be nil' });
        continue;
      }
      if (!SOURCE_FIELDS.some((f) => (src[f]?.length ?? 0) > 0))
        problems.push({ path: at('from', j, 'source'), message: '`from.source` must not be empty' });
      for (const f of SOURCE_FIELDS) {
        for (const [k, v] of (src[f] ?? []).entries()) {
          if (v === '')
            problems.push({ path: at('from', j, 'source', f, k), message: `empty value not allowed in ${f}` });
          else if (/ipblocks/i.test(f) && ipProblem(v))
            problems.push({ path: at('from', j, 'source', f, k), message: ipProblem(v)! });
        }
      }
      if (action === 'CUSTOM')
        for (const f of SOURCE_FIELDS.filter((f) => /rincipals|amespaces/.test(f)))
          if (src[f]?.length)
            problems.push({
              path: at('from', j, 'source', f),
              message: `${f} is currently not supported with CUSTOM action`,
            });
    }
    if (rule.to && rule.to.length === 0) problems.push({ path: at('to'), message: '`to` must not be empty' });
    for (const [j, to] of (rule.to ?? []).entries()) {
      const op = to?.operation;
      if (!op) {
        problems.push({ path: at('to', j), message: '`to.operation` must not be nil' });
        continue;
      }
      if (!OPERATION_FIELDS.some((f) => (op[f]?.length ?? 0) > 0))
        problems.push({ path: at('to', j, 'operation'), message: '`to.operation` must not be empty' });
      for (const f of OPERATION_FIELDS) {
        for (const [k, v] of (op[f] ?? []).entries()) {
          const where = at('to', j, 'operation', f, k);
          if (v === '') problems.push({ path: where, message: `empty value not allowed in ${f}` });
          else if (/orts$/.test(f) && (!PORT.test(v) || Number(v) > 65535))
            problems.push({ path: where, message: `bad port (${v})` });
          else if (/aths$/.test(f) && pathTemplateProblem(v))
            problems.push({ path: where, message: pathTemplateProblem(v)! });
        }
      }
    }
    for (const [j, c] of (rule.when ?? []).entries()) {
      const where = at('when', j);
      if (!c) {
        problems.push({ path: where, message: 'when field cannot be nil' });
        continue;
      }
      if (!c.key) {
        problems.push({ path: [...where, 'key'], message: '`key` must not be empty' });
        continue;
      }
      if (!c.values?.length && !c.notValues?.length) {
        problems.push({
          path: where,
          message: `at least one of \`values\` or \`notValues\` must be set for key ${c.key}`,
        });
        continue;
      }
      const keyProblem = conditionKeyProblem(c.key);
      if (keyProblem) problems.push({ path: [...where, 'key'], message: keyProblem });
      for (const field of ['values', 'notValues'] as const) {
        for (const [k, v] of (c[field] ?? []).entries()) {
          const vp = [...where, field, k];
          if (v === '') problems.push({ path: vp, message: `empty value not allowed for key ${c.key}` });
          else if (['source.ip', 'remote.ip', 'destination.ip'].includes(c.key) && ipProblem(v))
            problems.push({ path: vp, message: ipProblem(v)! });
          else if (c.key === 'destination.port' && (!PORT.test(v) || Number(v) > 65535))
            problems.push({ path: vp, message: `bad port (${v})` });
        }
      }
      if (action === 'CUSTOM' && /^(source\.namespace|source\.principal|request\.auth\.)/.test(c.key))
        problems.push({ path: [...where, 'key'], message: `${c.key} is currently not supported with CUSTOM action` });
    }
  }
  return problems;
}

/** pkg/config/security ValidateAttribute: the key's family, and `a[b]` for the map attributes. */
function conditionKeyProblem(key: string): string | undefined {
  const mapKey = (prefix: string) => {
    const open = key.indexOf('[');
    return key.startsWith(prefix) && key.endsWith(']') && open > 0 && open < key.length - 2
      ? undefined
      : `bad key (${key}): should have format a[b]`;
  };
  if (key.startsWith('request.headers')) return mapKey('request.headers');
  if (key.startsWith('request.auth.claims')) return mapKey('request.auth.claims');
  if (key.startsWith('experimental.')) return mapKey('experimental.');
  if (key === 'destination.namespace') return `attribute ${key} is replaced by the metadata.namespace`;
  if (key.startsWith('destination.labels')) return `attribute ${key} is replaced by the workload selector`;
  if (key === 'destination.name' || key === 'destination.user')
    return `deprecated attribute ${key}: only supported in v1alpha1`;
  return knownConditionKey(key) ? undefined : `unknown attribute: ${key} (known: ${CONDITION_KEYS.join(', ')})`;
}

/** CheckValidPathTemplate: `{*}` and `{**}` only as whole segments, and no `*`, `{` or `}` elsewhere then. */
function pathTemplateProblem(path: string): string | undefined {
  const template = path.includes('{*}') || path.includes('{**}');
  for (const glob of path.split('/')) {
    if (glob === '{*}' || glob === '{**}') continue;
    if (/[{}]/.test(glob))
      return `invalid or unsupported path ${path}: contains '{' or '}' beyond a supported path template`;
    if (glob.includes('*') && template)
      return `invalid or unsupported path ${path}: contains '*' beyond a supported path template`;
  }
  return undefined;
}
