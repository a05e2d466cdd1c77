// AuthorizationPolicy through the emulated cluster as a user meets it: `kubectl apply` of the policy, curl
// exec'd in a client pod, the server sidecar deciding. test1 and test2 have sidecars, test3 none; test1 has
// a second client with its own ServiceAccount (sleep-other) and a TCP server port (tcpbin:9000, as the
// authz-tcp task's tcp-echo). Each case cites the Istio document or test it follows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiHarness, type ApiCluster } from './api-harness.js';
import type { Harness } from './harness.js';

const SLEEP_OTHER = `apiVersion: v1
kind: ServiceAccount
metadata:
  name: sleep-other
  namespace: test1
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: sleep-other
  namespace: test1
spec:
  replicas: 1
  selector:
    matchLabels:
      app: sleep-other
  template:
    metadata:
      labels:
        app: sleep-other
    spec:
      serviceAccountName: sleep-other
      containers:
        - name: sleep
          image: docker.io/curlimages/curl:8.16.0
          command: ["/bin/sleep", "infinity"]
`;

// The authz-tcp task's tcp-echo, played by go-httpbin on a port its Service names tcp (opaque to Istio).
const TCPBIN = `apiVersion: v1
kind: Service
metadata:
  name: tcpbin
  namespace: test1
spec:
  ports:
    - name: tcp
      port: 9000
      targetPort: 9000
  selector:
    app: tcpbin
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: tcpbin
  namespace: test1
spec:
  replicas: 1
  selector:
    matchLabels:
      app: tcpbin
  template:
    metadata:
      labels:
        app: tcpbin
    spec:
      containers:
        - name: tcpbin
          image: docker.io/mccutchen/go-httpbin:v2.15.0
          env:
            - name: PORT
              value: "9000"
          ports:
            - containerPort: 9000
`;

function policy(ns: string, name: string, spec: string, annotations = ''): string {
  return `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: ${name}\n  namespace: ${ns}\n${annotations}spec:\n${spec}`;
}

interface Probe {
  exit: number | string;
  http: string;
  body: string;
  stderr: string;
}

type Client = 'test1' | 'test1-other' | 'test2' | 'test3';

