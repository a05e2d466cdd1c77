// Kubeconfig selection as kubectl does it: --kubeconfig alone; else every file of $KUBECONFIG merged in
// order (missing ones skipped); else ~/.kube/config; else the in-cluster service account. Then --context.
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ClusterError, ConfigError } from '../errors.js';

/** The context name client-node gives the service-account identity (config.js loadFromCluster). */
export const IN_CLUSTER_CONTEXT = 'inClusterContext';

export interface KubeconfigOptions {
  kubeconfig?: string;
  context?: string;
  env: Record<string, string | undefined>;
}

export function loadKubeconfig(o: KubeconfigOptions): KubeConfig {
  const kc = new KubeConfig();
  const files = o.kubeconfig
    ? [o.kubeconfig]
    : o.env.KUBECONFIG
      ? o.env.KUBECONFIG.split(delimiter).filter((f) => f && existsSync(f))
      : [join(o.env.HOME ?? o.env.USERPROFILE ?? '', '.kube', 'config')].filter((f) => existsSync(f));
  if (o.kubeconfig && !existsSync(o.kubeconfig)) throw new ConfigError(`--kubeconfig ${o.kubeconfig}: file not found`);
  if (files.length === 0) {
    if (o.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
    else
      throw new ClusterError(
        'no kubeconfig found (looked at $KUBECONFIG and ~/.kube/config)',
        'pass --kubeconfig FILE or set KUBECONFIG; for a cluster to try, run `make try` in a clone of meshprobe (an emulated cluster with Istio and the topology; it prints the KUBECONFIG to export)',
      );
  }
  for (const [i, file] of files.entries()) {
    try {
      if (i === 0) kc.loadFromFile(file);
      else {
        const more = new KubeConfig();
        more.loadFromFile(file);
        kc.mergeConfig(more, true);
      }
    } catch (e) {
      throw new ConfigError(`kubeconfig ${file} cannot be read: ${(e as Error).message}`);
    }
  }
  if (o.context) {
    if (!kc.getContextObject(o.context)) {
      throw new ConfigError(
        `--context ${o.context} is not in the kubeconfig`,
        `contexts: ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(', ') || '(none)'
        }`,
      );
    }
    kc.setCurrentContext(o.context);
  }
  if (!kc.getCurrentCluster())
    throw new ClusterError(
      `kubeconfig context "${kc.getCurrentContext()}" names no cluster`,
      'pick a context with --context, or fix the kubeconfig (kubectl config get-contexts)',
    );
  return kc;
}
