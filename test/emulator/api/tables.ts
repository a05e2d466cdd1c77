// Server-side printing (meta.k8s.io/v1 Table), the columns pkg/printers/internalversion defines for
// the built-ins and additionalPrinterColumns for CRDs: `kubectl get` prints what the server sends.
import type { KubeObject } from '../contracts.js';
import type { PrinterColumn, ResourceType } from './resources.js';

export interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

type Cells = (obj: KubeObject, now: number) => unknown[];

interface Printer {
  columns: ColumnDefinition[];
  cells: Cells;
}

const col = (name: string, type = 'string', priority = 0, format = ''): ColumnDefinition => ({
  name,
  type,
  format,
  description: '',
  priority,
});
const NAME = col('Name', 'string', 0, 'name');
const AGE = col('Age', 'string');

/** duration.HumanDuration, which every Age column uses. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${hours / 24}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const years = Math.floor(hours / 24 / 365);
  const days = Math.floor(hours / 24) % 365;
  if (hours < 24 * 365 * 8) return days === 0 ? `${years}y` : `${years}y${days}d`;
  return `${years}y`;
}

function age(obj: KubeObject, now: number): string {
  const created = obj.metadata.creationTimestamp;
  return created ? humanDuration(now - Date.parse(created)) : '<unknown>';
}

// Printers read loosely typed objects; `any` keeps the column code as short as the Go it mirrors.
type Any = Record<string, any>;

function selectorString(selector: Any | undefined): string {
  if (!selector) return '<none>';
  const parts = Object.entries((selector.matchLabels ?? {}) as Record<string, string>).map(([k, v]) => `${k}=${v}`);
  for (const e of (selector.matchExpressions ?? []) as Any[]) {
    const op = String(e.operator);
    if (op === 'Exists') parts.push(String(e.key));
    else if (op === 'DoesNotExist') parts.push(`!${String(e.key)}`);
    else parts.push(`${String(e.key)} ${op.toLowerCase()} (${((e.values ?? []) as string[]).join(',')})`);
  }
  return parts.length > 0 ? parts.join(',') : '<none>';
}

function mapSelector(selector: Record<string, string> | undefined): string {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 ? entries.map(([k, v]) => `${k}=${v}`).join(',') : '<none>';
}

function containersOf(template: Any | undefined): { names: string; images: string } {
  const cs = (template?.spec?.containers ?? []) as Any[];
  return { names: cs.map((c) => String(c.name)).join(','), images: cs.map((c) => String(c.image)).join(',') };
}

function podStatusReason(pod: Any): {
  reason: string;
  ready: number;
  total: number;
  restarts: number;
  lastRestart: number | undefined;
} {
  const status = (pod.status ?? {}) as Any;
  const containers = (pod.spec?.containers ?? []) as Any[];
  const statuses = (status.containerStatuses ?? []) as Any[];
  const initStatuses = (status.initContainerStatuses ?? []) as Any[];
  let reason: string = status.reason ?? status.phase ?? 'Pending';
  let restarts = 0;
  let lastRestart: number | undefined;
  const noteRestart = (s: Any): void => {
    restarts += Number(s.restartCount ?? 0);
    const finished = s.lastState?.terminated?.finishedAt;
    if (finished) lastRestart = Math.max(lastRestart ?? 0, Date.parse(finished));
  };
  let initializing = false;
  initStatuses.forEach((s, i) => {
    noteRestart(s);
    if (initializing) return;
    const t = s.state?.terminated;
    if (t && t.exitCode === 0) return;
    if (t) reason = t.reason ? `Init:${t.reason}` : `Init:ExitCode:${t.exitCode}`;
    else if (s.state?.waiting?.reason && s.state.waiting.reason !== 'PodInitializing')
      reason = `Init:${s.state.waiting.reason}`;
    else reason = `Init:${i}/${initStatuses.length}`;
    initializing = true;
  });
  let ready = 0;
  if (!initializing) {
    let hasRunning = false;
    for (const s of [...statuses].reverse()) {
      noteRestart(s);
      const st = s.state ?? {};
      if (st.waiting?.reason) reason = st.waiting.reason;
      else if (st.terminated?.reason) reason = st.terminated.reason;
      else if (st.terminated) reason = `ExitCode:${st.terminated.exitCode}`;
      else if (s.ready && st.running) {
        hasRunning = true;
        ready += 1;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = 'Running';
  }
  if (pod.metadata?.deletionTimestamp) reason = 'Terminating';
  return { reason, ready, total: containers.length, restarts, lastRestart };
}

function endpointsString(addresses: string[], total: number): string {
  if (total === 0) return '<none>';
  const shown = addresses.slice(0, 3).join(',');
  return total > 3 ? `${shown} + ${total - 3} more...` : shown;
}

const PRINTERS: Record<string, Printer> = {
  '/pods': {
    columns: [
      NAME,
      col('Ready'),
      col('Status'),
      col('Restarts'),
      AGE,
      col('IP', 'string', 1),
      col('Node', 'string', 1),
      col('Nominated Node', 'string', 1),
      col('Readiness Gates', 'string', 1),
    ],
    cells: (o, now) => {
      const p = o as Any;
      const s = podStatusReason(p);
      const restarts =
        s.lastRestart !== undefined ? `${s.restarts} (${humanDuration(now - s.lastRestart)} ago)` : String(s.restarts);
      const gates = (p.spec?.readinessGates ?? []) as Any[];
      const conditions = (p.status?.conditions ?? []) as Any[];
      const gatesCell =
        gates.length === 0
          ? '<none>'
          : `${gates.filter((g) => conditions.some((c) => c.type === g.conditionType && c.status === 'True')).length}/${gates.length}`;
      return [
        o.metadata.name,
        `${s.ready}/${s.total}`,
        s.reason,
        restarts,
        age(o, now),
        p.status?.podIP || '<none>',
        p.spec?.nodeName || '<none>',
        p.status?.nominatedNodeName || '<none>',
        gatesCell,
      ];
    },
  },
  'apps/deployments': {
    columns: [
      NAME,
      col('Ready'),
      col('Up-to-date', 'integer'),
      col('Available', 'integer'),
      AGE,
      col('Containers', 'string', 1),
      col('Images', 'string', 1),
      col('Selector', 'string', 1),
    ],
    cells: (o, now) => {
      const d = o as Any;
      const c = containersOf(d.spec?.template);
      return [
        o.metadata.name,
        `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`,
        d.status?.updatedReplicas ?? 0,
        d.status?.availableReplicas ?? 0,
        age(o, now),
        c.names,
        c.images,
        selectorString(d.spec?.selector),
      ];
    },
  },
  'apps/replicasets': {
    columns: [
      NAME,
      col('Desired', 'integer'),
      col('Current', 'integer'),
      col('Ready', 'integer'),
      AGE,
      col('Containers', 'string', 1),
      col('Images', 'string', 1),
      col('Selector', 'string', 1),
    ],
    cells: (o, now) => {
      const r = o as Any;
      const c = containersOf(r.spec?.template);
      return [
        o.metadata.name,
        r.spec?.replicas ?? 0,
        r.status?.replicas ?? 0,
        r.status?.readyReplicas ?? 0,
        age(o, now),
        c.names,
        c.images,
        selectorString(r.spec?.selector),
      ];
    },
  },
  '/services': {
    columns: [
      NAME,
      col('Type'),
      col('Cluster-IP'),
      col('External-IP'),
      col('Port(s)'),
      AGE,
      col('Selector', 'string', 1),
    ],
    cells: (o, now) => {
      const s = o as Any;
      const ports = ((s.spec?.ports ?? []) as Any[]).map((p) =>
        p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`,
      );
      const external =
        s.spec?.type === 'ExternalName'
          ? s.spec.externalName
          : ((s.spec?.externalIPs ?? []) as string[]).join(',') || '<none>';
      return [
        o.metadata.name,
        s.spec?.type ?? 'ClusterIP',
        s.spec?.clusterIP || '<none>',
        external,
        ports.length > 0 ? ports.join(',') : '<none>',
        age(o, now),
        mapSelector(s.spec?.selector),
      ];
    },
  },
  '/namespaces': {
    columns: [NAME, col('Status'), AGE],
    cells: (o, now) => [o.metadata.name, (o as Any).status?.phase ?? 'Active', age(o, now)],
  },
  '/configmaps': {
    columns: [NAME, col('Data', 'integer'), AGE],
    cells: (o, now) => [
      o.metadata.name,
      Object.keys((o as Any).data ?? {}).length + Object.keys((o as Any).binaryData ?? {}).length,
      age(o, now),
    ],
  },
  '/secrets': {
    columns: [NAME, col('Type'), col('Data', 'integer'), AGE],
    cells: (o, now) => [
      o.metadata.name,
      (o as Any).type ?? 'Opaque',
      Object.keys((o as Any).data ?? {}).length,
      age(o, now),
    ],
  },
  '/serviceaccounts': {
    columns: [NAME, col('Secrets', 'integer'), AGE],
    cells: (o, now) => [o.metadata.name, ((o as Any).secrets ?? []).length, age(o, now)],
  },
  '/endpoints': {
    columns: [NAME, col('Endpoints'), AGE],
    cells: (o, now) => {
      const all: string[] = [];
      for (const subset of ((o as Any).subsets ?? []) as Any[]) {
        for (const a of (subset.addresses ?? []) as Any[]) {
          const ports = (subset.ports ?? []) as Any[];
          if (ports.length === 0) all.push(String(a.ip));
          for (const p of ports) all.push(`${String(a.ip)}:${String(p.port)}`);
        }
      }
      return [o.metadata.name, endpointsString(all, all.length), age(o, now)];
    },
  },
  'discovery.k8s.io/endpointslices': {
    columns: [NAME, col('AddressType'), col('Ports'), col('Endpoints'), AGE],
    cells: (o, now) => {
      const e = o as Any;
      const ports = ((e.ports ?? []) as Any[]).map((p) => String(p.port ?? '<unset>'));
      const addresses = ((e.endpoints ?? []) as Any[]).flatMap((ep) => (ep.addresses ?? []) as string[]);
      return [
        o.metadata.name,
        e.addressType ?? 'IPv4',
        ports.length > 0 ? ports.join(',') : '<unset>',
        endpointsString(addresses, addresses.length),
        age(o, now),
      ];
    },
  },
  '/nodes': {
    columns: [
      NAME,
      col('Status'),
      col('Roles'),
      AGE,
      col('Version'),
      col('Internal-IP', 'string', 1),
      col('External-IP', 'string', 1),
      col('OS-Image', 'string', 1),
      col('Kernel-Version', 'string', 1),
      col('Container-Runtime', 'string', 1),
    ],
    cells: (o, now) => {
      const n = o as Any;
      const ready = ((n.status?.conditions ?? []) as Any[]).find((c) => c.type === 'Ready');
      const roles = Object.keys(n.metadata?.labels ?? {})
        .filter((k) => k.startsWith('node-role.kubernetes.io/'))
        .map((k) => k.slice('node-role.kubernetes.io/'.length));
      const addr = (type: string): string =>
        ((n.status?.addresses ?? []) as Any[]).find((a) => a.type === type)?.address ?? '<none>';
      const info = (n.status?.nodeInfo ?? {}) as Any;
      return [
        o.metadata.name,
        ready?.status === 'True' ? 'Ready' : 'NotReady',
        roles.length > 0 ? roles.join(',') : '<none>',
        age(o, now),
        info.kubeletVersion ?? '',
        addr('InternalIP'),
        addr('ExternalIP'),
        info.osImage ?? '',
        info.kernelVersion ?? '',
        info.containerRuntimeVersion ?? '',
      ];
    },
  },
  '/events': {
    columns: [
      col('Last Seen'),
      col('Type'),
      col('Reason'),
      col('Object'),
      col('Subobject', 'string', 1),
      col('Source', 'string', 1),
      col('Message'),
      col('First Seen', 'string', 1),
      col('Count', 'string', 1),
      { ...NAME, priority: 1 },
    ],
    cells: (o, now) => {
      const e = o as Any;
      const since = (t: string | undefined): string => (t ? humanDuration(now - Date.parse(t)) : '<unknown>');
      const source = e.source?.host ? `${e.source.component}, ${e.source.host}` : (e.source?.component ?? '');
      return [
        since(e.lastTimestamp),
        e.type ?? '',
        e.reason ?? '',
        `${String(e.involvedObject?.kind ?? '').toLowerCase()}/${String(e.involvedObject?.name ?? '')}`,
        e.involvedObject?.fieldPath ?? '',
        source,
        e.message ?? '',
        since(e.firstTimestamp),
        String(e.count ?? 1),
        o.metadata.name,
      ];
    },
  },
  'apiextensions.k8s.io/customresourcedefinitions': {
    columns: [NAME, col('Created At', 'date')],
    cells: (o) => [o.metadata.name, o.metadata.creationTimestamp ?? ''],
  },
  'admissionregistration.k8s.io/mutatingwebhookconfigurations': {
    columns: [NAME, col('Webhooks', 'integer'), AGE],
    cells: (o, now) => [o.metadata.name, ((o as Any).webhooks ?? []).length, age(o, now)],
  },
  'admissionregistration.k8s.io/validatingwebhookconfigurations': {
    columns: [NAME, col('Webhooks', 'integer'), AGE],
    cells: (o, now) => [o.metadata.name, ((o as Any).webhooks ?? []).length, age(o, now)],
  },
};

/** A CRD printer column's JSONPath, in the simple forms CRDs use: `.spec.host`, `.a[0].b`, `.a[*].b`. */
export function evaluateJsonPath(obj: unknown, path: string): unknown {
  const tokens = path
    .replace(/^\{|\}$/g, '')
    .replace(/^\./, '')
    .split(/\.|(?=\[)/)
    .filter((t) => t.length > 0);
  let values: unknown[] = [obj];
  for (const token of tokens) {
    const next: unknown[] = [];
    const index = /^\[(\*|\d+)\]$/.exec(token);
    for (const v of values) {
      if (index) {
        if (!Array.isArray(v)) continue;
        if (index[1] === '*') next.push(...v);
        else if (v[Number(index[1])] !== undefined) next.push(v[Number(index[1])]);
      } else if (v && typeof v === 'object' && (v as Any)[token] !== undefined) {
        next.push((v as Any)[token]);
      }
    }
    values = next;
  }
  if (values.length === 0) return undefined;
  return values.length === 1
    ? values[0]
    : values.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(',');
}

function customPrinter(columns: PrinterColumn[]): Printer {
  if (columns.length === 0) return { columns: [NAME, AGE], cells: (o, now) => [o.metadata.name, age(o, now)] };
  return {
    columns: [
      NAME,
      ...columns.map((c) => ({
        name: c.name,
        type: c.type,
        format: c.format ?? '',
        description: c.description ?? '',
        priority: c.priority ?? 0,
      })),
    ],
    cells: (o, now) => [
      o.metadata.name,
      ...columns.map((c) => {
        const value = evaluateJsonPath(o, c.jsonPath);
        if (value === undefined || value === null) return null;
        if (c.type === 'date' && typeof value === 'string') return humanDuration(now - Date.parse(value));
        return typeof value === 'object' ? JSON.stringify(value) : value;
      }),
    ],
  };
}

const DEFAULT_PRINTER: Printer = {
  columns: [NAME, col('Created At', 'date')],
  cells: (o) => [o.metadata.name, o.metadata.creationTimestamp ?? ''],
};

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function toTable(
  type: ResourceType,
  objects: KubeObject[],
  resourceVersion: string,
  include: IncludeObject,
  extraMetadata: Record<string, unknown> = {},
): object {
  const printer = type.custom
    ? customPrinter(type.printerColumns)
    : (PRINTERS[`${type.group}/${type.resource}`] ?? DEFAULT_PRINTER);
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion, ...extraMetadata },
    columnDefinitions: printer.columns,
    rows: objects.map((o) => {
      const row: Record<string, unknown> = { cells: printer.cells(o, now) };
      if (include === 'Metadata')
        row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
      else if (include === 'Object') row.object = o;
      return row;
    }),
  };
}

/** Whether an Accept header asks for a Table (kubectl get sends `application/json;as=Table;v=v1;g=meta.k8s.io,...`). */
export function wantsTable(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((part) => {
    const params = part.split(';').map((p) => p.trim());
    return (
      params.includes('as=Table') &&
      params.includes('g=meta.k8s.io') &&
      (params.includes('v=v1') || params.includes('v=v1beta1'))
    );
  });
}
