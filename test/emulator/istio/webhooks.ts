// The sidecar injector's MutatingWebhookConfigurations as Istio 1.24.2 renders them, and the API server's
// choice of the webhook that injects a pod. Sources (istio/istio 1.24.2):
// - manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml: a revision's own
//   `istio-sidecar-injector[-REV]`; the unrevisioned one also selects `istio-injection=enabled`;
// - .../templates/revision-tags.yaml and istioctl/pkg/tag/generate.go: a tag's `istio-revision-tag-TAG`,
//   which selects `istio.io/rev=TAG` (and, for the tag `default`, `istio-injection=enabled`), and for the
//   default tag the ValidatingWebhookConfiguration `istiod-default-validator`
//   (manifests/charts/default/templates/validatingwebhook.yaml);
// - istioctl/pkg/tag/util.go DeactivateIstioInjectionWebhook: when istioctl makes a default tag, the
//   unrevisioned configuration's webhooks are kept but never match (util.NeverMatch).
// The API server calls every matching webhook of every configuration in name order
// (apiserver pkg/admission/plugin/webhook/generic), so the first match decides which istiod injects.
import type { KubeObject } from '../contracts.js';
import type { MemoryStore } from '../store.js';
import { matchesSelectorObject } from '../api/selectors.js';

type Any = Record<string, any>; // loosely typed Kubernetes objects

export const ISTIO_NAMESPACE = 'istio-system';

/** istioctl/pkg/util/common.go NeverMatch. */
export const NEVER_MATCH = { matchLabels: { 'istio.io/deactivated': 'never-match' } };

interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

const inSet = (key: string, values: string[]) => ({ key, operator: 'In', values });
const notIn = (key: string, values: string[]) => ({ key, operator: 'NotIn', values });
const absent = (key: string) => ({ key, operator: 'DoesNotExist' });

/** istiod's Service for a revision: `istiod` for the unrevisioned install, else `istiod-REV`. */
export function istiodName(revision: string | undefined): string {
  return revision ? `istiod-${revision}` : 'istiod';
}

/** The "core" template with what the API server defaults on create (matchPolicy, timeoutSeconds, scope). */
function core(prefix: string, revision: string | undefined, selectors: { ns: Selector; obj: Selector }): Any {
  return {
    name: `${prefix}sidecar-injector.istio.io`,
    admissionReviewVersions: ['v1'],
    clientConfig: { service: { name: istiodName(revision), namespace: ISTIO_NAMESPACE, path: '/inject', port: 443 } },
    failurePolicy: 'Fail',
    matchPolicy: 'Equivalent',
    namespaceSelector: selectors.ns,
    objectSelector: selectors.obj,
    // mutatingwebhook.yaml sets sidecarInjectorWebhook.reinvocationPolicy (Never); the tag template leaves
    // it to the API server's default, also Never.
    reinvocationPolicy: 'Never',
    rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: '*' }],
    sideEffects: 'None',
    timeoutSeconds: 10,
  };
}

/** The revision webhooks (`rev.namespace.`, `rev.object.`) selecting `istio.io/rev=NAME`. */
function revisionWebhooks(name: string, revision: string | undefined): Any[] {
  return [
    core('rev.namespace.', revision, {
      ns: { matchExpressions: [inSet('istio.io/rev', [name]), absent('istio-injection')] },
      obj: { matchExpressions: [notIn('sidecar.istio.io/inject', ['false'])] },
    }),
    core('rev.object.', revision, {
      ns: { matchExpressions: [absent('istio.io/rev'), absent('istio-injection')] },
      obj: { matchExpressions: [notIn('sidecar.istio.io/inject', ['false']), inSet('istio.io/rev', [name])] },
    }),
  ];
}

/** The default revision's webhooks (`namespace.`, `object.`): `istio-injection=enabled`, or a pod's inject=true. */
function defaultWebhooks(revision: string | undefined): Any[] {
  return [
    core('namespace.', revision, {
      ns: { matchExpressions: [inSet('istio-injection', ['enabled'])] },
      obj: { matchExpressions: [notIn('sidecar.istio.io/inject', ['false'])] },
    }),
    core('object.', revision, {
      ns: { matchExpressions: [absent('istio-injection'), absent('istio.io/rev')] },
      obj: { matchExpressions: [inSet('sidecar.istio.io/inject', ['true']), absent('istio.io/rev')] },
    }),
  ];
}

function labels(revision: string | undefined, extra: Record<string, string> = {}): Record<string, string> {
  return {
    app: 'sidecar-injector',
    'app.kubernetes.io/name': 'istiod',
    'install.operator.istio.io/owning-resource': 'unknown',
    'istio.io/rev': revision ?? 'default',
    'operator.istio.io/component': 'Pilot',
    release: 'istio',
    ...extra,
  };
}

/** A revision's own injector configuration (mutatingwebhook.yaml). */
export function injectorConfiguration(revision: string | undefined): KubeObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: {
      name: revision ? `istio-sidecar-injector-${revision}` : 'istio-sidecar-injector',
      labels: labels(revision),
    },
    webhooks: [...revisionWebhooks(revision ?? 'default', revision), ...(revision ? [] : defaultWebhooks(undefined))],
  };
}

