// Loads a Topology file (meshprobe/v1 kind Topology) and the workload manifests it names.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { KubeObject } from './kube-object.js';
import { topologySizeProblem, type RequestSize } from './limits.js';
import {
  clientId,
  PROBE_METHODS,
  protocolOf,
  requestTargetId,
  selects,
  targetId,
  type Client,
  type Service,
  type Target,
  type Topology,
  type TopologyNamespace,
  type Workload,
} from './topology.js';
import { displayPath, readYamlFile, type SourceDoc } from './yaml-source.js';

export const DEFAULT_TOPOLOGY = fileURLToPath(new URL('../../manifests/topology/default.yaml', import.meta.url));

/** The path probed on a target: "/" then RFC 3986 pchars and "/" only (no query, fragment, space or quote that curl or a shell could misread). */
export const TARGET_PATH = /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/;

const name = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label: lower-case letters, digits and "-"')
  .max(63);
const targetPath = z.string().max(2048).regex(TARGET_PATH, 'must be an absolute URL path');

const topologySchema = z.strictObject({
  apiVersion: z.literal('meshprobe/v1'),
  kind: z.literal('Topology'),
  metadata: z.strictObject({ name: name, description: z.string().optional() }),
  spec: z.strictObject({
    namespaces: z.array(z.strictObject({ name, injection: z.boolean(), workloads: z.array(name).min(1) })).min(1),
    workloads: z.record(
      name,
      z.strictObject({
        manifest: z.string().min(1),
        client: z.strictObject({ container: name }).optional(),
        serve: z
          .array(
            z
              .strictObject({
                ports: z.array(z.union([z.string().min(1), z.number().int()])).min(1),
                path: targetPath.optional(),
                /** Several paths: one request (one matrix column) each, per method. */
                paths: z.array(targetPath).min(1).optional(),
                scheme: z.enum(['http', 'https']).optional(),
                methods: z.array(z.enum(PROBE_METHODS)).min(1).optional(),
                /** Only in these namespaces of the topology (default: wherever the workload runs). */
                namespaces: z.array(name).min(1).optional(),
              })
              .refine((s) => (s.path === undefined) !== (s.paths === undefined), {
                message: 'give either `path` or `paths`',
              }),
          )
          .optional(),
        secrets: z.array(z.strictObject({ name, type: z.literal('tls'), commonName: z.string().min(1) })).optional(),
      }),
    ),
  }),
});

// The parts of a workload manifest meshprobe reads: Service names and ports end up in probe URLs, so they
// are checked as Kubernetes would check them before anything is built from them.
const subdomain = z
  .string()
  .max(253)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    'must be a DNS-1123 subdomain: lower-case letters, digits, "-" and "."',
  );
const portNumber = z.number().int().min(1).max(65535);
const stringMap = z.record(z.string(), z.string());
const manifestObject = z.looseObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  metadata: z.looseObject({
    name: subdomain,
    namespace: z
      .undefined({ error: 'workload manifests must not set a namespace: the topology places them' })
      .optional(),
  }),
});
const serviceObject = z.looseObject({
  metadata: z.looseObject({
    name: z
      .string()
      .regex(
        /^[a-z]([-a-z0-9]*[a-z0-9])?$/,
        'must be a DNS-1035 label, as Kubernetes requires of Services: lower-case letters, digits and "-", starting with a letter',
      )
      .max(63),
  }),
  spec: z.looseObject({
    selector: stringMap.optional(),
    ports: z
      .array(
        z.looseObject({
          name: z.string().optional(),
          port: portNumber,
          targetPort: z.union([portNumber, z.string().min(1)]).optional(),
          appProtocol: z.string().optional(),
        }),
      )
      .optional(),
  }),
});
const deploymentObject = z.looseObject({
  spec: z.looseObject({
    template: z.looseObject({
      metadata: z.looseObject({ labels: stringMap.optional(), annotations: stringMap.optional() }).optional(),
      spec: z.looseObject({
        serviceAccountName: subdomain.optional(),
        containers: z
          .array(
            z.looseObject({
              name,
              ports: z.array(z.looseObject({ containerPort: portNumber, name: z.string().optional() })).optional(),
            }),
          )
          .min(1),
      }),
    }),
  }),
});

type TopologyFile = z.infer<typeof topologySchema>;
type WorkloadEntry = TopologyFile['spec']['workloads'][string];

type Container = z.infer<typeof deploymentObject>['spec']['template']['spec']['containers'][number];

