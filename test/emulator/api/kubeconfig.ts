// Kubeconfig files for the emulated cluster, in the shape `kind` writes: one cluster with the CA
// inline, one token user, one context, set as current.
import { stringify } from 'yaml';

export interface KubeconfigInput {
  server: string;
  caPem: string;
  user: string;
  token: string;
  /** The context's namespace, if any. */
  namespace?: string;
  /** Names the cluster and context; defaults to 'meshprobe-emulator'. */
  contextName?: string;
}

export function renderKubeconfig(input: KubeconfigInput): string {
  const name = input.contextName ?? 'meshprobe-emulator';
  const context: Record<string, string> = { cluster: name, user: input.user };
  if (input.namespace) context.namespace = input.namespace;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [
      {
        name,
        cluster: { server: input.server, 'certificate-authority-data': Buffer.from(input.caPem).toString('base64') },
      },
    ],
    users: [{ name: input.user, user: { token: input.token } }],
    contexts: [{ name, context }],
    'current-context': name,
  });
}
