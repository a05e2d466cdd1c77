// The Istio objects meshprobe understands, validated the way the API server's CRD schemas would,
// and turned into plain typed data for the oracle.
import { z } from 'zod';
import {
  authorizationPolicySpec,
  DRY_RUN,
  dryRunOf,
  validateAuthorizationPolicy,
  type AuthorizationPolicySpec,
  type AuthzAction,
  type AuthzRule,
} from './authorization-policy.js';
import { wildcardDomainProblem } from './istio-host.js';
import type { KubeObject } from './kube-object.js';
import type { SourceDoc, Path } from './yaml-source.js';

export const MTLS_MODES = ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'] as const;
export type MtlsMode = (typeof MTLS_MODES)[number];
export const TLS_MODES = ['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'] as const;
export type TlsMode = (typeof TLS_MODES)[number];
export const LEGACY_MTLS_MODES = ['STRICT', 'PERMISSIVE'] as const;

export const API_VERSIONS = {
  PeerAuthentication: ['security.istio.io/v1beta1', 'security.istio.io/v1'],
  DestinationRule: ['networking.istio.io/v1alpha3', 'networking.istio.io/v1beta1', 'networking.istio.io/v1'],
  MeshPolicy: ['authentication.istio.io/v1alpha1'],
  Policy: ['authentication.istio.io/v1alpha1'],
  AuthorizationPolicy: ['security.istio.io/v1beta1', 'security.istio.io/v1'],
} as const;
export type IstioKind = keyof typeof API_VERSIONS;
export const ISTIO_KINDS = Object.keys(API_VERSIONS) as IstioKind[];
export const LEGACY_KINDS: ReadonlySet<IstioKind> = new Set(['MeshPolicy', 'Policy']);

interface Common {
  apiVersion: string;
  namespace: string | undefined;
  name: string;
  /** Creation order: Istio breaks ties between conflicting policies by age, oldest first. */
  order: number;
  raw: KubeObject;
}

export interface PeerAuthentication extends Common {
  kind: 'PeerAuthentication';
  namespace: string;
  selector: Record<string, string> | undefined;
  mode: MtlsMode;
  /** Keyed by workload (target) port, not service port. */
  portLevel: ReadonlyMap<number, MtlsMode>;
}

export interface DestinationRule extends Common {
  kind: 'DestinationRule';
  namespace: string;
  host: string;
  exportTo: string[];
  tls: TlsMode | undefined;
  /** Keyed by service port; an entry replaces the top-level traffic policy for that port. */
  portLevel: ReadonlyArray<{ port: number; tls: TlsMode | undefined }>;
}

interface LegacyCommon extends Common {
  targets: ReadonlyArray<{ name: string; ports: ReadonlyArray<{ number?: number; name?: string }> }>;
  /** The first `peers[].mtls`: STRICT (also `mtls: {}`), PERMISSIVE, or undefined when no peer asks for mTLS. */
  peerMtls: 'STRICT' | 'PERMISSIVE' | undefined;
}

/** Istio 1.4's mesh-wide policy: cluster-scoped. */
export interface MeshPolicy extends LegacyCommon {
  kind: 'MeshPolicy';
  namespace: undefined;
}

/** Istio 1.4's namespace- or service-level policy. */
export interface NamespacedPolicy extends LegacyCommon {
  kind: 'Policy';
  namespace: string;
}

export type LegacyPolicy = MeshPolicy | NamespacedPolicy;

/** security.istio.io AuthorizationPolicy, read by the server's sidecar (src/oracle/authorization). */
export interface AuthorizationPolicy extends Common {
  kind: 'AuthorizationPolicy';
  namespace: string;
  /** Undefined when the policy has no selector: it selects every workload of its scope. */
  selector: Record<string, string> | undefined;
  /** `targetRef(s)` are for gateways and waypoints: a sidecar ignores the policy (policyattachment.go). */
  hasTargetRefs: boolean;
  action: AuthzAction;
  provider: string | undefined;
  /** Undefined when the spec has no `rules`: the policy matches nothing. */
  rules: Array<AuthzRule | null> | undefined;
  /** The `istio.io/dry-run` annotation says true: shadow rules only, no effect on traffic. */
  dryRun: boolean;
}

export type IstioPolicy = PeerAuthentication | DestinationRule | LegacyPolicy | AuthorizationPolicy;

const dns1123 = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label: lower-case letters, digits and "-"')
  .max(63);
const dnsSubdomain = z
  .string()
  .max(253)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    'must be a DNS-1123 subdomain: lower-case letters, digits, "-" and "."',
  );
const labelMap = z.record(z.string(), z.string());
const port = z.number().int().min(1).max(65535);

const metadata = (namespaced: boolean) =>
  z.looseObject({
    name: dnsSubdomain,
    namespace: namespaced ? dns1123 : z.undefined({ error: 'is not allowed: this kind is cluster-scoped' }).optional(),
    labels: labelMap.optional(),
    annotations: labelMap.optional(),
  });

const mtls = z.strictObject({ mode: z.enum(MTLS_MODES).optional() });

