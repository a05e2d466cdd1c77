// What istiod 1.24.2 pushes to a sidecar and what it remembers about each push: the xDS types a change is
// sent on, the nonces sent and acknowledged per type, and the shape `/debug/syncz` reports them in. The
// control plane (control-plane.ts) decides when; this file says what.
import { randomUUID } from 'node:crypto';

/** The four types a 1.24 sidecar watches (no ECDS without WasmPlugins, no NDS without DNS capture). */
export const XDS_TYPES = {
  cds: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  eds: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  lds: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  rds: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
} as const;
export type XdsType = keyof typeof XDS_TYPES;
const ALL_TYPES: XdsType[] = ['cds', 'eds', 'lds', 'rds'];

/**
 * What changed, as the kinds in istiod's PushRequest.ConfigsUpdated. `Global` stands for a request with no
 * ConfigsUpdated (mesh config reload, CRDs): every type is pushed. Services and endpoints are both
 * `ServiceEntry` there (the Kubernetes service registry reports them so).
 */
export type ChangeKind =
  | 'PeerAuthentication'
  | 'DestinationRule'
  | 'AuthorizationPolicy'
  | 'RequestAuthentication'
  | 'ServiceEntry'
  | 'Global';

// istio/istio 1.24.2 pilot/pkg/xds/cds.go skippedCdsConfigs, eds.go skippedEdsConfigs, lds.go
// skippedLdsConfigs[SidecarProxy], rds.go skippedRdsConfigs: a full push whose every updated kind is
// skipped for a type sends nothing of that type (xdsgen.go pushXds returns before building a response, so
// the type's nonce does not change).
const SKIPPED: Record<XdsType, ReadonlySet<ChangeKind>> = {
  cds: new Set(['AuthorizationPolicy', 'RequestAuthentication']),
  eds: new Set(['AuthorizationPolicy', 'RequestAuthentication']),
  lds: new Set([]),
  rds: new Set(['AuthorizationPolicy', 'RequestAuthentication', 'PeerAuthentication']),
};

export interface PushRequest {
  /** False for an endpoints-only (incremental EDS) push. */
  full: boolean;
  kinds: ReadonlySet<ChangeKind>;
}

/** The types a push request sends to a sidecar (cdsNeedsPush, edsNeedsPush, ldsNeedsPush, rdsNeedsPush). */
export function pushedTypes(req: PushRequest): XdsType[] {
  const kinds = [...req.kinds];
  if (kinds.includes('Global')) return req.full ? [...ALL_TYPES] : ['eds'];
  const needs = (t: XdsType) => kinds.some((k) => !SKIPPED[t].has(k));
  // CDS, LDS and RDS handle full pushes only; EDS also the incremental ones.
  if (!req.full) return needs('eds') ? ['eds'] : [];
  return ALL_TYPES.filter(needs);
}

/** Merges two requests as istiod's debounce does (PushRequest.Merge): full if either is, kinds united. */
export function mergePush(a: PushRequest | undefined, b: PushRequest): PushRequest {
  if (!a) return { full: b.full, kinds: new Set(b.kinds) };
  return { full: a.full || b.full, kinds: new Set([...a.kinds, ...b.kinds]) };
}

/**
 * pilot/pkg/xds/discovery.go NextVersion: the push context's version, `time.Now().Format(time.RFC3339) +
 * "/" + counter`; each response's nonce is that version followed by a random UUID (discovery.go nonce).
 */
export function pushVersion(now: Date, counter: number): string {
  return `${now.toISOString().replace(/\.\d{3}Z$/, 'Z')}/${counter}`;
}

export function nonce(version: string): string {
  return version + randomUUID();
}

/** pkg/xds/server.go WatchedResource: the part `/debug/syncz` reports. */
export interface WatchedResource {
  nonceSent: string;
  nonceAcked: string;
  /** ms since the epoch; 0 when never sent. */
  lastSendTime: number;
}

export function watchedAll(version: string, at: number): Record<XdsType, WatchedResource> {
  const out = {} as Record<XdsType, WatchedResource>;
  for (const t of ALL_TYPES) {
    const n = nonce(version);
    out[t] = { nonceSent: n, nonceAcked: n, lastSendTime: at };
  }
  return out;
}

/** Go's time.Time JSON form (RFC3339Nano: fraction without trailing zeros, none when zero), in UTC. */
export function goTime(ms: number): string {
  if (ms === 0) return '0001-01-01T00:00:00Z';
  const iso = new Date(ms).toISOString();
  return iso.replace(/\.(\d{3})Z$/, (_m, f: string) => (/^0+$/.test(f) ? 'Z' : `.${f.replace(/0+$/, '')}Z`));
}

export interface SynczProxy {
  /** node.ID: `<pod>.<namespace>` */
  id: string;
  namespace: string;
  istioVersion: string;
  watched: Record<XdsType, WatchedResource>;
}

/**
 * pilot/pkg/xds/debug.go Syncz: one SyncStatus per connected proxy (SortedClients: cluster, namespace, id),
 * filtered by `?namespace=`, the fields in the struct's order with its omitempty rules, and `resources`
 * keyed by type URL (encoding/json sorts map keys). Compact JSON unless `?pretty` (four-space indent).
 */
export function syncz(proxies: SynczProxy[], query: URLSearchParams): string {
  const namespace = query.get('namespace') ?? '';
  const rows = proxies
    .filter((p) => namespace === '' || p.namespace === namespace)
    .sort((a, b) => cmp(a.namespace, b.namespace) || cmp(a.id, b.id))
    .map((p) => {
      const row: Record<string, unknown> = {
        cluster_id: 'Kubernetes',
        proxy: p.id,
        proxy_type: 'sidecar',
        ...(p.istioVersion ? { istio_version: p.istioVersion } : {}),
      };
      const field = { cds: 'cluster', lds: 'listener', rds: 'route', eds: 'endpoint' } as const;
      for (const t of ['cds', 'lds', 'rds', 'eds'] as const) {
        const w = p.watched[t];
        if (w.nonceSent) row[`${field[t]}_sent`] = w.nonceSent;
        if (w.nonceAcked) row[`${field[t]}_acked`] = w.nonceAcked;
      }
      const resources: Record<string, unknown> = {};
      for (const t of [...ALL_TYPES].sort((a, b) => cmp(XDS_TYPES[a], XDS_TYPES[b]))) {
        const w = p.watched[t];
        resources[XDS_TYPES[t]] = {
          ...(w.nonceSent ? { sent: w.nonceSent } : {}),
          ...(w.nonceAcked ? { acked: w.nonceAcked } : {}),
          sentTime: goTime(w.lastSendTime),
        };
      }
      row.resources = resources;
      return row;
    });
  return query.has('pretty') ? JSON.stringify(rows, null, 4) : JSON.stringify(rows);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
