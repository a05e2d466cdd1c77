// Deployment -> ReplicaSet -> Pod: the deployment controller (deployment-controller.ts) and the
// ReplicaSet controller (replicaset-controller.ts) of kube-controller-manager, started together.
import type { Controller, ControllerContext } from './context.js';
import { startDeploymentController } from './deployment-controller.js';
import { startReplicaSetController } from './replicaset-controller.js';

export { podTemplateHash } from './deployment-controller.js';
export { TEMPLATE_HASH_LABEL } from './deployment-util.js';

export function startWorkloadControllers(ctx: ControllerContext): Controller {
  const deployments = startDeploymentController(ctx);
  const replicasets = startReplicaSetController(ctx);
  return {
    async stop() {
      await deployments.stop();
      await replicasets.stop();
    },
  };
}
