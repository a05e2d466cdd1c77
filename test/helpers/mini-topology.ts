// Small topologies built in code, for oracle tests that need one client and one server.
import { fromObject, type IstioPolicy } from '../../src/model/istio-objects.js';
import type { KubeObject } from '../../src/model/kube-object.js';
import { protocolOf, type Topology } from '../../src/model/topology.js';

export interface MiniOptions {
  clientSidecar: boolean;
  serverSidecar: boolean;
  /** Service port name, which decides HTTP vs TLS handling. */
  portName?: string;
  clientNs?: string;
  serverNs?: string;
}

/** client `c/sleep` → server `s/app` behind Service `s/app` port 8000 → 8080 (plus 9080 → 8080). */
export function miniTopology(o: MiniOptions): Topology {
  const clientNs = o.clientNs ?? 'c';
  const serverNs = o.serverNs ?? 's';
  const name = o.portName ?? 'http';
  const ports = [
    { name, port: 8000, targetPort: 8080, protocol: protocolOf(name) },
    { name: `${name}-alt`, port: 9080, targetPort: 8080, protocol: protocolOf(name) },
  ];
  return {
    name: 'mini',
    namespaces: [
      { name: clientNs, injection: o.clientSidecar, objects: [], secrets: [] },
      { name: serverNs, injection: o.serverSidecar, objects: [], secrets: [] },
    ],
    workloads: [
      {
        namespace: clientNs,
        name: 'sleep',
        labels: { app: 'sleep' },
        serviceAccount: 'sleep',
        sidecar: o.clientSidecar,
      },
      {
        namespace: serverNs,
        name: 'app',
        labels: { app: 'app', version: 'v1' },
        serviceAccount: 'app',
        sidecar: o.serverSidecar,
      },
    ],
    services: [{ namespace: serverNs, name: 'app', selector: { app: 'app' }, ports }],
    clients: [{ id: `${clientNs}/sleep`, namespace: clientNs, workload: 'sleep', container: 'sleep' }],
    targets: ports.map((port) => ({
      id: `${serverNs}/app:${port.port}`,
      namespace: serverNs,
      service: 'app',
      port,
      scheme: port.protocol === 'tls' ? 'https' : 'http',
      method: 'GET',
      path: '/',
    })),
  };
}

/** Istio objects from plain literals, in creation order. */
export function policies(...objects: KubeObject[]): IstioPolicy[] {
  return objects.map((o, i) => fromObject(o, i));
}

export const pa = (namespace: string, name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'security.istio.io/v1beta1',
  kind: 'PeerAuthentication',
  metadata: { name, namespace },
  spec,
});
export const dr = (namespace: string, name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'networking.istio.io/v1alpha3',
  kind: 'DestinationRule',
  metadata: { name, namespace },
  spec,
});
export const meshPolicy = (spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'authentication.istio.io/v1alpha1',
  kind: 'MeshPolicy',
  metadata: { name: 'default' },
  spec,
});
export const policy = (namespace: string, name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'authentication.istio.io/v1alpha1',
  kind: 'Policy',
  metadata: { name, namespace },
  spec,
});
