// What installing Istio leaves in a cluster, per flavor: istio-system with a running istiod (Deployment,
// Service, ServiceAccount), the mesh config ConfigMap `istio`, the CA secret, the webhook configurations,
// the CRDs, the legacy default MeshPolicy, and, as istiod keeps doing afterwards, the `istio-ca-root-cert`
// ConfigMap in every (non-system) namespace. Istio 1.24 can also be installed as a revision
// (`istioctl install --revision REV`, Helm `--set revision=REV`): its objects are then named `istiod-REV`,
// `istio-REV` and `istio-sidecar-injector-REV` (istio-discovery chart templates), it injects only where
// `istio.io/rev=REV` (or a tag pointing at it) selects it, and there is no default tag unless asked for.
import type { KubeObject } from '../contracts.js';
import { thaw } from '../store.js';
import type { ObjectService } from '../api/objects.js';
import type { ResourceRegistry, ResourceType } from '../api/resources.js';
import type { MemoryStore } from '../store.js';
import type { Controller } from '../controllers/context.js';
import { istioCrds, type Flavor } from './crds.js';
import { sidecarInjector } from './injection.js';
import {
  deactivated,
  defaultValidator,
  injectorConfiguration,
  istiodName,
  revisionValidator,
  tagConfiguration,
} from './webhooks.js';

export const ISTIO_VERSIONS: Record<Flavor, string> = { modern: '1.24.2', legacy: '1.4.10' };

const SYSTEM = { manager: 'istio-operator', version: 'v1' } as const;
const ROOT_CERT_SKIPPED = new Set(['kube-system', 'kube-public', 'kube-node-lease']);

/** How the control plane is installed (Istio 1.24 only; the 1.4 flavor has no revisions). */
export interface IstioRevisionOptions {
  /** The revision ('1-24-2'); absent: the unrevisioned install. */
  revision?: string;
  /** Revision tags pointing at it (`istioctl tag set TAG --revision REV`, Helm `revisionTags`). */
  revisionTags?: string[];
  /** Also the default tag (`istioctl tag set default --revision REV`): `istio-injection=enabled` selects it. */
  defaultRevision?: boolean;
  /**
   * Who installed it. 'helm' (default): the charts' objects as rendered. 'istioctl': for an unrevisioned
   * install, `istioctl install` then makes the default tag itself and deactivates the unrevisioned
   * injector's selectors (operator/pkg/webhook/webhook.go WebhooksToDeploy, istioctl/pkg/tag). A
   * revisioned istioctl install on a cluster without Istio gets no default tag (its own injector already
   * counts as a previous install there), as with Helm.
   */
  installer?: 'helm' | 'istioctl';
}

const REVISION_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Checks the revision options; a message names the fix. */
export function checkRevisionOptions(flavor: Flavor | 'none', o: IstioRevisionOptions): void {
  const asked = o.revision !== undefined || (o.revisionTags ?? []).length > 0 || o.defaultRevision;
  if (asked && flavor !== 'modern')
    throw new Error(
      `revisions need --istio modern (Istio ${flavor === 'legacy' ? '1.4 has' : 'none has'} no revisions)`,
    );
  for (const [what, name] of [
    ...(o.revision !== undefined ? [['revision', o.revision] as const] : []),
    ...(o.revisionTags ?? []).map((t) => ['tag', t] as const),
  ])
    if (!REVISION_NAME.test(name) || name.length > 63)
      throw new Error(
        `${what} "${name}" is not a DNS label (lower-case letters, digits and '-', e.g. 1-24-2): it names objects and label values`,
      );
  if (o.revision === 'default')
    throw new Error(
      'revision "default" is the unrevisioned install: leave the revision out, or name one such as 1-24-2',
    );
  if (o.defaultRevision && o.revision === undefined)
    throw new Error('the default revision needs a revision to point at: give one, e.g. 1-24-2');
  if ((o.revisionTags ?? []).includes('default'))
    throw new Error('use the default revision option for the tag "default" (it also selects istio-injection=enabled)');
  if (o.revision !== undefined && (o.revisionTags ?? []).includes(o.revision))
    throw new Error(`tag "${o.revision}" is the revision's own name: pick another tag`);
}

