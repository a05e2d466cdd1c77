// The deployment controller's rounding, against the cases upstream's deployment_util_test.go pins.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../contracts.js';
import { maxSurge, maxUnavailable, newRSNewReplicas, resolveFenceposts, setCondition } from './deployment-util.js';

const deployment = (
  replicas: number,
  rollingUpdate: Record<string, unknown> = { maxSurge: '25%', maxUnavailable: '25%' },
) =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd' },
    spec: { replicas, strategy: { type: 'RollingUpdate', rollingUpdate } },
  }) as KubeObject;

const rs = (replicas: number) =>
  ({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: `rs${replicas}` },
    spec: { replicas },
  }) as KubeObject;

describe('deployment arithmetic', () => {
  it('rounds surge up and unavailability down, and never lets both be zero', () => {
    expect(resolveFenceposts(deployment(1))).toEqual({ surge: 1, unavailable: 0 });
    expect(resolveFenceposts(deployment(3))).toEqual({ surge: 1, unavailable: 0 });
    expect(resolveFenceposts(deployment(4))).toEqual({ surge: 1, unavailable: 1 });
    expect(resolveFenceposts(deployment(10))).toEqual({ surge: 3, unavailable: 2 });
    expect(resolveFenceposts(deployment(1, { maxSurge: 0, maxUnavailable: '10%' }))).toEqual({
      surge: 0,
      unavailable: 1,
    });
    expect(maxUnavailable(deployment(2, { maxSurge: 0, maxUnavailable: 5 }))).toBe(2);
    expect(maxSurge({ ...deployment(4), spec: { replicas: 4, strategy: { type: 'Recreate' } } } as KubeObject)).toBe(0);
  });

  it('grows the new ReplicaSet only up to spec.replicas + maxSurge pods in all', () => {
    const d = deployment(4);
    expect(newRSNewReplicas(d, [rs(4), rs(0)], rs(0))).toBe(1);
    expect(newRSNewReplicas(d, [rs(3), rs(1)], rs(1))).toBe(2);
    expect(newRSNewReplicas(d, [rs(3), rs(2)], rs(2))).toBe(2);
    expect(newRSNewReplicas(d, [rs(0), rs(4)], rs(4))).toBe(4);
  });

  it('moves a changed condition to the end and keeps lastTransitionTime when only the reason changes', () => {
    const status: Record<string, any> = {
      conditions: [
        {
          type: 'Progressing',
          status: 'True',
          reason: 'NewReplicaSetCreated',
          lastTransitionTime: 't0',
          lastUpdateTime: 't0',
        },
        {
          type: 'Available',
          status: 'False',
          reason: 'MinimumReplicasUnavailable',
          lastTransitionTime: 't0',
          lastUpdateTime: 't0',
        },
      ],
    };
    setCondition(status, {
      type: 'Progressing',
      status: 'True',
      reason: 'ReplicaSetUpdated',
      lastTransitionTime: 't1',
      lastUpdateTime: 't1',
    });
    expect(status.conditions.map((c: { type: string }) => c.type)).toEqual(['Available', 'Progressing']);
    expect(status.conditions[1]).toMatchObject({
      reason: 'ReplicaSetUpdated',
      lastTransitionTime: 't0',
      lastUpdateTime: 't1',
    });
  });
});
