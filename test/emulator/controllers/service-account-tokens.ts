// The tokens controller of kube-controller-manager: a Secret of type kubernetes.io/service-account-token
// whose annotation names an existing ServiceAccount gets `token`, `ca.crt` and `namespace` filled in and
// the account's UID annotated; one naming a missing account is deleted (kubernetes/kubernetes
// pkg/controller/serviceaccount/tokens_controller.go, syncSecret and generateTokenIfNeeded). The token is a
// legacy service-account JWT (pkg/serviceaccount/legacy.go LegacyClaims) signed with the cluster's
// service-account key; api/service-accounts.ts authenticates it.
import { thaw } from '../store.js';
import type { KubeObject } from '../contracts.js';
import { legacyToken, type ServiceAccountKey } from '../api/service-accounts.js';
import { builtIn, CONTROLLER_WRITE, type Controller, type ControllerContext } from './context.js';
import { WorkQueue } from './queue.js';

export const TOKEN_SECRET_TYPE = 'kubernetes.io/service-account-token';
export const SA_NAME_ANNOTATION = 'kubernetes.io/service-account.name';
export const SA_UID_ANNOTATION = 'kubernetes.io/service-account.uid';

type Secret = KubeObject & { type?: string; data?: Record<string, string> };

export function startTokensController(ctx: ControllerContext, key: () => ServiceAccountKey): Controller {
  const { store, objects } = ctx;
  const secrets = builtIn(ctx, '', 'secrets');
  const b64 = (s: string) => Buffer.from(s).toString('base64');

  function sync(id: string): void {
    const [namespace = '', name = ''] = id.split('/');
    const secret = store.get('', 'secrets', namespace, name) as Secret | undefined;
    if (!secret || secret.type !== TOKEN_SECRET_TYPE || secret.metadata.deletionTimestamp) return;
    const saName = secret.metadata.annotations?.[SA_NAME_ANNOTATION];
    if (!saName) return;
    const sa = store.get('', 'serviceaccounts', namespace, saName);
    const wantUid = secret.metadata.annotations?.[SA_UID_ANNOTATION];
    if (!sa || (wantUid && wantUid !== sa.metadata.uid)) {
      // "service account does not exist, deleting token"
      objects.delete(secrets, namespace, name, { propagationPolicy: 'Background' });
      return;
    }
    const data = secret.data ?? {};
    const ca = b64(ctx.config.caPem);
    if (data.token && data.namespace && data['ca.crt'] === ca && wantUid) return;
    const next = thaw(secret) as Secret;
    next.data = {
      ...data,
      'ca.crt': ca,
      namespace: data.namespace || b64(namespace),
      token: data.token || b64(legacyToken(key(), sa, secret)),
    };
    next.metadata.annotations = { ...next.metadata.annotations, [SA_UID_ANNOTATION]: sa.metadata.uid! };
    objects.update(secrets, namespace, name, next, CONTROLLER_WRITE);
  }

  const queue = new WorkQueue(sync);
  const unsubscribe = store.subscribe((e) => {
    if (e.type === 'DELETED' || e.group !== '') return;
    if (e.resource === 'secrets' && (e.object as Secret).type === TOKEN_SECRET_TYPE)
      queue.add(`${e.object.metadata.namespace}/${e.object.metadata.name}`);
    // A token Secret applied before its account waits for it (kubectl applies a file's objects in order).
    if (e.resource === 'serviceaccounts') {
      const namespace = e.object.metadata.namespace;
      for (const s of store.list('', 'secrets', namespace) as Secret[])
        if (s.type === TOKEN_SECRET_TYPE && s.metadata.annotations?.[SA_NAME_ANNOTATION] === e.object.metadata.name)
          queue.add(`${namespace}/${s.metadata.name}`);
    }
  });
  return {
    stop() {
      unsubscribe();
      queue.stop();
    },
  };
}
