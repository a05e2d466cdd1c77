// Several requests per port: one matrix column each, keyed so the first keeps the port's name
// (src/model/matrix.ts), selected by scenario patterns by method and path.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { matchesTarget } from '../../src/model/patterns.js';
import { loadTopology } from '../../src/model/topology-file.js';

const WORKLOADS = resolve('manifests/workloads');
const dir = mkdtempSync(join(tmpdir(), 'meshprobe-topology-'));
let n = 0;
function topologyWith(
  serve: string,
  namespaces = '[{name: a, injection: true, workloads: [httpbin, sleep]}, {name: b, injection: false, workloads: [httpbin]}]',
) {
  const file = join(dir, `t${++n}.yaml`);
  writeFileSync(
    file,
    `apiVersion: meshprobe/v1
kind: Topology
metadata: {name: t}
spec:
  namespaces: ${namespaces}
  workloads:
    sleep: {manifest: ${WORKLOADS}/sleep.yaml, client: {container: sleep}}
    httpbin:
      manifest: ${WORKLOADS}/httpbin.yaml
      serve:
${serve}
`,
  );
  return loadTopology(file);
}

describe('requests per port', () => {
  it('the default topology: 5 clients × 8 requests, the POST column only in test1', () => {
    const t = loadTopology();
    expect(t.clients.map((c) => c.id)).toEqual([
      'test1/sleep',
      'test1/sleep-other',
      'test2/sleep',
      'test3/sleep',
      'ngtest/sleep',
    ]);
    expect(t.targets.map((x) => x.id)).toEqual([
      'test1/httpbin:8000',
      'test1/httpbin:9080',
      'test1/httpbin:8000 POST /anything',
      'test2/httpbin:8000',
      'test2/httpbin:9080',
      'test3/httpbin:8000',
      'test3/httpbin:9080',
      'ngtest/my-nginx:443',
    ]);
    expect(t.workloads.find((w) => w.name === 'sleep-other')).toMatchObject({
      serviceAccount: 'sleep-other',
      sidecar: true,
    });
  });

  it('paths × methods, in order; a further request adds its method and path to the port', () => {
    const t = topologyWith(`        - {ports: [http], path: /headers}
        - {ports: [http], paths: [/ip, /anything/admin], methods: [GET, DELETE]}`);
    expect(t.targets.filter((x) => x.namespace === 'a').map((x) => [x.id, x.method, x.path])).toEqual([
      ['a/httpbin:8000', 'GET', '/headers'],
      ['a/httpbin:8000 GET /ip', 'GET', '/ip'],
      ['a/httpbin:8000 GET /anything/admin', 'GET', '/anything/admin'],
      ['a/httpbin:8000 DELETE /ip', 'DELETE', '/ip'],
      ['a/httpbin:8000 DELETE /anything/admin', 'DELETE', '/anything/admin'],
    ]);
  });

  it('refuses the same request twice, a method curl cannot send without a body, and an unknown namespace', () => {
    expect(() =>
      topologyWith(`        - {ports: [http], path: /headers}
        - {ports: [http], path: /headers, methods: [GET]}`),
    ).toThrow(/a\/httpbin:8000 is probed twice with GET \/headers/);
    expect(() => topologyWith(`        - {ports: [http], path: /headers, methods: [HEAD]}`)).toThrow(/methods\[0\]/);
    expect(() => topologyWith(`        - {ports: [http], path: /headers, namespaces: [c]}`)).toThrow(
      /"httpbin" does not run in a namespace "c" of this topology/,
    );
    expect(() => topologyWith(`        - {ports: [http], path: /headers, paths: [/ip]}`)).toThrow(
      /give either `path` or `paths`/,
    );
  });

  it('scenario patterns: a port selects all its requests; a method and a path narrow it', () => {
    const t = topologyWith(`        - {ports: [http, http-alt], path: /headers}
        - {ports: [http], methods: [POST], path: /anything, namespaces: [a]}`);
    const ids = (p: string) => t.targets.filter((x) => matchesTarget(p, x)).map((x) => x.id);
    expect(ids('a/httpbin:8000')).toEqual(['a/httpbin:8000', 'a/httpbin:8000 POST /anything']);
    expect(ids('a/httpbin:* GET')).toEqual(['a/httpbin:8000', 'a/httpbin:9080']);
    expect(ids('*/httpbin:8000 POST /anything')).toEqual(['a/httpbin:8000 POST /anything']);
    expect(ids('a/httpbin:* * /headers')).toEqual(['a/httpbin:8000', 'a/httpbin:9080']);
    expect(ids('b/httpbin')).toEqual(['b/httpbin:8000', 'b/httpbin:9080']);
  });
});
