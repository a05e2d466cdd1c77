// Which Istio control plane (revision) the topology joins, from the sidecar injector's
// MutatingWebhookConfigurations as Istio 1.24 renders them. Pure: control-plane.ts reads the cluster.
//
// What the webhooks say (istio/istio 1.24.2):
// - manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml: a revision's own
//   configuration `istio-sidecar-injector[-REV]`, labelled `istio.io/rev: REV` ("default" for the
//   unrevisioned install), selecting namespaces labelled `istio.io/rev=REV`; the unrevisioned one also
//   selects `istio-injection=enabled`;
// - .../templates/revision-tags.yaml, istioctl/pkg/tag/generate.go: a tag's `istio-revision-tag-TAG`,
//   labelled `istio.io/tag: TAG` and `istio.io/rev: REV`, selecting `istio.io/rev=TAG`; the tag "default"
//   also selects `istio-injection=enabled`;
// - istioctl/pkg/tag/util.go: GetRevisionWebhooks lists them by the label `istio.io/rev`; when istioctl
//   makes a default tag it keeps the unrevisioned configuration with selectors that never match
//   (DeactivateIstioInjectionWebhook, util.NeverMatch).
// "A default" is therefore an active webhook selecting `istio-injection=enabled`: namespaces are labelled
// so, as before; without one, they are labelled `istio.io/rev=REV`. The API server calls matching
// webhooks in name order (apiserver pkg/admission/plugin/webhook/generic), so the first such
// configuration by name is the one that injects.
import { ConfigError } from '../errors.js';
import type { KubeObject } from '../model/kube-object.js';

export const REV_LABEL = 'istio.io/rev';
export const TAG_LABEL = 'istio.io/tag';
export const INJECTION_LABEL = 'istio-injection';
/** Istio's name for the unrevisioned install. */
export const DEFAULT_REVISION = 'default';

export interface ControlPlane {
  /** The revision whose istiod injects the topology's sidecars: "default" for an unrevisioned install. */
  revision: string;
  /** The namespace label that selects it for the namespaces with sidecars. */
  label: { key: string; value: string };
  /** Where istiod and its mesh config live (the injector webhook's Service namespace). */
  namespace: string;
  /** The mesh config ConfigMap: `istio`, or `istio-REV` for a revision. */
  meshConfigMap: string;
  /** Whether a default (istio-injection=enabled) injects with this revision. */
  isDefault: boolean;
  /** Tags pointing at this revision. */
  tags: string[];
  /** False when the cluster shows no revision webhooks at all: an unrevisioned install is assumed. */
  detected: boolean;
}

interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}
interface Webhook {
  clientConfig?: { service?: { name?: string; namespace?: string } };
  namespaceSelector?: Selector;
  objectSelector?: Selector;
}

const webhooksOf = (c: KubeObject): Webhook[] => ((c as { webhooks?: Webhook[] }).webhooks ?? []).filter(Boolean);

/** util.NeverMatch: a webhook istioctl deactivated. */
const neverMatches = (s: Selector | undefined) => s?.matchLabels?.['istio.io/deactivated'] === 'never-match';

const selectsInjectionEnabled = (s: Selector | undefined) =>
  s?.matchLabels?.[INJECTION_LABEL] === 'enabled' ||
  (s?.matchExpressions ?? []).some(
    (e) => e.key === INJECTION_LABEL && e.operator === 'In' && (e.values ?? []).includes('enabled'),
  );

export const meshConfigMapOf = (revision: string): string =>
  revision === DEFAULT_REVISION ? 'istio' : `istio-${revision}`;

export interface Revisions {
  /** Revision -> its tags. */
  revisions: Map<string, string[]>;
  /** Tag -> revision. */
  tags: Map<string, string>;
  /** The revision the default injects with, if any. */
  defaultRevision: string | undefined;
  /** Revision -> istiod's namespace. */
  namespaces: Map<string, string>;
}

