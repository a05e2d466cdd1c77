import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../contracts.js';
import { parseUserSpec } from './auth.js';
import { matchesSelectorObject, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { ApiError } from './status.js';

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'front', version: '3' };

  it.each([
    ['', true],
    ['app=web', true],
    ['app==web,tier=front', true],
    ['app!=web', false],
    ['app in (api, web)', true],
    ['app notin (web)', false],
    ['tier', true],
    ['!tier', false],
    ['!missing', true],
    ['missing!=x', true],
    ['version>2', true],
    ['version<3', false],
    ['app=web,missing', false],
    ['example.com/team=x', false],
  ])('%j selects %s', (selector, expected) => {
    expect(parseLabelSelector(selector)(labels)).toBe(expected);
  });

  it('rejects malformed selectors with a 400', () => {
    expect(() => parseLabelSelector('app=(web')).toThrow(ApiError);
    try {
      parseLabelSelector('a b c');
    } catch (e) {
      expect((e as ApiError).status.code).toBe(400);
    }
  });

  it('evaluates selector objects (matchLabels and matchExpressions)', () => {
    expect(
      matchesSelectorObject(
        { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }] },
        labels,
      ),
    ).toBe(true);
    expect(matchesSelectorObject({ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, labels)).toBe(
      false,
    );
    expect(matchesSelectorObject(undefined, labels)).toBe(false);
  });
});

describe('field selectors', () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'n' },
    spec: { nodeName: 'node' },
    status: { phase: 'Running', podIP: '10.244.0.9' },
  } as KubeObject;

  it('selects on the fields each resource supports', () => {
    expect(parseFieldSelector('metadata.name=p,status.phase!=Failed', '', 'pods', false)(pod)).toBe(true);
    expect(parseFieldSelector('spec.nodeName==other', '', 'pods', false)(pod)).toBe(false);
    expect(parseFieldSelector('spec.hostNetwork=false', '', 'pods', false)(pod)).toBe(true);
  });

  it('refuses unsupported fields with the API server wording', () => {
    expect(() => parseFieldSelector('status.phase=Running', '', 'configmaps', false)).toThrow(
      'field label not supported: status.phase',
    );
    expect(() => parseFieldSelector('spec.host=x', 'networking.istio.io', 'destinationrules', true)).toThrow(
      '"spec.host" is not a known field selector: only "metadata.name", "metadata.namespace"',
    );
  });
});

describe('user specs (CLI --user)', () => {
  it('parses names, tokens and rules', () => {
    expect(parseUserSpec('alice:tok')).toEqual({ name: 'alice', token: 'tok', rules: [] });
    expect(
      parseUserSpec(
        'bob:tok:get,list/pods,services@t1+t2;create/pods/exec;patch/security.istio.io:peerauthentications',
      ),
    ).toEqual({
      name: 'bob',
      token: 'tok',
      rules: [
        { verbs: ['get', 'list'], apiGroups: ['*'], resources: ['pods', 'services'], namespaces: ['t1', 't2'] },
        { verbs: ['create'], apiGroups: ['*'], resources: ['pods/exec'] },
        { verbs: ['patch'], apiGroups: ['security.istio.io'], resources: ['peerauthentications'] },
      ],
    });
    expect(() => parseUserSpec('nobody')).toThrow('expected NAME:TOKEN[:RULES]');
    expect(() => parseUserSpec('x:y:bogus')).toThrow('expected VERBS/RESOURCES[@NAMESPACES]');
  });
});
