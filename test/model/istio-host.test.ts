// DestinationRule hosts as Istio's validation webhook takes them: the cases of istio/istio's own
// TestValidateWildcardDomain (pkg/config/validation/agent/validation_test.go) and TestValidateFQDN's
// trailing-dot names, plus what a scenario author mistypes.
import { describe, expect, it } from 'vitest';
import { wildcardDomainProblem } from '../../src/model/istio-host.js';

describe('wildcardDomainProblem (ValidateWildcardDomain)', () => {
  const cases: Array<[string, string, string]> = [
    ['empty', '', 'empty'],
    ['too long', 'x'.repeat(256), 'too long'],
    ['happy', 'x'.repeat(63), ''],
    ['wildcard', '*', ''],
    ['wildcard multi-segment', '*.bar.com', ''],
    ['wildcard single segment', '*foo', ''],
    ['wildcard prefix', '*foo.bar.com', ''],
    ['wildcard prefix dash', '*-foo.bar.com', ''],
    ['bad wildcard', 'foo.*.com', 'invalid'],
    ['bad wildcard', 'foo*.bar.com', 'invalid'],
    ['IP address', '1.1.1.1', 'invalid'],
    ['unambiguous FQDN', 'istio.io.', ''],
    ['unambiguous kubernetes FQDN', 'istio-pilot.istio-system.svc.cluster.local.', ''],
    ['short name', 'httpbin', ''],
    ['mesh-wide', '*.local', ''],
    ['label of 64', `${'x'.repeat(64)}.local`, 'invalid'],
    ['semicolon', 'httpbin.test1;touch', 'invalid'],
    ['space', 'httpbin test1', 'invalid'],
    ['empty label', 'httpbin..test1', 'invalid'],
  ];
  for (const [name, host, want] of cases) {
    it(`${name}: ${JSON.stringify(host.length > 40 ? `${host.slice(0, 20)}...` : host)}`, () => {
      const problem = wildcardDomainProblem(host);
      if (want === '') expect(problem).toBeUndefined();
      else expect(problem).toContain(want);
    });
  }

  it('words its messages as Istio does', () => {
    expect(wildcardDomainProblem('foo.*.com')).toBe('domain name "*.com" invalid (label "*" invalid)');
    expect(wildcardDomainProblem('a b.svc')).toBe('domain name "a b.svc" invalid (label "a b" invalid)');
    expect(wildcardDomainProblem('10.0.0.1')).toBe(
      'domain name "0.0.1" invalid (top level domain "1" cannot be all-numeric)',
    );
    expect(wildcardDomainProblem('')).toBe('empty domain name not allowed');
  });
});
