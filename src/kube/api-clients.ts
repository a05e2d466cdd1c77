// API clients as KubeConfig.makeApiClient builds them (client-node 1.4 config.js: the current cluster's
// server, the KubeConfig as the auth method), with the HttpLibrary that bounds every request in time.
import {
  createConfiguration,
  KubernetesObjectApi,
  ServerConfiguration,
  wrapHttpLibrary,
  type Configuration,
  type KubeConfig,
} from '@kubernetes/client-node';
import { TimedHttpLibrary, type Timeouts } from './http-timeouts.js';

function configuration(kc: KubeConfig, timeouts: Timeouts): Configuration {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('No active cluster!');
  return createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: kc },
    httpApi: wrapHttpLibrary(new TimedHttpLibrary(timeouts)),
  });
}

export function apiClient<T>(kc: KubeConfig, type: new (config: Configuration) => T, timeouts: Timeouts): T {
  return new type(configuration(kc, timeouts));
}

/** KubernetesObjectApi.makeApiClient: also the context's default namespace (a protected setter). */
class ObjectApi extends KubernetesObjectApi {
  static of(kc: KubeConfig, timeouts: Timeouts): KubernetesObjectApi {
    const client = new ObjectApi(configuration(kc, timeouts));
    client.setDefaultNamespace(kc);
    return client;
  }
}

export const objectApi = (kc: KubeConfig, timeouts: Timeouts): KubernetesObjectApi => ObjectApi.of(kc, timeouts);
