// Sidecar injection as istiod's mutating webhook does it: which pods get a sidecar (namespace label,
// pod opt-out / opt-in), and what the injected pod looks like (istio-init, istio-proxy on
// proxyv2:<version>, the tlsMode / canonical-name labels, the sidecar.istio.io/status annotation).
import type { KubeObject } from '../contracts.js';
import type { MemoryStore } from '../store.js';
import type { AdmissionPlugin } from '../api/admission.js';
import type { Flavor } from './crds.js';
import { injectingRevision, istiodName } from './webhooks.js';

type Any = Record<string, any>; // loosely typed Kubernetes objects

export const INJECT = 'sidecar.istio.io/inject';
export const TLS_MODE_LABEL = 'security.istio.io/tlsMode';

/** The namespaces the injector never touches (1.24.2 pkg/kube/inject/initializer.go IgnoredNamespaces). */
const IGNORED_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage']);

/**
 * The injector's own decision for a pod its webhook was called for (which webhook is called, by namespace
 * and pod labels, is the API server's: webhooks.ts injectingRevision). 1.24.2 pkg/kube/inject/inject.go
 * injectRequired: not with hostNetwork nor in an ignored namespace; the `sidecar.istio.io/inject` label, else
 * the annotation, opts in (y, yes, true, on) or out (anything else); unset follows the policy, enabled.
 */
export function shouldInject(flavor: Flavor, namespace: KubeObject | undefined, pod: KubeObject): boolean {
  const ns = namespace?.metadata.labels ?? {};
  const labels = pod.metadata.labels ?? {};
  const annotations = pod.metadata.annotations ?? {};
  const spec = (pod.spec ?? {}) as Any;
  if (spec.hostNetwork) return false;
  if (annotations['sidecar.istio.io/status']) return false;
  if (flavor === 'legacy') {
    // 1.4: the namespace label selects, the pod annotation can opt out; istio-system is never injected.
    if (IGNORED_NAMESPACES.has(pod.metadata.namespace ?? '') || pod.metadata.namespace === 'istio-system') return false;
    return ns['istio-injection'] === 'enabled' && annotations[INJECT] !== 'false';
  }
  if (IGNORED_NAMESPACES.has(pod.metadata.namespace ?? '')) return false;
  const choice = (labels[INJECT] ?? annotations[INJECT] ?? '').toLowerCase();
  return choice === '' || ['y', 'yes', 'true', 'on'].includes(choice);
}

