// Just enough OpenAPI v3 for `kubectl apply` with its default --validate=strict: per group version, the
// PATCH operation of each kind, tagged with its GVK and declaring the fieldValidation parameter (cli-
// runtime's query-param verifier looks for exactly that). Strategic merge is deliberately not listed
// as a PATCH body: kubectl then computes its patches from its compiled-in types, which needs no schemas.
import { createHash } from 'node:crypto';
import { apiVersionOf, type ResourceRegistry, type ResourceType } from './resources.js';

interface Built {
  generation: number;
  docs: Map<string, { body: string; hash: string }>;
}

const queryParam = (name: string): object => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } });

function operations(t: ResourceType, group: string, version: string, item: boolean): Record<string, object> {
  const gvk = { 'x-kubernetes-group-version-kind': { group, version, kind: t.kind } };
  const write = [queryParam('dryRun'), queryParam('fieldManager'), queryParam('fieldValidation')];
  const ok = { responses: { '200': { description: 'OK' } } };
  if (!item) {
    return {
      get: {
        ...gvk,
        'x-kubernetes-action': 'list',
        parameters: [queryParam('labelSelector'), queryParam('fieldSelector')],
        ...ok,
      },
      post: {
        ...gvk,
        'x-kubernetes-action': 'post',
        parameters: write,
        requestBody: { content: { '*/*': {} } },
        ...ok,
      },
    };
  }
  return {
    get: { ...gvk, 'x-kubernetes-action': 'get', ...ok },
    put: { ...gvk, 'x-kubernetes-action': 'put', parameters: write, requestBody: { content: { '*/*': {} } }, ...ok },
    patch: {
      ...gvk,
      'x-kubernetes-action': 'patch',
      parameters: [...write, { name: 'force', in: 'query', schema: { type: 'boolean', uniqueItems: true } }],
      requestBody: {
        content: {
          'application/json-patch+json': {},
          'application/merge-patch+json': {},
          'application/apply-patch+yaml': {},
        },
      },
      ...ok,
    },
    delete: { ...gvk, 'x-kubernetes-action': 'delete', ...ok },
  };
}

function groupVersionDoc(registry: ResourceRegistry, group: string, version: string, kubeVersion: string): object {
  const prefix = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const paths: Record<string, object> = {};
  for (const t of registry.resourcesIn(group, version)) {
    if (t.virtual) {
      paths[`${prefix}/${t.resource}`] = {
        post: {
          'x-kubernetes-group-version-kind': { group, version, kind: t.kind },
          'x-kubernetes-action': 'post',
          parameters: [queryParam('fieldValidation')],
          responses: { '201': { description: 'Created' } },
        },
      };
      continue;
    }
    const base = t.namespaced ? `${prefix}/namespaces/{namespace}/${t.resource}` : `${prefix}/${t.resource}`;
    paths[base] = operations(t, group, version, false);
    paths[`${base}/{name}`] = operations(t, group, version, true);
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: kubeVersion },
    paths,
    components: { schemas: {} },
  };
}

export class OpenApiV3 {
  private built: Built | undefined;

  constructor(
    private readonly registry: ResourceRegistry,
    private readonly kubeVersion: string,
  ) {}

  /** The /openapi/v3 index: each group version's document, addressed by content hash. */
  index(): object {
    const paths: Record<string, object> = {};
    for (const [key, doc] of this.docs()) paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${doc.hash}` };
    return { paths };
  }

  /** The document for `api/v1` or `apis/<group>/<version>`, or undefined. */
  document(key: string): string | undefined {
    return this.docs().get(key)?.body;
  }

  private docs(): Map<string, { body: string; hash: string }> {
    if (this.built?.generation === this.registry.generation) return this.built.docs;
    const docs = new Map<string, { body: string; hash: string }>();
    for (const g of this.registry.groups()) {
      for (const v of g.versions) {
        const key = g.name ? `apis/${apiVersionOf(g.name, v)}` : `api/${v}`;
        const body = JSON.stringify(groupVersionDoc(this.registry, g.name, v, this.kubeVersion));
        docs.set(key, { body, hash: createHash('sha512').update(body).digest('hex').toUpperCase() });
      }
    }
    this.built = { generation: this.registry.generation, docs };
    return docs;
  }
}