export interface IstioInstallInput extends IstioRevisionOptions {
  flavor: Flavor;
  store: MemoryStore;
  registry: ResourceRegistry;
  objects: ObjectService;
  meshCA: { certPem: string; keyPem: string };
}

function type(registry: ResourceRegistry, group: string, resource: string): ResourceType {
  const t = registry.byGroupResource(group, resource);
  if (!t) throw new Error(`emulator: ${group}/${resource} is not served`);
  return t;
}

function meshConfig(flavor: Flavor, revision: string | undefined): string {
  if (flavor === 'modern') {
    return [
      'defaultConfig:',
      `  discoveryAddress: ${istiodName(revision)}.istio-system.svc:15012`,
      'defaultProviders:',
      '  metrics:',
      '  - prometheus',
      'enableAutoMtls: true',
      'enablePrometheusMerge: true',
      'rootNamespace: istio-system',
      'trustDomain: cluster.local',
      '',
    ].join('\n');
  }
  return [
    'accessLogEncoding: TEXT',
    'accessLogFile: ""',
    'connectTimeout: 10s',
    'defaultConfig:',
    '  binaryPath: /usr/local/bin/envoy',
    '  configPath: /etc/istio/proxy',
    '  controlPlaneAuthPolicy: NONE',
    '  discoveryAddress: istio-pilot.istio-system:15010',
    '  proxyAdminPort: 15000',
    '  serviceCluster: istio-proxy',
    '  statusPort: 15020',
    'disablePolicyChecks: true',
    'enableAutoMtls: false',
    'ingressClass: istio',
    'rootNamespace: istio-system',
    'sdsUdsPath: ""',
    'trustDomain: cluster.local',
    '',
  ].join('\n');
}

function webhookService(path: string): object {
  return { service: { name: 'istiod', namespace: 'istio-system', path, port: 443 } };
}

/** Istio 1.24's webhook configurations for the revision, its tags and the default tag. */
function modernWebhooks(o: IstioRevisionOptions): { mutating: KubeObject[]; validating: KubeObject[] } {
  const { revision } = o;
  const own = injectorConfiguration(revision);
  const mutating: KubeObject[] = [];
  const validating: KubeObject[] = [revisionValidator(revision)];
  const defaultTag = o.defaultRevision || (revision === undefined && o.installer === 'istioctl');
  mutating.push(revision === undefined && o.installer === 'istioctl' ? deactivated(own) : own);
  for (const tag of o.revisionTags ?? []) mutating.push(tagConfiguration(tag, revision));
  if (defaultTag) {
    mutating.push(tagConfiguration('default', revision));
    validating.push(defaultValidator(revision));
  }
  return { mutating, validating };
}

