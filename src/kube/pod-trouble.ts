// What is wrong with a Deployment that does not become ready, and whether waiting can help: pure
// readings of the ReplicaFailure message and of the containers' waiting states, each with its fix.

/** The kubelet's waiting reasons that no wait will cure (a crash loop keeps crashing, a bad spec stays bad). */
const HOPELESS = new Set([
  'CrashLoopBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

/**
 * Pull errors that say the image will never come: the registry has no such image or tag, or refuses this
 * node. Everything else (Docker Hub's 429 "toomanyrequests", a registry timeout, a reset) the kubelet
 * retries with its back-off (pkg/kubelet/images/image_manager.go), so meshprobe waits with it. The
 * wordings are containerd 2.0's (kind nodes), the Docker engine's (cri-dockerd) and the registries' own.
 */
const DEFINITE_PULL =
  /\bnot found\b|code = NotFound|manifest unknown|pull access denied|repository does not exist|unauthorized|authentication required|insufficient_scope|denied: /i;

export function isDefinitePullError(message: string): boolean {
  return DEFINITE_PULL.test(message);
}

export interface Trouble {
  message: string;
  fix: string;
}

/**
 * Why the ReplicaSet cannot create pods, and whether that is final. Pod Security admission refuses the same
 * pod every time until the namespace's label changes, so it fails at once; a webhook that cannot be reached
 * or a quota may clear (istiod restarting, another pod finishing), so those get a grace period.
 */
export function createFailure(namespace: string, message: string): Trouble & { final: boolean } {
  // pod-security-admission v0.32 admission/admission.go: `violates PodSecurity "LEVEL:VERSION": ...`.
  const psa = /violates PodSecurity "([a-z]+):[^"]*"/.exec(message);
  if (psa) {
    const istioInit = /"istio-init"/.test(message);
    return {
      final: true,
      message,
      fix: `namespace ${namespace} enforces Pod Security "${psa[1]}"${istioInit ? ", and istio-init needs NET_ADMIN and NET_RAW to set up the sidecar's traffic capture" : ''}: create the namespace labelled pod-security.kubernetes.io/enforce=privileged before the run (kubectl create namespace ${namespace} && kubectl label namespace ${namespace} pod-security.kubernetes.io/enforce=privileged) and pass --adopt${istioInit ? ', or install Istio with istio-cni so that pods need no istio-init' : ''}`,
    };
  }
  // apiserver admission/plugin/webhook/mutating/dispatcher.go: `failed calling webhook "NAME": ...`.
  const webhook = /failed calling webhook "([^"]+)"/.exec(message);
  if (webhook) {
    const istio = /sidecar-injector\.istio\.io|istiod/.test(message);
    return {
      final: false,
      message,
      fix: istio
        ? 'istiod is down or unreachable, and its sidecar injector webhook fails closed (failurePolicy: Fail): check istiod (kubectl get pods,endpoints -n istio-system -l app=istiod) and run again once it is Ready'
        : `the admission webhook ${webhook[1]} cannot be reached and fails closed: check the service it calls (kubectl get mutatingwebhookconfigurations,validatingwebhookconfigurations)`,
    };
  }
  if (/exceeded quota/.test(message))
    return {
      final: false,
      message,
      fix: `a ResourceQuota in ${namespace} is full: kubectl describe resourcequota -n ${namespace}`,
    };
  return {
    final: false,
    message,
    fix: `kubectl get events -n ${namespace} --field-selector reason=FailedCreate`,
  };
}

export interface ContainerState {
  name: string;
  image?: string;
  ready?: boolean;
  restartCount?: number;
  state?: { waiting?: { reason?: string; message?: string } };
  lastState?: { terminated?: { exitCode?: number; reason?: string } };
}

/**
 * A container that will not start, or undefined while waiting may still help. `lastPull` is the last
 * ErrImagePull message seen for it: ImagePullBackOff's own message ("Back-off pulling image ...") does
 * not say why the pull failed.
 */
export function containerTrouble(
  pod: { namespace: string; name: string },
  c: ContainerState,
  lastPull: string | undefined,
): Trouble | undefined {
  const reason = c.state?.waiting?.reason;
  const said = c.state?.waiting?.message;
  if (reason === 'ErrImagePull' || reason === 'ImagePullBackOff') {
    const why = reason === 'ErrImagePull' ? said : lastPull;
    if (!why || !isDefinitePullError(why)) return undefined;
    return {
      message: `pod ${pod.namespace}/${pod.name} cannot pull image ${c.image ? `"${c.image}" ` : ''}for container ${c.name}: ${why}`,
      fix: "check the image name and tag in the topology's manifests, and that this cluster's nodes may pull it (imagePullSecrets for a private registry; kind load docker-image for a local one)",
    };
  }
  if (!reason || !HOPELESS.has(reason)) return undefined;
  const last = c.lastState?.terminated;
  return {
    message: `pod ${pod.namespace}/${pod.name} container ${c.name} is in ${reason}${said ? `: ${said}` : ''}${last ? ` (last exit code ${last.exitCode}${last.reason ? `, ${last.reason}` : ''}, ${c.restartCount ?? 0} restarts)` : ''}`,
    fix: `kubectl logs -n ${pod.namespace} ${pod.name} -c ${c.name} --previous`,
  };
}