describe('AuthorizationPolicy enforced by the emulated server sidecar', () => {
  let h: Harness & { cluster: ApiCluster };
  const podName = (ns: string, app: string) => h.cluster.pods(ns, app)[0]!.metadata.name;

  async function curl(from: Client, url: string, extra: string[] = []): Promise<Probe> {
    const [ns, app] = from === 'test1-other' ? ['test1', 'sleep-other'] : [from, 'sleep'];
    const r = await h.cluster.exec(ns, podName(ns, app), 'sleep', [
      'curl',
      '-sS',
      '-m',
      '10',
      '-w',
      '\n%{http_code}',
      ...extra,
      url,
    ]);
    const nl = r.stdout.lastIndexOf('\n');
    return { exit: r.code, http: r.stdout.slice(nl + 1), body: r.stdout.slice(0, Math.max(nl, 0)), stderr: r.stderr };
  }

  /** "200", "403" (with Envoy's RBAC body), or what else came back. */
  async function outcome(from: Client, url: string, extra: string[] = []): Promise<string> {
    const r = await curl(from, url, extra);
    if (r.exit === 0 && r.http === '403') return r.body === 'RBAC: access denied' ? '403' : `403 ${r.body}`;
    if (r.exit === 0) return r.http;
    return `exit ${r.exit}`;
  }

  async function proxyLog(ns: string, app: string): Promise<string> {
    const r = await h.cluster.kubectl(['logs', '-n', ns, podName(ns, app), '-c', 'istio-proxy']);
    return r.stdout;
  }

  /** Runs the probes and returns the proxy log lines they added (the log is the pod's whole life). */
  async function logOf(ns: string, app: string, probes: () => Promise<void>): Promise<string> {
    const before = (await proxyLog(ns, app)).length;
    await probes();
    return (await proxyLog(ns, app)).slice(before);
  }

  async function withObjects(objects: string[], body: () => Promise<void>): Promise<void> {
    await h.apply(objects);
    try {
      await h.settle();
      await body();
    } finally {
      await h.remove(objects);
      await h.settle();
    }
  }

  beforeAll(async () => {
    h = await startApiHarness('modern', [
      { ns: 'test1', injected: true, workloads: ['httpbin', 'sleep'] },
      { ns: 'test2', injected: true, workloads: ['httpbin', 'sleep'] },
      { ns: 'test3', injected: false, workloads: ['httpbin', 'sleep'] },
    ]);
    await h.cluster.apply(`${SLEEP_OTHER}---\n${TCPBIN}`);
    await h.cluster.waitReady(['test1']);
    await h.settle();
  });
  afterAll(async () => h?.stop());

  // API reference (authorization_policy.proto): `spec: {}` "allows nothing and effectively denies all
  // requests to workloads in namespace foo"; the 403 is Envoy's RBAC filter's local reply.
  it('allow-nothing: every client gets 403 "RBAC: access denied" with the headers Envoy sends', async () => {
    await withObjects([policy('test1', 'allow-nothing', '  {}\n')], async () => {
      const log = await logOf('test1', 'httpbin', async () => {
        for (const from of ['test1', 'test1-other', 'test2', 'test3'] as const)
          expect([from, await outcome(from, 'http://httpbin.test1:8000/get')]).toEqual([from, '403']);
      });
      // The access log says no ALLOW rule matched, for the mTLS and the plaintext client alike.
      expect(log).toMatch(
        /"GET \/get HTTP\/1\.1" 403 - rbac_access_denied_matched_policy\[none\] mtls peer=spiffe:\/\/cluster\.local\/ns\/test2\/sa\/sleep "httpbin\.test1:8000" "-" inbound\|8080\|\|/,
      );
      expect(log).toMatch(
        /"GET \/get HTTP\/1\.1" 403 - rbac_access_denied_matched_policy\[none\] plaintext "httpbin\.test1:8000"/,
      );

      // Through the client's sidecar: its router adds x-envoy-upstream-service-time and names itself envoy.
      const viaSidecar = await curl('test2', 'http://httpbin.test1:8000/get', ['-D', '-', '-o', '/dev/null']);
      expect(headerLines(viaSidecar.body)).toEqual([
        'HTTP/1.1 403 Forbidden',
        'content-length: 19',
        'content-type: text/plain',
        expect.stringMatching(/^date: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/),
        'server: envoy',
        expect.stringMatching(/^x-envoy-upstream-service-time: \d+$/),
      ]);
      // Straight from a pod without a sidecar: the server sidecar's own local reply, server istio-envoy.
      const direct = await curl('test3', 'http://httpbin.test1:8000/get', ['-D', '-', '-o', '/dev/null']);
      expect(headerLines(direct.body)).toEqual([
        'HTTP/1.1 403 Forbidden',
        'content-length: 19',
        'content-type: text/plain',
        expect.stringMatching(/^date: /),
        'server: istio-envoy',
      ]);

      // The config dump names the policy and the rules the proxy holds.
      const dump = await h.cluster.exec('test1', podName('test1', 'httpbin'), 'istio-proxy', [
        'curl',
        '-s',
        'localhost:15000/config_dump_emulator',
      ]);
      const authz = JSON.parse(dump.stdout).authorization;
      expect(authz.selected.ALLOW).toEqual(['AuthorizationPolicy test1/allow-nothing']);
      expect(Object.keys(authz.http[0].rules.policies)).toEqual(['ns[test1]-policy[allow-nothing]-rule[0]']);
    });
  });

  // istio.io tasks/security/authorization/authz-deny: "deny-method-get" denies GET, other methods pass.
  it('deny by method: GET is denied by the named rule, POST goes through', async () => {
    const deny = policy(
      'test1',
      'deny-method-get',
      '  selector:\n    matchLabels:\n      app: httpbin\n  action: DENY\n  rules:\n  - to:\n    - operation:\n        methods: ["GET"]\n',
    );
    await withObjects([deny], async () => {
      const log = await logOf('test1', 'httpbin', async () => {
        expect(await outcome('test2', 'http://httpbin.test1:8000/get')).toBe('403');
        expect(await outcome('test2', 'http://httpbin.test1:8000/anything', ['-X', 'POST', '-d', 'x=1'])).toBe('200');
      });
      expect(await outcome('test2', 'http://httpbin.test2:8000/get')).toBe('200');
      expect(log).toContain(
        '"GET /get HTTP/1.1" 403 - rbac_access_denied_matched_policy[ns[test1]-policy[deny-method-get]-rule[0]] mtls',
      );
      expect(log).toContain('"POST /anything HTTP/1.1" 200 - mtls');
    });
  });

  // tests/integration/security/authz_test.go TestAuthz_Principal (allowed and denied sources, "/allow" vs
  // "/deny" paths, "?param=value" ignored); the principal is the client certificate's SPIFFE identity, so
  // two ServiceAccounts in one namespace are told apart.
  it('allow by principal: only test1/sleep, not test1/sleep-other, test2 or plaintext', async () => {
    const allow = policy(
      'test1',
      'allow-principal',
      '  selector:\n    matchLabels:\n      app: httpbin\n  rules:\n  - from:\n    - source:\n        principals: ["cluster.local/ns/test1/sa/sleep"]\n    to:\n    - operation:\n        paths: ["/get"]\n',
    );
    await withObjects([allow], async () => {
      expect(await outcome('test1', 'http://httpbin.test1:8000/get?param=value')).toBe('200');
      expect(await outcome('test1', 'http://httpbin.test1:8000/headers')).toBe('403');
      const log = await logOf('test1', 'httpbin', async () => {
        expect(await outcome('test1-other', 'http://httpbin.test1:8000/get')).toBe('403');
      });
      expect(log).toMatch(
        /403 - rbac_access_denied_matched_policy\[none\] mtls peer=spiffe:\/\/cluster\.local\/ns\/test1\/sa\/sleep-other/,
      );
      expect(await outcome('test2', 'http://httpbin.test1:8000/get')).toBe('403');
      expect(await outcome('test3', 'http://httpbin.test1:8000/get')).toBe('403');
    });
  });

  // authz_test.go TestAuthz_NotPort and the authz-tcp task ("ports: 9000, 9001" of tcp-echo's pod): `ports`
  // are the workload's ports as the sidecar's inbound sees them, the container port, not the Service port.
  it('ports: the container port (8080) matches, the Service port (8000) does not', async () => {
    const allow = (name: string, port: string) =>
      policy('test1', name, `  rules:\n  - to:\n    - operation:\n        ports: ["${port}"]\n`);
    await withObjects([allow('allow-8080', '8080')], async () => {
      expect(await outcome('test2', 'http://httpbin.test1:8000/get')).toBe('200');
      expect(await outcome('test2', 'http://httpbin.test1:9080/get')).toBe('200');
    });
    await withObjects([allow('allow-8000', '8000')], async () => {
      expect(await outcome('test2', 'http://httpbin.test1:8000/get')).toBe('403');
    });
  });

  // authz_test.go TestAuthz_Namespace: namespaces come from the peer certificate.
  it('allow by namespace: test2 gets through, test1 and plaintext test3 do not', async () => {
    const allow = policy('test1', 'allow-test2', '  rules:\n  - from:\n    - source:\n        namespaces: ["test2"]\n');
    await withObjects([allow], async () => {
      expect(await outcome('test2', 'http://httpbin.test1:8000/get')).toBe('200');
      expect(await outcome('test1', 'http://httpbin.test1:8000/get')).toBe('403');
      expect(await outcome('test3', 'http://httpbin.test1:8000/get')).toBe('403');
    });
  });

  // authorization_policy.proto Source.ipBlocks: "populated from the source address of the IP packet" — the
  // client pod's IP, with or without a sidecar on the client.
  it('ipBlocks: the client pod IP decides, for sidecar and plaintext clients alike', async () => {
    const ipOf = (ns: string) => (h.cluster.pods(ns, 'sleep')[0]!.status as { podIP: string }).podIP;
    const allow = policy(
      'test1',
      'allow-ips',
      `  rules:\n  - from:\n    - source:\n        ipBlocks: ["${ipOf('test2')}", "${ipOf('test3')}/32"]\n`,
    );
    await withObjects([allow], async () => {
      expect(await outcome('test2', 'http://httpbin.test1:8000/get')).toBe('200');
      expect(await outcome('test3', 'http://httpbin.test1:8000/get')).toBe('200');
      expect(await outcome('test1', 'http://httpbin.test1:8000/get')).toBe('403');
    });
  });

  // authorization_policy.proto: "If there are any DENY policies that match the request, deny the request"
  // comes before "If any of the ALLOW policies match the request, allow the request".
  it('DENY over ALLOW: allow-all plus a DENY on /headers', async () => {
    const allowAll = policy('test1', 'allow-all', '  rules:\n  - {}\n');
    const deny = policy(
      'test1',
      'deny-headers',
      '  action: DENY\n  rules:\n  - to:\n    - operation:\n        paths: ["/headers"]\n',
    );
    await withObjects([allowAll, deny], async () => {
      expect(await outcome('test3', 'http://httpbin.test1:8000/get')).toBe('200');
      const log = await logOf('test1', 'httpbin', async () => {
        expect(await outcome('test3', 'http://httpbin.test1:8000/headers')).toBe('403');
      });
      expect(log).toContain(
        '"GET /headers HTTP/1.1" 403 - rbac_access_denied_matched_policy[ns[test1]-policy[deny-headers]-rule[0]] plaintext',
      );
    });
  });

  // authorization_policy.proto: "If set to root namespace, the policy applies to all namespaces in a
  // mesh"; and Istio's concepts page: authorization is enforced by "the server-side Envoy proxy", so a
  // server without a sidecar is not affected.
  it('root-namespace policy: mesh-wide allow-nothing denies test1 and test2, not the sidecar-less test3', async () => {
    await withObjects([policy('istio-system', 'allow-nothing', '  {}\n')], async () => {
      expect(await outcome('test2', 'http://httpbin.test1:8000/get')).toBe('403');
      expect(await outcome('test1', 'http://httpbin.test2:8000/get')).toBe('403');
      expect(await outcome('test1', 'http://httpbin.test3:8000/get')).toBe('200');
      expect(await outcome('test3', 'http://httpbin.test3:8000/get')).toBe('200');
    });
  });

  it('a policy in a namespace without sidecars has no effect', async () => {
    await withObjects([policy('test3', 'allow-nothing', '  {}\n')], async () => {
      expect(await outcome('test1', 'http://httpbin.test3:8000/get')).toBe('200');
      expect(await outcome('test3', 'http://httpbin.test3:8000/get')).toBe('200');
    });
  });

  // ISTIO-SECURITY-2021-004 (istio.io news): under PERMISSIVE, rules on principals/namespaces never match
  // plaintext (denied by an ALLOW on principals), while a rule on paths alone lets plaintext in.
  it('PERMISSIVE + principals rule denies the plaintext client; PERMISSIVE + paths-only rule lets it in', async () => {
    const principals = policy(
      'test1',
      'allow-principals',
      '  rules:\n  - from:\n    - source:\n        principals: ["cluster.local/ns/test3/sa/sleep", "cluster.local/ns/test2/sa/sleep"]\n',
    );
    await withObjects([principals], async () => {
      expect(await outcome('test2', 'http://httpbin.test1:8000/get')).toBe('200');
      expect(await outcome('test3', 'http://httpbin.test1:8000/get')).toBe('403');
    });
    const paths = policy('test1', 'allow-paths', '  rules:\n  - to:\n    - operation:\n        paths: ["/get"]\n');
    await withObjects([paths], async () => {
      expect(await outcome('test3', 'http://httpbin.test1:8000/get')).toBe('200');
      expect(await outcome('test3', 'http://httpbin.test1:8000/headers')).toBe('403');
    });
  });

  // Istio's listener_inbound.go: STRICT has only the mTLS filter chain, so plaintext is reset at filter
  // chain match (filter_chain_not_found), before any RBAC filter runs.
  it('STRICT resets plaintext before authorization: exit 56, no RBAC decision in the log', async () => {
    const strict =
      'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: test1\nspec:\n  mtls:\n    mode: STRICT\n';
    await withObjects([strict, policy('test1', 'allow-nothing', '  {}\n')], async () => {
      const log = await logOf('test1', 'httpbin', async () => {
        const r = await curl('test3', 'http://httpbin.test1:8000/get');
        expect({ exit: r.exit, http: r.http }).toEqual({ exit: 56, http: '000' });
        expect(r.stderr).toContain('Connection reset by peer');
      });
      expect(log).toContain('NR filter_chain_not_found');
      expect(log).not.toContain('rbac_access_denied');
      // The mTLS client passes authentication and meets the policy.
      expect(await outcome('test2', 'http://httpbin.test1:8000/get')).toBe('403');
    });
  });

  // istio.io tasks/security/authorization/authz-tcp: a DENY with only HTTP fields "denies all the traffic
  // to the tcp ports"; one scoped by ports denies that port. The network RBAC filter closes the
  // connection (Istio's check.Forbidden expects EOF on TCP), so curl gets an empty reply: exit 52.
  it('TCP port: a DENY with HTTP-only fields closes every connection after its first bytes (curl exit 52)', async () => {
    const deny = policy(
      'test1',
      'tcp-policy',
      '  selector:\n    matchLabels:\n      app: tcpbin\n  action: DENY\n  rules:\n  - to:\n    - operation:\n        methods: ["GET"]\n',
    );
    expect(await outcome('test2', 'http://tcpbin.test1:9000/get')).toBe('200');
    await withObjects([deny], async () => {
      const log = await logOf('test1', 'tcpbin', async () => {
        for (const from of ['test2', 'test3'] as const) {
          const r = await curl(from, 'http://tcpbin.test1:9000/anything', ['-X', 'POST']);
          expect({ from, exit: r.exit, http: r.http }).toEqual({ from, exit: 52, http: '000' });
          expect(r.stderr).toContain('curl: (52) Empty reply from server');
        }
      });
      const line =
        '"- - -" 0 - - rbac_access_denied_matched_policy[ns[test1]-policy[tcp-policy]-rule[0]] "-" inbound|9000||';
      expect(log).toContain(`${line} mtls peer=spiffe://cluster.local/ns/test2/sa/sleep`);
      expect(log).toContain(`${line} plaintext`);
      // The HTTP port of the same namespace is untouched by the tcpbin-selecting policy.
      expect(await outcome('test2', 'http://httpbin.test1:8000/get')).toBe('200');
    });
    // The task's ALLOW with methods + ports: the rule "becomes invalid" on TCP, so nothing is allowed.
    const allow = policy(
      'test1',
      'tcp-policy',
      '  selector:\n    matchLabels:\n      app: tcpbin\n  rules:\n  - to:\n    - operation:\n        methods: ["GET"]\n        ports: ["9000"]\n',
    );
    await withObjects([allow], async () => {
      expect(await outcome('test2', 'http://tcpbin.test1:9000/get')).toBe('exit 52');
    });
  });

  // builder.go buildHTTP: with no usable extension provider Istio "will generate deny configs for the
  // specified rules" (testdata http/custom-bad-out.yaml); the emulated mesh config declares none.
  it('CUSTOM with an undeclared provider denies what its rules match', async () => {
    const custom = policy(
      'test1',
      'ext-authz',
      '  action: CUSTOM\n  provider:\n    name: my-ext-authz\n  rules:\n  - to:\n    - operation:\n        paths: ["/headers"]\n',
    );
    await withObjects([custom], async () => {
      const log = await logOf('test1', 'httpbin', async () => {
        expect(await outcome('test2', 'http://httpbin.test1:8000/headers')).toBe('403');
      });
      expect(log).toContain(
        'rbac_access_denied_matched_policy[istio-ext-authz-ns[test1]-policy[ext-authz]-rule[0]-deny-due-to-bad-CUSTOM-action]',
      );
      expect(await outcome('test2', 'http://httpbin.test1:8000/get')).toBe('200');
    });
  });

  // istio.io tasks/security/authorization/authz-dry-run: the dry-run DENY on /headers lets the request
  // through and the proxy logs "shadow denied, matched policy ns[foo]-policy[deny-path-headers]-rule[0]".
  it('dry-run: no effect on traffic, the shadow result in the proxy log', async () => {
    const dry = policy(
      'test1',
      'deny-path-headers',
      '  selector:\n    matchLabels:\n      app: httpbin\n  action: DENY\n  rules:\n  - to:\n    - operation:\n        paths: ["/headers"]\n',
      '  annotations:\n    "istio.io/dry-run": "true"\n',
    );
    await withObjects([dry], async () => {
      const log = await logOf('test1', 'httpbin', async () => {
        expect(await outcome('test2', 'http://httpbin.test1:8000/headers')).toBe('200');
      });
      expect(log).toContain('shadow denied, matched policy ns[test1]-policy[deny-path-headers]-rule[0]');
      expect(log).toContain('"GET /headers HTTP/1.1" 200 - mtls');
    });
  });
});