/** Installs Istio into the store and returns the controller that keeps the root cert published. */
export function installIstio(input: IstioInstallInput): Controller {
  const { flavor, store, registry, objects, meshCA, revision } = input;
  checkRevisionOptions(flavor, input);
  const version = ISTIO_VERSIONS[flavor];
  const istiod = istiodName(revision);
  const rev = revision ?? 'default';
  objects.addAdmission(sidecarInjector(store, flavor, version));

  const crdType = type(registry, 'apiextensions.k8s.io', 'customresourcedefinitions');
  for (const crd of istioCrds(flavor, version)) objects.create(crdType, undefined, crd, SYSTEM);

  objects.create(
    type(registry, '', 'namespaces'),
    undefined,
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } },
    SYSTEM,
  );
  const labels = { app: 'istiod', istio: 'pilot', 'istio.io/rev': rev, release: 'istio' };
  objects.create(
    type(registry, '', 'serviceaccounts'),
    'istio-system',
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: istiod, labels } },
    SYSTEM,
  );
  objects.create(
    type(registry, '', 'configmaps'),
    'istio-system',
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: revision ? `istio-${revision}` : 'istio', labels: { 'istio.io/rev': rev, release: 'istio' } },
      data: { mesh: meshConfig(flavor, revision), meshNetworks: 'networks: {}' },
    },
    SYSTEM,
  );
  objects.create(
    type(registry, '', 'secrets'),
    'istio-system',
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'istio-ca-secret' },
      type: 'istio.io/ca-root',
      data: {
        'ca-cert.pem': Buffer.from(meshCA.certPem).toString('base64'),
        'ca-key.pem': Buffer.from(meshCA.keyPem).toString('base64'),
        'cert-chain.pem': '',
        'key.pem': '',
        'root-cert.pem': '',
      },
    },
    SYSTEM,
  );
  objects.create(
    type(registry, '', 'services'),
    'istio-system',
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: istiod,
        labels: { app: 'istiod', istio: 'pilot', 'istio.io/rev': rev, release: 'istio' },
      },
      spec: {
        // A revision's Service selects its own pods; the unrevisioned one `istio: pilot` (service.yaml).
        selector: revision ? { app: 'istiod', 'istio.io/rev': revision } : { app: 'istiod', istio: 'pilot' },
        ports: [
          { name: 'grpc-xds', port: 15010, protocol: 'TCP', targetPort: 15010 },
          { name: 'https-dns', port: 15012, protocol: 'TCP', targetPort: 15012 },
          { name: 'https-webhook', port: 443, protocol: 'TCP', targetPort: 15017 },
          { name: 'http-monitoring', port: 15014, protocol: 'TCP', targetPort: 15014 },
        ],
      },
    },
    SYSTEM,
  );
  objects.create(
    type(registry, 'apps', 'deployments'),
    'istio-system',
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: istiod, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: revision ? { app: 'istiod', 'istio.io/rev': revision } : { istio: 'pilot' } },
        template: {
          metadata: {
            // deployment.yaml: a revision's pods are `istio: istiod`, so the unrevisioned Service skips them.
            labels: { ...labels, istio: revision ? 'istiod' : 'pilot', 'sidecar.istio.io/inject': 'false' },
            annotations: {
              'prometheus.io/port': '15014',
              'prometheus.io/scrape': 'true',
              'sidecar.istio.io/inject': 'false',
            },
          },
          spec: {
            serviceAccountName: istiod,
            containers: [
              {
                name: 'discovery',
                image: `docker.io/istio/pilot:${version}`,
                args: [
                  'discovery',
                  '--monitoringAddr=:15014',
                  '--log_output_level=default:info',
                  '--domain',
                  'cluster.local',
                  '--keepaliveMaxServerConnectionAge',
                  '30m',
                ],
                ports:
                  flavor === 'modern'
                    ? [
                        { containerPort: 8080, name: 'http-debug', protocol: 'TCP' },
                        { containerPort: 15010, name: 'grpc-xds', protocol: 'TCP' },
                        { containerPort: 15012, name: 'tls-xds', protocol: 'TCP' },
                        { containerPort: 15017, name: 'https-webhooks', protocol: 'TCP' },
                        { containerPort: 15014, name: 'http-monitoring', protocol: 'TCP' },
                      ]
                    : [
                        { containerPort: 8080, protocol: 'TCP' },
                        { containerPort: 15010, protocol: 'TCP' },
                        { containerPort: 15017, protocol: 'TCP' },
                      ],
                readinessProbe: {
                  httpGet: { path: '/ready', port: 8080 },
                  initialDelaySeconds: 1,
                  periodSeconds: 3,
                  timeoutSeconds: 5,
                },
                env: [
                  { name: 'REVISION', value: rev },
                  { name: 'PILOT_CERT_PROVIDER', value: 'istiod' },
                  { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
                  {
                    name: 'POD_NAMESPACE',
                    valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } },
                  },
                ],
              },
            ],
          },
        },
      },
    },
    SYSTEM,
  );
  const mwcType = type(registry, 'admissionregistration.k8s.io', 'mutatingwebhookconfigurations');
  const vwcType = type(registry, 'admissionregistration.k8s.io', 'validatingwebhookconfigurations');
  if (flavor === 'modern') {
    const { mutating, validating } = modernWebhooks(input);
    for (const m of mutating) objects.create(mwcType, undefined, m, SYSTEM);
    for (const v of validating) objects.create(vwcType, undefined, v, SYSTEM);
  } else {
    legacyWebhooks(objects, mwcType, vwcType);
  }
  if (flavor === 'legacy') {
    // Istio 1.4's default profile installs a mesh-wide PERMISSIVE MeshPolicy.
    objects.create(
      type(registry, 'authentication.istio.io', 'meshpolicies'),
      undefined,
      {
        apiVersion: 'authentication.istio.io/v1alpha1',
        kind: 'MeshPolicy',
        metadata: { name: 'default', labels: { app: 'security', release: 'istio' } },
        spec: { peers: [{ mtls: { mode: 'PERMISSIVE' } }] },
      },
      { ...SYSTEM, version: 'v1alpha1' },
    );
  }

  // istiod's namespace controller: the mesh root certificate in every namespace, kept as it is.
  const configMaps = type(registry, '', 'configmaps');
  const publish = (namespace: string): void => {
    if (ROOT_CERT_SKIPPED.has(namespace)) return;
    const ns = store.get('', 'namespaces', undefined, namespace);
    if (!ns || ns.metadata.deletionTimestamp) return;
    const existing = store.get('', 'configmaps', namespace, 'istio-ca-root-cert');
    if (existing && (existing.data as Record<string, string> | undefined)?.['root-cert.pem'] === meshCA.certPem) return;
    if (existing) {
      const next = thaw(existing) as KubeObject & { data?: Record<string, string> };
      next.data = { 'root-cert.pem': meshCA.certPem };
      store.put('', 'configmaps', next);
      return;
    }
    objects.create(
      configMaps,
      namespace,
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'istio-ca-root-cert', labels: { 'istio.io/config': 'true' } },
        data: { 'root-cert.pem': meshCA.certPem },
      },
      { manager: 'pilot-discovery', version: 'v1' },
    );
  };
  if (flavor === 'modern') for (const ns of store.list('', 'namespaces')) publish(ns.metadata.name);
  const unsubscribe =
    flavor === 'modern'
      ? store.subscribe((e) => {
          if (e.group === '' && e.resource === 'namespaces' && e.type === 'ADDED') publish(e.object.metadata.name);
          if (
            e.group === '' &&
            e.resource === 'configmaps' &&
            e.object.metadata.name === 'istio-ca-root-cert' &&
            e.type !== 'ADDED'
          ) {
            publish(e.object.metadata.namespace ?? '');
          }
        })
      : () => undefined;
  return { stop: unsubscribe };
}

