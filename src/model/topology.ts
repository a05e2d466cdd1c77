// The test topology as plain data: namespaces, workloads, services, who probes and what is probed.
import type { KubeObject } from './kube-object.js';

/** How Istio treats a port, chosen from its name prefix or appProtocol (istio.io "Protocol Selection"). */
export type PortProtocol = 'http' | 'tls' | 'tcp';

export interface ServicePort {
  name: string | undefined;
  port: number;
  /** Resolved to a number (named target ports are looked up in the backing containers). */
  targetPort: number;
  protocol: PortProtocol;
}

export interface Service {
  namespace: string;
  name: string;
  selector: Record<string, string>;
  ports: ServicePort[];
}

export interface Workload {
  namespace: string;
  name: string;
  /** Pod template labels. */
  labels: Record<string, string>;
  serviceAccount: string;
  /** Whether its pods get an istio-proxy: namespace injection unless the pod opts out. */
  sidecar: boolean;
}

export interface Client {
  /** `NAMESPACE/WORKLOAD`, the row key of every matrix. */
  id: string;
  namespace: string;
  workload: string;
  container: string;
}

export interface Target {
  /**
   * The column key of every matrix: `NAMESPACE/SERVICE:PORT` for the first request a topology sends to a
   * port, `NAMESPACE/SERVICE:PORT METHOD PATH` for any further one (model/matrix.ts).
   */
  id: string;
  namespace: string;
  service: string;
  port: ServicePort;
  scheme: 'http' | 'https';
  /** The HTTP method curl sends: GET unless the topology says otherwise. */
  method: string;
  path: string;
}

export interface TlsSecretSpec {
  namespace: string;
  name: string;
  commonName: string;
}

export interface TopologyNamespace {
  name: string;
  injection: boolean;
  /** The Kubernetes objects to apply in this namespace, in order (no namespace set in them). */
  objects: KubeObject[];
  secrets: TlsSecretSpec[];
}

export interface Topology {
  name: string;
  namespaces: TopologyNamespace[];
  workloads: Workload[];
  services: Service[];
  clients: Client[];
  targets: Target[];
}

export const clientId = (namespace: string, workload: string): string => `${namespace}/${workload}`;
export const targetId = (namespace: string, service: string, port: number): string => `${namespace}/${service}:${port}`;
/** A further request to a port already probed: its method and path follow the port. */
export const requestTargetId = (port: string, method: string, path: string): string => `${port} ${method} ${path}`;

/** Methods a probe may send: curl's `-X` with no body (HEAD would make curl wait for a body that never comes). */
export const PROBE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export function findWorkload(topology: Topology, namespace: string, name: string): Workload | undefined {
  return topology.workloads.find((w) => w.namespace === namespace && w.name === name);
}

export function findService(topology: Topology, namespace: string, name: string): Service | undefined {
  return topology.services.find((s) => s.namespace === namespace && s.name === name);
}

export function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  const keys = Object.keys(selector);
  return keys.length > 0 && keys.every((k) => labels[k] === selector[k]);
}

/** The workloads a service sends traffic to. */
export function backends(topology: Topology, service: Service): Workload[] {
  return topology.workloads.filter((w) => w.namespace === service.namespace && selects(service.selector, w.labels));
}

/** Istio's protocol selection: explicit appProtocol, else the port name's prefix before the first "-". */
export function protocolOf(name: string | undefined, appProtocol?: string): PortProtocol {
  const p = (appProtocol ?? name?.split('-')[0] ?? '').toLowerCase();
  if (p === 'https' || p === 'tls') return 'tls';
  if (['tcp', 'mongo', 'mysql', 'redis', 'udp'].includes(p)) return 'tcp';
  // http, http2, grpc, grpc-web, and unnamed ports (which Istio sniffs; our probes are HTTP) are L7.
  return 'http';
}