// Istio's concepts page: "Istio can't guarantee that all workloads receive the new policy at the same
// time"; the emulated istiod delivers an AuthorizationPolicy change to each proxy after its own delay, the
// same push as PeerAuthentication's.
describe('AuthorizationPolicy propagation', () => {
  const DELAY = { min: 1200, max: 1500 };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  let h: Harness;
  beforeAll(async () => {
    h = await startApiHarness(
      'modern',
      [
        { ns: 'test1', injected: true, workloads: ['httpbin'] },
        { ns: 'test3', injected: false, workloads: ['sleep'] },
      ],
      { propagationDelayMs: DELAY, seed: 11 },
    );
  });
  afterAll(async () => h?.stop());

  it('the old decision holds until the proxy gets the new configuration, both ways', async () => {
    const nothing = policy('test1', 'allow-nothing', '  {}\n');
    const probe = async () => (await h.curl('test3', 'http://httpbin.test1:8000/get')).http;
    const applied = Date.now();
    await h.apply([nothing]);
    const early = await probe();
    expect(Date.now() - applied).toBeLessThan(DELAY.min);
    expect(early).toBe('200');
    await sleep(DELAY.max + 150);
    expect(await probe()).toBe('403');
    const removed = Date.now();
    await h.remove([nothing]);
    const still = await probe();
    expect(Date.now() - removed).toBeLessThan(DELAY.min);
    expect(still).toBe('403');
    await sleep(DELAY.max + 150);
    expect(await probe()).toBe('200');
  });
});

/** The status line and header lines curl dumped, without the trailing blank line. */
function headerLines(dump: string): string[] {
  return dump.split(/\r?\n/).filter((l) => l.length > 0);
}