/** What the injector configurations (those labelled istio.io/rev) say about revisions, tags and the default. */
export function revisionsOf(configs: KubeObject[]): Revisions {
  const revisions = new Map<string, string[]>();
  const tags = new Map<string, string>();
  const namespaces = new Map<string, string>();
  let defaultRevision: string | undefined;
  for (const c of [...configs].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))) {
    const rev = c.metadata.labels?.[REV_LABEL];
    if (!rev) continue;
    const tag = c.metadata.labels?.[TAG_LABEL];
    if (!revisions.has(rev)) revisions.set(rev, []);
    if (tag) {
      tags.set(tag, rev);
      revisions.get(rev)!.push(tag);
    }
    const hooks = webhooksOf(c);
    const ns = hooks.map((w) => w.clientConfig?.service?.namespace).find(Boolean);
    if (ns && !namespaces.has(rev)) namespaces.set(rev, ns);
    const active = hooks.filter((w) => !neverMatches(w.namespaceSelector) || !neverMatches(w.objectSelector));
    if (defaultRevision === undefined && active.some((w) => selectsInjectionEnabled(w.namespaceSelector)))
      defaultRevision = rev;
  }
  return { revisions, tags, defaultRevision, namespaces };
}

/** The unrevisioned install meshprobe assumed before it looked: istio-injection=enabled, istio-system/istio. */
export function assumedControlPlane(): ControlPlane {
  return {
    revision: DEFAULT_REVISION,
    label: { key: INJECTION_LABEL, value: 'enabled' },
    namespace: 'istio-system',
    meshConfigMap: 'istio',
    isDefault: true,
    tags: [],
    detected: false,
  };
}

function listing(r: Revisions): string {
  const revs = [...r.revisions.entries()].map(([rev, tags]) =>
    tags.length ? `${rev} (tags ${tags.join(', ')})` : rev,
  );
  return revs.length ? revs.join(', ') : '(none)';
}

/**
 * The control plane for `wanted` (a revision or a tag, from --revision), or the default one, or the only
 * one. Throws a ConfigError naming the revisions when the choice is unknown or ambiguous.
 */
export function chooseControlPlane(configs: KubeObject[], wanted: string | undefined): ControlPlane {
  const r = revisionsOf(configs);
  const plane = (revision: string, label: ControlPlane['label']): ControlPlane => ({
    revision,
    label,
    namespace: r.namespaces.get(revision) ?? 'istio-system',
    meshConfigMap: meshConfigMapOf(revision),
    isDefault: r.defaultRevision === revision,
    tags: r.revisions.get(revision) ?? [],
    detected: true,
  });
  if (wanted !== undefined) {
    const revision = r.revisions.has(wanted) ? wanted : r.tags.get(wanted);
    if (!revision)
      throw new ConfigError(
        r.revisions.size
          ? `--revision ${wanted} is neither a revision nor a tag of this cluster's Istio; it has ${listing(r)}`
          : `--revision ${wanted}: this cluster shows no Istio revision (no MutatingWebhookConfiguration labelled ${REV_LABEL})`,
        r.revisions.size
          ? 'pass one of those to --revision (istioctl tag list shows them too)'
          : 'leave --revision out for an unrevisioned install',
      );
    // A tag is what the namespace names, so that moving the tag moves the topology with it.
    return plane(revision, { key: REV_LABEL, value: wanted });
  }
  if (r.revisions.size === 0) return assumedControlPlane();
  if (r.defaultRevision !== undefined) return plane(r.defaultRevision, { key: INJECTION_LABEL, value: 'enabled' });
  if (r.revisions.size === 1) {
    const [only] = r.revisions.keys();
    return plane(only!, { key: REV_LABEL, value: only! });
  }
  throw new ConfigError(
    `this cluster has several Istio revisions and no default (no webhook selects istio-injection=enabled): ${listing(r)}`,
    'choose the one to test with --revision REV (a revision or a tag)',
  );
}

/** One line for preflight: which revision, what the topology namespaces get, where the mesh config is. */
export function describeControlPlane(cp: ControlPlane): string {
  const which = cp.revision === DEFAULT_REVISION ? 'the unrevisioned control plane' : `revision ${cp.revision}`;
  const how = !cp.detected ? 'no revision webhooks found, so assumed' : cp.isDefault ? 'the default' : 'no default tag';
  return `${which} (${how}${cp.tags.length ? `; tags ${cp.tags.join(', ')}` : ''}): namespaces labelled ${cp.label.key}=${cp.label.value}, mesh config ${cp.namespace}/${cp.meshConfigMap}`;
}