/** The workload a pod belongs to, as istiod names it (a ReplicaSet's pods belong to its Deployment). */
function workloadName(pod: KubeObject): { name: string; kind: string } {
  const owner = (pod.metadata.ownerReferences ?? []).find((r) => r.controller);
  if (!owner) return { name: pod.metadata.name, kind: 'pods' };
  const hash = pod.metadata.labels?.['pod-template-hash'];
  if (owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`))
    return { name: owner.name.slice(0, -hash.length - 1), kind: 'deployments' };
  return { name: owner.name, kind: `${owner.kind.toLowerCase()}s` };
}

function fieldEnv(name: string, fieldPath: string): Any {
  return { name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } };
}

function modernSidecar(
  pod: Any,
  version: string,
  apps: Any[],
  revision: string,
): { init: Any; proxy: Any; volumes: Any[] } {
  const image = `docker.io/istio/proxyv2:${version}`;
  const workload = workloadName(pod as KubeObject);
  const podPorts = apps
    .flatMap((c) => (c.ports ?? []) as Any[])
    .map((p) => ({
      containerPort: p.containerPort,
      protocol: p.protocol ?? 'TCP',
      ...(p.name ? { name: p.name } : {}),
    }));
  const init = {
    name: 'istio-init',
    image,
    imagePullPolicy: 'IfNotPresent',
    args: [
      'istio-iptables',
      '-p',
      '15001',
      '-z',
      '15006',
      '-u',
      '1337',
      '-m',
      'REDIRECT',
      '-i',
      '*',
      '-x',
      '',
      '-b',
      '*',
      '-d',
      '15090,15021,15020',
      '--log_output_level=default:info',
    ],
    resources: { limits: { cpu: '2', memory: '1Gi' }, requests: { cpu: '100m', memory: '128Mi' } },
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
      privileged: false,
      readOnlyRootFilesystem: false,
      runAsGroup: 0,
      runAsNonRoot: false,
      runAsUser: 0,
    },
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
  };
  const proxy = {
    name: 'istio-proxy',
    image,
    imagePullPolicy: 'IfNotPresent',
    args: [
      'proxy',
      'sidecar',
      '--domain',
      '$(POD_NAMESPACE).svc.cluster.local',
      '--proxyLogLevel=warning',
      '--proxyComponentLogLevel=misc:error',
      '--log_output_level=default:info',
    ],
    env: [
      { name: 'PILOT_CERT_PROVIDER', value: 'istiod' },
      // injection-template.yaml: the injecting revision's istiod.
      { name: 'CA_ADDR', value: `${istiodName(revision === 'default' ? undefined : revision)}.istio-system.svc:15012` },
      fieldEnv('POD_NAME', 'metadata.name'),
      fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
      fieldEnv('INSTANCE_IP', 'status.podIP'),
      fieldEnv('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
      fieldEnv('HOST_IP', 'status.hostIP'),
      { name: 'ISTIO_CPU_LIMIT', valueFrom: { resourceFieldRef: { divisor: '0', resource: 'limits.cpu' } } },
      { name: 'PROXY_CONFIG', value: '{}\n' },
      { name: 'ISTIO_META_POD_PORTS', value: JSON.stringify(podPorts) },
      { name: 'ISTIO_META_APP_CONTAINERS', value: apps.map((c) => c.name).join(',') },
      { name: 'GOMEMLIMIT', valueFrom: { resourceFieldRef: { divisor: '0', resource: 'limits.memory' } } },
      { name: 'GOMAXPROCS', valueFrom: { resourceFieldRef: { divisor: '0', resource: 'limits.cpu' } } },
      { name: 'ISTIO_META_CLUSTER_ID', value: 'Kubernetes' },
      fieldEnv('ISTIO_META_NODE_NAME', 'spec.nodeName'),
      { name: 'ISTIO_META_INTERCEPTION_MODE', value: 'REDIRECT' },
      { name: 'ISTIO_META_WORKLOAD_NAME', value: workload.name },
      {
        name: 'ISTIO_META_OWNER',
        value: `kubernetes://apis/${workload.kind === 'pods' ? 'v1' : 'apps/v1'}/namespaces/${String(pod.metadata.namespace)}/${workload.kind}/${workload.name}`,
      },
      { name: 'ISTIO_META_MESH_ID', value: 'cluster.local' },
      { name: 'TRUST_DOMAIN', value: 'cluster.local' },
    ],
    ports: [{ containerPort: 15090, name: 'http-envoy-prom', protocol: 'TCP' }],
    readinessProbe: {
      failureThreshold: 4,
      httpGet: { path: '/healthz/ready', port: 15021, scheme: 'HTTP' },
      periodSeconds: 15,
      successThreshold: 1,
      timeoutSeconds: 3,
    },
    startupProbe: {
      failureThreshold: 600,
      httpGet: { path: '/healthz/ready', port: 15021, scheme: 'HTTP' },
      periodSeconds: 1,
      successThreshold: 1,
      timeoutSeconds: 3,
    },
    resources: { limits: { cpu: '2', memory: '1Gi' }, requests: { cpu: '100m', memory: '128Mi' } },
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsGroup: 1337,
      runAsNonRoot: true,
      runAsUser: 1337,
    },
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    volumeMounts: [
      { mountPath: '/var/run/secrets/workload-spiffe-uds', name: 'workload-socket' },
      { mountPath: '/var/run/secrets/credential-uds', name: 'credential-socket' },
      { mountPath: '/var/run/secrets/workload-spiffe-credentials', name: 'workload-certs' },
      { mountPath: '/var/run/secrets/istio', name: 'istiod-ca-cert' },
      { mountPath: '/var/lib/istio/data', name: 'istio-data' },
      { mountPath: '/etc/istio/proxy', name: 'istio-envoy' },
      { mountPath: '/var/run/secrets/tokens', name: 'istio-token' },
      { mountPath: '/etc/istio/pod', name: 'istio-podinfo' },
    ],
  };
  const volumes = [
    { name: 'workload-socket', emptyDir: {} },
    { name: 'credential-socket', emptyDir: {} },
    { name: 'workload-certs', emptyDir: {} },
    { name: 'istio-envoy', emptyDir: { medium: 'Memory' } },
    { name: 'istio-data', emptyDir: {} },
    {
      name: 'istio-podinfo',
      downwardAPI: {
        defaultMode: 420,
        items: [
          { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.labels' }, path: 'labels' },
          { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.annotations' }, path: 'annotations' },
        ],
      },
    },
    {
      name: 'istio-token',
      projected: {
        defaultMode: 420,
        sources: [{ serviceAccountToken: { audience: 'istio-ca', expirationSeconds: 43200, path: 'istio-token' } }],
      },
    },
    { name: 'istiod-ca-cert', configMap: { defaultMode: 420, name: 'istio-ca-root-cert' } },
  ];
  return { init, proxy, volumes };
}

function legacySidecar(pod: Any, version: string, apps: Any[]): { init: Any; proxy: Any; volumes: Any[] } {
  const image = `docker.io/istio/proxyv2:${version}`;
  const app = (pod.metadata.labels?.app as string | undefined) ?? workloadName(pod as KubeObject).name;
  const ports = apps.flatMap((c) => (c.ports ?? []) as Any[]).map((p) => String(p.containerPort));
  const account = String(pod.spec.serviceAccountName ?? 'default');
  const init = {
    name: 'istio-init',
    image,
    imagePullPolicy: 'IfNotPresent',
    command: [
      'istio-iptables',
      '-p',
      '15001',
      '-z',
      '15006',
      '-u',
      '1337',
      '-m',
      'REDIRECT',
      '-i',
      '*',
      '-x',
      '',
      '-b',
      ports.length > 0 ? ports.join(',') : '*',
      '-d',
      '15020',
    ],
    resources: { limits: { cpu: '100m', memory: '50Mi' }, requests: { cpu: '10m', memory: '10Mi' } },
    securityContext: { capabilities: { add: ['NET_ADMIN'] }, runAsNonRoot: false, runAsUser: 0 },
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
  };
  const proxy = {
    name: 'istio-proxy',
    image,
    imagePullPolicy: 'IfNotPresent',
    args: [
      'proxy',
      'sidecar',
      '--domain',
      '$(POD_NAMESPACE).svc.cluster.local',
      '--configPath',
      '/etc/istio/proxy',
      '--binaryPath',
      '/usr/local/bin/envoy',
      '--serviceCluster',
      `${app}.$(POD_NAMESPACE)`,
      '--drainDuration',
      '45s',
      '--parentShutdownDuration',
      '1m0s',
      '--discoveryAddress',
      'istio-pilot.istio-system:15010',
      '--zipkinAddress',
      'zipkin.istio-system:9411',
      '--proxyLogLevel=warning',
      '--proxyComponentLogLevel=misc:error',
      '--connectTimeout',
      '10s',
      '--proxyAdminPort',
      '15000',
      '--concurrency',
      '2',
      '--controlPlaneAuthPolicy',
      'NONE',
      '--dnsRefreshRate',
      '300s',
      '--statusPort',
      '15020',
      '--applicationPorts',
      ports.join(','),
      '--trust-domain=cluster.local',
    ],
    env: [
      fieldEnv('POD_NAME', 'metadata.name'),
      {
        name: 'ISTIO_META_POD_PORTS',
        value: JSON.stringify(
          apps
            .flatMap((c) => (c.ports ?? []) as Any[])
            .map((p) => ({ containerPort: p.containerPort, protocol: p.protocol ?? 'TCP' })),
        ),
      },
      { name: 'ISTIO_META_CLUSTER_ID', value: 'Kubernetes' },
      fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
      fieldEnv('INSTANCE_IP', 'status.podIP'),
      fieldEnv('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
      { name: 'ISTIO_META_POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
      {
        name: 'ISTIO_META_CONFIG_NAMESPACE',
        valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } },
      },
      { name: 'SDS_ENABLED', value: 'false' },
      { name: 'ISTIO_META_INTERCEPTION_MODE', value: 'REDIRECT' },
      { name: 'ISTIO_META_INCLUDE_INBOUND_PORTS', value: ports.join(',') },
      { name: 'ISTIO_METAJSON_LABELS', value: JSON.stringify(pod.metadata.labels ?? {}) },
      { name: 'ISTIO_META_WORKLOAD_NAME', value: workloadName(pod as KubeObject).name },
      { name: 'ISTIO_META_MESH_ID', value: 'cluster.local' },
    ],
    ports: [{ containerPort: 15090, name: 'http-envoy-prom', protocol: 'TCP' }],
    readinessProbe: {
      failureThreshold: 30,
      httpGet: { path: '/healthz/ready', port: 15020, scheme: 'HTTP' },
      initialDelaySeconds: 1,
      periodSeconds: 2,
      successThreshold: 1,
      timeoutSeconds: 1,
    },
    resources: { limits: { cpu: '2', memory: '1Gi' }, requests: { cpu: '100m', memory: '128Mi' } },
    securityContext: { readOnlyRootFilesystem: true, runAsUser: 1337 },
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    volumeMounts: [
      { mountPath: '/etc/istio/proxy', name: 'istio-envoy' },
      { mountPath: '/etc/certs/', name: 'istio-certs', readOnly: true },
    ],
  };
  const volumes = [
    { name: 'istio-envoy', emptyDir: { medium: 'Memory' } },
    { name: 'istio-certs', secret: { defaultMode: 420, optional: true, secretName: `istio.${account}` } },
  ];
  return { init, proxy, volumes };
}

export function sidecarInjector(store: MemoryStore, flavor: Flavor, version: string): AdmissionPlugin {
  return {
    name: 'istio-sidecar-injector',
    admit({ operation, type, object }) {
      if (operation !== 'CREATE' || type.group !== '' || type.resource !== 'pods') return;
      const namespace = store.get('', 'namespaces', undefined, object.metadata.namespace ?? '');
      const revision = injectingRevision(store, namespace, object);
      if (revision === undefined || !shouldInject(flavor, namespace, object)) return;
      const pod = object as Any;
      const apps = (pod.spec.containers ?? []) as Any[];
      const { init, proxy, volumes } =
        flavor === 'modern' ? modernSidecar(pod, version, apps, revision) : legacySidecar(pod, version, apps);
      pod.spec.initContainers = [...((pod.spec.initContainers ?? []) as Any[]), init];
      pod.spec.containers = [...apps, proxy];
      pod.spec.volumes = [...((pod.spec.volumes ?? []) as Any[]), ...volumes];
      const labels = (pod.metadata.labels ??= {}) as Record<string, string>;
      const annotations = (pod.metadata.annotations ??= {}) as Record<string, string>;
      labels[TLS_MODE_LABEL] = 'istio';
      if (flavor === 'modern') {
        const workload = workloadName(object);
        labels['service.istio.io/canonical-name'] ??= labels['app.kubernetes.io/name'] ?? labels.app ?? workload.name;
        labels['service.istio.io/canonical-revision'] ??=
          labels['app.kubernetes.io/version'] ?? labels.version ?? 'latest';
        annotations['istio.io/rev'] = revision;
        const first = apps[0]?.name as string | undefined;
        if (first) {
          annotations['kubectl.kubernetes.io/default-container'] ??= first;
          annotations['kubectl.kubernetes.io/default-logs-container'] ??= first;
        }
        annotations['prometheus.io/path'] = '/stats/prometheus';
        annotations['prometheus.io/port'] = '15020';
        annotations['prometheus.io/scrape'] = 'true';
        annotations['sidecar.istio.io/status'] = JSON.stringify({
          initContainers: ['istio-init'],
          containers: ['istio-proxy'],
          volumes: volumes.map((v) => v.name),
          imagePullSecrets: null,
          revision,
        });
      } else {
        annotations['sidecar.istio.io/status'] = JSON.stringify({
          version: '8dd1ff8f0e3e3f8bcd2d7b8a7b4b2d2b5c2e8a3fa4a1a2c2b1b8c0c9c2f0d4e1',
          initContainers: ['istio-init'],
          containers: ['istio-proxy'],
          volumes: volumes.map((v) => v.name),
          imagePullSecrets: null,
        });
      }
    },
  };
}