/** A workload's manifest: its objects as written, and the parts meshprobe reads, validated. */
interface Manifest {
  objects: KubeObject[];
  template: z.infer<typeof deploymentObject>['spec']['template'];
  services: Array<{ name: string; spec: z.infer<typeof serviceObject>['spec'] }>;
}

export interface TopologyLoadOptions {
  /** The working directory paths in messages are shown relative to. */
  cwd?: string;
  /** The probe's measure of its exec request (src/probe/command.ts), to refuse a topology it cannot probe. */
  requestBytes?: RequestSize;
}

export function loadTopology(file = DEFAULT_TOPOLOGY, o: TopologyLoadOptions = {}): Topology {
  const docs = readYamlFile(file, o.cwd);
  const src = docs[0];
  if (!src || docs.length !== 1)
    throw new ConfigError(`${displayPath(file, o.cwd)}: expected exactly one Topology document, found ${docs.length}`);
  const spec = src.validate(topologySchema).spec;

  const manifests = new Map<string, Manifest>();
  for (const [wname, entry] of Object.entries(spec.workloads)) {
    manifests.set(wname, readManifest(src, resolve(dirname(file), entry.manifest), wname, entry, o.cwd));
  }

  const namespaces: TopologyNamespace[] = [];
  const workloads: Workload[] = [];
  const services: Service[] = [];
  const clients: Client[] = [];
  const targets: Target[] = [];
  const seenNs = new Set<string>();

  spec.namespaces.forEach((ns, i) => {
    if (seenNs.has(ns.name))
      throw src.error(['spec', 'namespaces', i, 'name'], `namespace "${ns.name}" is listed twice`);
    seenNs.add(ns.name);
    const topoNs: TopologyNamespace = { name: ns.name, injection: ns.injection, objects: [], secrets: [] };
    ns.workloads.forEach((wname, j) => {
      const entry = spec.workloads[wname];
      const manifest = manifests.get(wname);
      if (!entry || !manifest) {
        throw src.error(
          ['spec', 'namespaces', i, 'workloads', j],
          `workload "${wname}" is not defined under spec.workloads; defined: ${Object.keys(spec.workloads).join(', ')}`,
        );
      }
      topoNs.objects.push(...manifest.objects);
      for (const s of entry.secrets ?? [])
        topoNs.secrets.push({ namespace: ns.name, name: s.name, commonName: s.commonName });

      const template = manifest.template;
      const labels: Record<string, string> = template.metadata?.labels ?? {};
      const optOut = [template.metadata?.annotations, labels].some((m) => m?.['sidecar.istio.io/inject'] === 'false');
      workloads.push({
        namespace: ns.name,
        name: wname,
        labels,
        serviceAccount: template.spec.serviceAccountName ?? 'default',
        sidecar: ns.injection && !optOut,
      });

      const containers = template.spec.containers;
      for (const svc of manifest.services) {
        services.push({
          namespace: ns.name,
          name: svc.name,
          selector: svc.spec.selector ?? {},
          ports: (svc.spec.ports ?? []).map((p) => ({
            name: p.name,
            port: p.port,
            targetPort: resolveTargetPort(p.targetPort ?? p.port, containers, () =>
              src.error(
                ['spec', 'workloads', wname, 'manifest'],
                `Service "${svc.name}" port ${p.port}: named targetPort "${p.targetPort}" matches no container port of Deployment "${wname}"`,
              ),
            ),
            protocol: protocolOf(p.name, p.appProtocol),
          })),
        });
      }
      if (entry.client)
        clients.push({
          id: clientId(ns.name, wname),
          namespace: ns.name,
          workload: wname,
          container: entry.client.container,
        });
      for (const [k, serve] of (entry.serve ?? []).entries()) {
        if (serve.namespaces && !serve.namespaces.includes(ns.name)) continue;
        for (const svc of services.filter(
          (s) => s.namespace === ns.name && manifest.services.some((m) => m.name === s.name),
        )) {
          for (const wanted of serve.ports) {
            const port = svc.ports.find((p) => p.name === wanted || p.port === wanted);
            if (!port) continue;
            for (const method of serve.methods ?? ['GET']) {
              for (const path of serve.paths ?? [serve.path!]) {
                const portId = targetId(ns.name, svc.name, port.port);
                const samePort = targets.filter((t) => targetId(t.namespace, t.service, t.port.port) === portId);
                const id = samePort.length === 0 ? portId : requestTargetId(portId, method, path);
                if (samePort.some((t) => t.method === method && t.path === path))
                  throw src.error(
                    ['spec', 'workloads', wname, 'serve', k],
                    `${portId} is probed twice with ${method} ${path}`,
                  );
                targets.push({
                  id,
                  namespace: ns.name,
                  service: svc.name,
                  port,
                  scheme: serve.scheme ?? (port.protocol === 'tls' ? 'https' : 'http'),
                  method,
                  path,
                });
              }
            }
          }
        }
      }
    });
    namespaces.push(topoNs);
  });

  for (const [wname, entry] of Object.entries(spec.workloads))
    for (const [k, serve] of (entry.serve ?? []).entries())
      for (const [j, n] of (serve.namespaces ?? []).entries())
        if (!spec.namespaces.some((ns) => ns.name === n && ns.workloads.includes(wname)))
          throw src.error(
            ['spec', 'workloads', wname, 'serve', k, 'namespaces', j],
            `"${wname}" does not run in a namespace "${n}" of this topology`,
          );
  if (clients.length === 0)
    throw src.error(
      ['spec', 'workloads'],
      'no workload is a client (give one a `client: {container: NAME}`); there would be nothing to probe from',
    );
  if (targets.length === 0)
    throw src.error(
      ['spec', 'workloads'],
      'no workload serves a probed port (give one a `serve: [{ports: [...], path: /...}]`)',
    );
  const topology: Topology = {
    name: (src.data as TopologyFile).metadata.name,
    namespaces,
    workloads,
    services,
    clients,
    targets,
  };
  const tooLarge = topologySizeProblem(topology, o.requestBytes);
  if (tooLarge)
    throw src.error(['spec'], tooLarge, 'split the topology, or give fewer workloads a `client:` or a `serve:`');
  return topology;
}

