// What a fresh kubeadm/kind cluster already has: the four system namespaces, one Ready node, and the
// `kubernetes` Service in default (whose endpoint is the API server's node address, reported only).
import type { KubeObject } from '../contracts.js';
import { builtIn, CONTROLLER_WRITE, type ControllerContext } from './context.js';

export function bootstrapCluster(ctx: ControllerContext): void {
  const { objects, store, config } = ctx;
  const namespaces = builtIn(ctx, '', 'namespaces');
  for (const name of ['default', 'kube-node-lease', 'kube-public', 'kube-system']) {
    objects.create(
      namespaces,
      undefined,
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
      CONTROLLER_WRITE,
    );
  }
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  store.put('', 'nodes', {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: config.nodeName,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': config.nodeName,
        'kubernetes.io/os': 'linux',
        'node-role.kubernetes.io/control-plane': '',
      },
      annotations: {
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
    },
    spec: {
      podCIDR: '10.244.0.0/16',
      podCIDRs: ['10.244.0.0/16'],
      providerID: `kind://docker/meshprobe/${config.nodeName}`,
    },
    status: {
      addresses: [
        { type: 'InternalIP', address: config.hostIP },
        { type: 'Hostname', address: config.nodeName },
      ],
      allocatable: { cpu: '8', 'ephemeral-storage': '100Gi', memory: '16Gi', pods: '110' },
      capacity: { cpu: '8', 'ephemeral-storage': '100Gi', memory: '16Gi', pods: '110' },
      conditions: [
        {
          type: 'MemoryPressure',
          status: 'False',
          lastHeartbeatTime: now,
          lastTransitionTime: now,
          reason: 'KubeletHasSufficientMemory',
          message: 'kubelet has sufficient memory available',
        },
        {
          type: 'DiskPressure',
          status: 'False',
          lastHeartbeatTime: now,
          lastTransitionTime: now,
          reason: 'KubeletHasNoDiskPressure',
          message: 'kubelet has no disk pressure',
        },
        {
          type: 'PIDPressure',
          status: 'False',
          lastHeartbeatTime: now,
          lastTransitionTime: now,
          reason: 'KubeletHasSufficientPID',
          message: 'kubelet has sufficient PID available',
        },
        {
          type: 'Ready',
          status: 'True',
          lastHeartbeatTime: now,
          lastTransitionTime: now,
          reason: 'KubeletReady',
          message: 'kubelet is posting ready status',
        },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        architecture: 'amd64',
        bootID: '00000000-0000-0000-0000-000000000000',
        containerRuntimeVersion: 'containerd://1.7.24',
        kernelVersion: '6.1.0-emulated',
        kubeProxyVersion: `v${config.kubeVersion}`,
        kubeletVersion: `v${config.kubeVersion}`,
        machineID: '00000000000000000000000000000000',
        operatingSystem: 'linux',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        systemUUID: '00000000-0000-0000-0000-000000000000',
      },
    },
  } as KubeObject);
  objects.create(
    builtIn(ctx, '', 'services'),
    'default',
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] },
    },
    CONTROLLER_WRITE,
  );
  store.put('', 'endpoints', {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name: 'kubernetes',
      namespace: 'default',
      labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' },
    },
    subsets: [{ addresses: [{ ip: config.hostIP }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }],
  } as KubeObject);
  store.put('discovery.k8s.io', 'endpointslices', {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [config.hostIP], conditions: { ready: true } }],
    ports: [{ name: 'https', port: 6443, protocol: 'TCP' }],
  } as KubeObject);
}