/** A revision tag's injector configuration (revision-tags.yaml, as `istioctl tag set TAG --revision REV` renders it). */
export function tagConfiguration(tag: string, revision: string | undefined): KubeObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: `istio-revision-tag-${tag}`, labels: labels(revision, { 'istio.io/tag': tag }) },
    webhooks: [...revisionWebhooks(tag, revision), ...(tag === 'default' ? defaultWebhooks(revision) : [])],
  };
}

/** The default tag's validator (manifests/charts/default/templates/validatingwebhook.yaml). */
export function defaultValidator(revision: string | undefined): KubeObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: {
      name: 'istiod-default-validator',
      labels: {
        app: 'istiod',
        'app.kubernetes.io/name': 'istiod',
        istio: 'istiod',
        'istio.io/rev': revision ?? 'default',
        'istio.io/tag': 'default',
        'operator.istio.io/component': 'Pilot',
      },
    },
    webhooks: [validationWebhook('validation.istio.io', revision, { matchExpressions: [absent('istio.io/rev')] })],
  };
}

/** A revision's own validator (istio-discovery validatingwebhookconfiguration.yaml). */
export function revisionValidator(revision: string | undefined): KubeObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: {
      name: revision ? `istio-validator-${revision}-${ISTIO_NAMESPACE}` : `istio-validator-${ISTIO_NAMESPACE}`,
      labels: {
        app: 'istiod',
        'app.kubernetes.io/name': 'istiod',
        istio: 'istiod',
        'istio.io/rev': revision ?? 'default',
        release: 'istio',
      },
    },
    webhooks: [
      validationWebhook('rev.validation.istio.io', revision, {
        matchExpressions: [inSet('istio.io/rev', [revision ?? 'default'])],
      }),
    ],
  };
}

function validationWebhook(name: string, revision: string | undefined, objectSelector: Selector): Any {
  return {
    name,
    admissionReviewVersions: ['v1'],
    clientConfig: { service: { name: istiodName(revision), namespace: ISTIO_NAMESPACE, path: '/validate', port: 443 } },
    // Fail open until istiod's webhook controller patches in its CA and switches to Fail.
    failurePolicy: 'Ignore',
    matchPolicy: 'Equivalent',
    namespaceSelector: {},
    objectSelector,
    rules: [
      {
        apiGroups: ['security.istio.io', 'networking.istio.io', 'telemetry.istio.io', 'extensions.istio.io'],
        apiVersions: ['*'],
        operations: ['CREATE', 'UPDATE'],
        resources: ['*'],
        scope: '*',
      },
    ],
    sideEffects: 'None',
    timeoutSeconds: 10,
  };
}

/** DeactivateIstioInjectionWebhook: the same configuration with selectors that match nothing. */
export function deactivated(config: KubeObject): KubeObject {
  const copy = structuredClone(config) as Any;
  for (const w of copy.webhooks as Any[]) {
    w.namespaceSelector = NEVER_MATCH;
    w.objectSelector = NEVER_MATCH;
  }
  return copy as KubeObject;
}

/** A webhook's selector, where absent or empty selects everything (unlike a workload's). */
function selects(selector: Selector | undefined, objLabels: Record<string, string>): boolean {
  if (!selector || (!selector.matchLabels && !selector.matchExpressions)) return true;
  return matchesSelectorObject(selector, objLabels);
}

/**
 * The revision of the istiod whose injector the API server calls first for this pod: the first webhook, in
 * configuration name order, whose rules cover pod CREATE and whose selectors match, calling an istiod
 * Service in istio-system. undefined: no Istio injector webhook matches.
 */
export function injectingRevision(
  store: MemoryStore,
  namespace: KubeObject | undefined,
  pod: KubeObject,
): string | undefined {
  const nsLabels = namespace?.metadata.labels ?? {};
  const podLabels = pod.metadata.labels ?? {};
  const configs = store
    .list('admissionregistration.k8s.io', 'mutatingwebhookconfigurations')
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  for (const config of configs) {
    for (const w of ((config as Any).webhooks ?? []) as Any[]) {
      const service = w.clientConfig?.service as { name?: string; namespace?: string } | undefined;
      if (!service?.name || service.namespace !== ISTIO_NAMESPACE || !/^istiod(-|$)/.test(service.name)) continue;
      const coversPods = ((w.rules ?? []) as Any[]).some(
        (r) =>
          (r.operations ?? []).some((o: string) => o === 'CREATE' || o === '*') &&
          (r.apiGroups ?? []).some((g: string) => g === '' || g === '*') &&
          (r.resources ?? []).some((x: string) => x === 'pods' || x === '*'),
      );
      if (!coversPods) continue;
      if (!selects(w.namespaceSelector, nsLabels) || !selects(w.objectSelector, podLabels)) continue;
      return service.name === 'istiod' ? 'default' : service.name.slice('istiod-'.length);
    }
  }
  return undefined;
}