function readManifest(src: SourceDoc, path: string, wname: string, entry: WorkloadEntry, cwd?: string): Manifest {
  const where = ['spec', 'workloads', wname, 'manifest'];
  let docs: SourceDoc[];
  try {
    docs = readYamlFile(path, cwd);
  } catch (e) {
    throw src.error(where, `cannot read manifest ${path}: ${(e as Error).message}`);
  }
  const objects = docs.map((d) => d.data as KubeObject);
  let template: Manifest['template'] | undefined;
  const candidates: Manifest['services'] = [];
  for (const [i, o] of objects.entries()) {
    const doc = docs[i]!;
    if (!o?.kind || !o.apiVersion || !o.metadata?.name)
      throw doc.error([], 'not a Kubernetes object (apiVersion, kind and metadata.name are required)');
    doc.validate(manifestObject, o);
    if (o.kind === 'Service') candidates.push({ name: o.metadata.name, spec: doc.validate(serviceObject, o).spec });
    if (o.kind === 'Deployment' && o.metadata.name === wname) {
      const spec = doc.validate(deploymentObject, o).spec;
      template ??= spec.template;
    }
  }
  if (!template) throw src.error(where, `${path} has no Deployment named "${wname}"`);
  const podLabels = template.metadata?.labels ?? {};
  const services = candidates.filter((s) => selects(s.spec.selector ?? {}, podLabels));
  const containers = template.spec.containers;
  if (entry.client && !containers.some((c) => c.name === entry.client!.container)) {
    throw src.error(
      [...where.slice(0, 3), 'client', 'container'],
      `Deployment "${wname}" has no container "${entry.client.container}"; it has ${containers.map((c) => c.name).join(', ')}`,
    );
  }
  for (const [i, serve] of (entry.serve ?? []).entries()) {
    for (const [j, wanted] of serve.ports.entries()) {
      const found = services.some((s) => (s.spec.ports ?? []).some((p) => p.name === wanted || p.port === wanted));
      if (!found)
        throw src.error(
          ['spec', 'workloads', wname, 'serve', i, 'ports', j],
          `no Service selecting "${wname}" has a port ${JSON.stringify(wanted)}`,
        );
    }
  }
  return { objects, template, services };
}

function resolveTargetPort(
  targetPort: number | string,
  containers: Container[],
  unresolved: () => ConfigError,
): number {
  if (typeof targetPort === 'number') return targetPort;
  for (const c of containers) for (const p of c.ports ?? []) if (p.name === targetPort) return p.containerPort;
  const n = Number(targetPort);
  if (Number.isInteger(n) && n >= 1 && n <= 65535) return n;
  throw unresolved();
}