/** Istio 1.4's injector and validator configurations. */
function legacyWebhooks(objects: ObjectService, mwcType: ResourceType, vwcType: ResourceType): void {
  objects.create(
    mwcType,
    undefined,
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: 'istio-sidecar-injector', labels: { app: 'sidecar-injector', 'istio.io/rev': 'default' } },
      webhooks: [
        {
          name: 'sidecar-injector.istio.io',
          admissionReviewVersions: ['v1beta1', 'v1'],
          clientConfig: webhookService('/inject'),
          failurePolicy: 'Fail',
          matchPolicy: 'Equivalent',
          namespaceSelector: { matchLabels: { 'istio-injection': 'enabled' } },
          objectSelector: {},
          reinvocationPolicy: 'Never',
          rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: '*' }],
          sideEffects: 'None',
          timeoutSeconds: 10,
        },
      ],
    },
    SYSTEM,
  );
  objects.create(
    vwcType,
    undefined,
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: {
        name: 'istio-galley',
        labels: { app: 'istiod', 'istio.io/rev': 'default' },
      },
      webhooks: [
        {
          name: 'pilot.validation.istio.io',
          admissionReviewVersions: ['v1beta1', 'v1'],
          clientConfig: webhookService('/validate'),
          failurePolicy: 'Ignore',
          rules: [
            {
              apiGroups: ['security.istio.io', 'networking.istio.io', 'authentication.istio.io'],
              apiVersions: ['*'],
              operations: ['CREATE', 'UPDATE'],
              resources: ['*'],
              scope: '*',
            },
          ],
          sideEffects: 'None',
          timeoutSeconds: 10,
        },
      ],
    },
    SYSTEM,
  );
}