const peerAuthenticationSpec = z
  .strictObject({
    selector: z.strictObject({ matchLabels: labelMap }).optional(),
    mtls: mtls.optional(),
    portLevelMtls: z.record(z.string().regex(/^\d+$/, 'must be a port number'), mtls).optional(),
  })
  .refine((s) => !s.portLevelMtls || s.selector, {
    message: 'portLevelMtls requires selector (as the PeerAuthentication CRD says)',
    path: ['portLevelMtls'],
  });

const clientTls = z.looseObject({ mode: z.enum(TLS_MODES) });
const trafficPolicyKeys = {
  tls: clientTls.optional(),
  connectionPool: z.unknown().optional(),
  loadBalancer: z.unknown().optional(),
  outlierDetection: z.unknown().optional(),
  tunnel: z.unknown().optional(),
  proxyProtocol: z.unknown().optional(),
  retryBudget: z.unknown().optional(),
};
const destinationRuleSpec = z.strictObject({
  // What the validation webhook would refuse mid-run is refused here, before any write.
  host: z.string().superRefine((host, ctx) => {
    const problem = wildcardDomainProblem(host);
    if (problem) ctx.addIssue({ code: 'custom', message: `${problem}, as Istio's validation refuses it` });
  }),
  exportTo: z.array(z.string()).optional(),
  workloadSelector: z.unknown().optional(),
  subsets: z.array(z.unknown()).optional(),
  trafficPolicy: z
    .strictObject({
      ...trafficPolicyKeys,
      portLevelSettings: z
        .array(z.strictObject({ port: z.strictObject({ number: port }), ...trafficPolicyKeys }))
        .optional(),
    })
    .optional(),
});

const legacyPeer = z.strictObject({
  mtls: z
    .strictObject({ mode: z.enum(LEGACY_MTLS_MODES).optional(), allowTls: z.boolean().optional() })
    .nullable()
    .optional(),
  jwt: z.unknown().optional(),
});
const legacyPolicySpec = z.strictObject({
  targets: z
    .array(
      z.strictObject({
        name: dns1123,
        ports: z.array(z.strictObject({ number: port.optional(), name: z.string().optional() })).optional(),
        labels: labelMap.optional(),
      }),
    )
    .optional(),
  peers: z.array(legacyPeer).nullable().optional(),
  peerIsOptional: z.boolean().optional(),
  origins: z.array(z.unknown()).optional(),
  originIsOptional: z.boolean().optional(),
  principalBinding: z.string().optional(),
});

const envelope = (kind: IstioKind, namespaced: boolean, spec: z.ZodType) =>
  z.strictObject({
    apiVersion: z.enum(API_VERSIONS[kind] as unknown as [string, ...string[]]),
    kind: z.literal(kind),
    metadata: metadata(namespaced),
    spec,
  });

const SCHEMAS: Record<IstioKind, z.ZodType> = {
  PeerAuthentication: envelope('PeerAuthentication', true, peerAuthenticationSpec),
  DestinationRule: envelope('DestinationRule', true, destinationRuleSpec),
  MeshPolicy: envelope('MeshPolicy', false, legacyPolicySpec),
  Policy: envelope('Policy', true, legacyPolicySpec),
  // `spec: {}` is the allow-nothing policy; `spec:` alone is null in YAML and means the same.
  AuthorizationPolicy: envelope('AuthorizationPolicy', true, authorizationPolicySpec),
};

export function isIstioKind(kind: unknown): kind is IstioKind {
  return typeof kind === 'string' && (ISTIO_KINDS as string[]).includes(kind);
}

/**
 * Validates one Istio object found at `path` in a source document and returns its typed form.
 * Throws located ConfigErrors.
 */
export function parseIstioObject(src: SourceDoc, path: Path, value: unknown, order: number): IstioPolicy {
  const kind = (value as { kind?: unknown } | null)?.kind;
  if (!isIstioKind(kind)) {
    throw src.error(
      [...path, 'kind'],
      `${kind === undefined ? 'is required' : `${JSON.stringify(kind)} is not a kind meshprobe can apply`}; expected one of ${ISTIO_KINDS.join(', ')}`,
    );
  }
  const raw = src.validate(SCHEMAS[kind], value, path) as KubeObject & { spec: Record<string, unknown> };
  if (kind === 'MeshPolicy' && raw.metadata.name !== 'default') {
    throw src.error(
      [...path, 'metadata', 'name'],
      `"${raw.metadata.name}" would be ignored by Istio: only the MeshPolicy named "default" is recognised`,
    );
  }
  // Istio 1.4's validation webhook (pkg/config/validation ValidateAuthenticationPolicy) refuses both.
  if (kind === 'Policy') {
    const targets = (raw.spec.targets as unknown[] | undefined)?.length ?? 0;
    if (targets === 0 && raw.metadata.name !== 'default')
      throw src.error(
        [...path, 'metadata', 'name'],
        `a Policy without targets is namespace-wide and must be named "default" (Istio's validation refuses "${raw.metadata.name}")`,
      );
    if (targets > 0 && raw.metadata.name === 'default')
      throw src.error(
        [...path, 'spec', 'targets'],
        'a Policy named "default" is namespace-wide and must not have targets (Istio\'s validation refuses it)',
      );
  }
  if (kind === 'AuthorizationPolicy') {
    const problems = validateAuthorizationPolicy(raw.spec as AuthorizationPolicySpec | null);
    if (problems.length)
      throw src.error(
        [...path, 'spec', ...problems[0]!.path],
        `${problems[0]!.message} (Istio's validation webhook refuses this AuthorizationPolicy${problems.length > 1 ? `, and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''}` : ''})`,
      );
  }
  return fromObject(raw, order);
}

/** The spec fields fromObject reads, as the schemas above (or the API server's CRD schemas) admit them. */
interface PolicySpec {
  selector?: { matchLabels?: Record<string, string> };
  mtls?: { mode?: MtlsMode } | null;
  portLevelMtls?: Record<string, { mode?: MtlsMode } | null>;
  host?: string;
  exportTo?: string[];
  trafficPolicy?: {
    tls?: { mode?: TlsMode };
    portLevelSettings?: Array<{ port: { number: number }; tls?: { mode?: TlsMode } }>;
  };
  targets?: Array<{ name: string; ports?: Array<{ number?: number; name?: string }> }>;
  peers?: Array<{ mtls?: { mode?: string } | null } | null> | null;
}

/** Typed form of an object already known to be valid (read back from a cluster, or produced by translation). */
export function fromObject(raw: KubeObject, order: number): IstioPolicy {
  const spec = (raw.spec ?? {}) as PolicySpec;
  const common = { apiVersion: raw.apiVersion, name: raw.metadata.name, order, raw };
  switch (raw.kind) {
    case 'PeerAuthentication':
      return {
        ...common,
        kind: 'PeerAuthentication',
        namespace: raw.metadata.namespace ?? 'default',
        selector: spec.selector?.matchLabels,
        mode: spec.mtls?.mode ?? 'UNSET',
        portLevel: new Map(Object.entries(spec.portLevelMtls ?? {}).map(([p, m]) => [Number(p), m?.mode ?? 'UNSET'])),
      };
    case 'DestinationRule':
      return {
        ...common,
        kind: 'DestinationRule',
        namespace: raw.metadata.namespace ?? 'default',
        host: spec.host ?? '',
        exportTo: spec.exportTo ?? [],
        tls: spec.trafficPolicy?.tls?.mode,
        portLevel: (spec.trafficPolicy?.portLevelSettings ?? []).map((p) => ({
          port: p.port.number,
          tls: p.tls?.mode,
        })),
      };
    case 'MeshPolicy':
      return { ...common, kind: 'MeshPolicy', namespace: undefined, ...legacyFields(spec) };
    case 'Policy':
      return { ...common, kind: 'Policy', namespace: raw.metadata.namespace ?? 'default', ...legacyFields(spec) };
    case 'AuthorizationPolicy': {
      const ap = (raw.spec ?? {}) as AuthorizationPolicySpec;
      return {
        ...common,
        kind: 'AuthorizationPolicy',
        namespace: raw.metadata.namespace ?? 'default',
        selector: ap.selector ? (ap.selector.matchLabels ?? {}) : undefined,
        hasTargetRefs: !!ap.targetRef || (ap.targetRefs?.length ?? 0) > 0,
        action: ap.action ?? 'ALLOW',
        provider: ap.provider?.name,
        rules: ap.rules ?? undefined,
        dryRun: dryRunOf(raw.metadata.annotations?.[DRY_RUN]),
      };
    }
    default:
      throw new Error(`not an Istio policy kind: ${raw.kind}`);
  }
}

function legacyFields(spec: PolicySpec): Pick<LegacyPolicy, 'targets' | 'peerMtls'> {
  return {
    targets: (spec.targets ?? []).map((t) => ({ name: t.name, ports: t.ports ?? [] })),
    peerMtls: legacyPeerMtls(spec.peers),
  };
}

/** Istio 1.4 `GetMutualTLS`: the first peer with an mtls method decides; `mtls: {}` or `mtls: null` is STRICT. */
function legacyPeerMtls(peers: PolicySpec['peers']): 'STRICT' | 'PERMISSIVE' | undefined {
  for (const peer of peers ?? []) {
    if (peer && 'mtls' in peer) return peer.mtls?.mode === 'PERMISSIVE' ? 'PERMISSIVE' : 'STRICT';
  }
  return undefined;
}

export function describePolicy(p: IstioPolicy): string {
  const id = p.namespace ? `${p.kind} ${p.namespace}/${p.name}` : `${p.kind} ${p.name}`;
  const from = p.raw.metadata.annotations?.[TRANSLATED_FROM];
  return from ? `${id} (from ${from})` : id;
}

/** Annotation meshprobe puts on objects it translated from a legacy kind. */
export const TRANSLATED_FROM = 'meshprobe.dev/translated-from';
