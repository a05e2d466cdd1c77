// A diff side's files are read as `kubectl apply -R -f` reads them, and only Istio's policies count:
// what a policy repository really holds (Deployments, Kyverno policies, List documents, JSON) must
// neither break the diff nor slip into it.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { describePolicy } from '../../src/model/istio-objects.js';
import { manifestFiles, readManifestFiles } from '../../src/model/manifests.js';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshprobe-manifests-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

const pa = (ns: string, mode = 'STRICT') =>
  `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: ${ns}}\nspec: {mtls: {mode: ${mode}}}\n`;

describe('the files of a side', () => {
  it('walks a directory as kubectl apply -R -f: subdirectories, .json/.yaml/.yml only, names sorted, links to directories not followed', () => {
    const dir = tree({
      'b.yaml': '',
      'a.yml': '',
      'a/z.json': '',
      'a/notes.md': '# not a manifest',
      'kustomization.txt': '',
      '.hidden.yaml': '',
    });
    mkdirSync(join(dir, 'elsewhere'));
    writeFileSync(join(dir, 'elsewhere', 'x.yaml'), '');
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'zz-link'));
    expect(manifestFiles(dir).map((f) => relative(dir, f))).toEqual([
      '.hidden.yaml',
      'a/z.json',
      'a.yml',
      'b.yaml',
      'elsewhere/x.yaml',
    ]);
    // A file named on its own is read whatever its extension.
    expect(manifestFiles(join(dir, 'kustomization.txt'))).toEqual([join(dir, 'kustomization.txt')]);
  });

  it('keeps the policies of multi-document YAML, JSON and List files in creation order, and counts the rest by kind', () => {
    const dir = tree({
      '1-mesh.yaml': `${pa('istio-system')}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: test1}\n---\n# only a comment\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: test1}\n`,
      '2-list.json': JSON.stringify(
        {
          apiVersion: 'v1',
          kind: 'List',
          items: [
            {
              apiVersion: 'networking.istio.io/v1',
              kind: 'DestinationRule',
              metadata: { name: 'web', namespace: 'test1' },
              spec: { host: 'web.test1.svc.cluster.local', trafficPolicy: { tls: { mode: 'DISABLE' } } },
            },
            {
              apiVersion: 'v1',
              kind: 'List',
              items: [
                JSON.parse(
                  JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'test1' } }),
                ),
              ],
            },
          ],
        },
        null,
        4,
      ),
      // A typed list's items carry neither kind nor apiVersion: they take the list's (apimachinery decodeToList).
      '3-typed-list.yaml': `apiVersion: security.istio.io/v1\nkind: PeerAuthenticationList\nitems:\n  - metadata: {name: default, namespace: test2}\n    spec: {mtls: {mode: PERMISSIVE}}\n`,
      // Kyverno's Policy is not Istio's.
      '4-kyverno.yaml': `apiVersion: kyverno.io/v1\nkind: Policy\nmetadata: {name: require-labels, namespace: test1}\nspec: {rules: []}\n`,
    });
    const set = readManifestFiles(manifestFiles(dir), dir);
    expect(set.files).toBe(4);
    expect(set.policies.map((p) => [describePolicy(p.policy), p.where, p.policy.order])).toEqual([
      ['PeerAuthentication istio-system/default', '1-mesh.yaml:1:1', 0],
      ['DestinationRule test1/web', '2-list.json:5:9', 1],
      ['PeerAuthentication test2/default', '3-typed-list.yaml:4:5', 2],
    ]);
    expect(set.ignored).toEqual({ 'Deployment.apps': 1, Service: 1, ConfigMap: 1, 'Policy.kyverno.io': 1 });
  });

  it('a malformed file names file:line:column, and every bad file is reported at once', () => {
    const dir = tree({
      'a.yaml': `${pa('test1')}---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: x, namespace: test1}\nspec:\n  mtls: {mode: STRICTER}\n`,
      'b.yaml': 'apiVersion: v1\nkind: [unclosed\n',
      'c.yaml': `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: web\nspec: {host: web}\n`,
      'd.yaml': 'metadata: {name: nokind}\n',
    });
    const message = refusal(() => readManifestFiles(manifestFiles(dir), dir));
    expect(message).toContain('a.yaml:10:10: spec.mtls.mode: "STRICTER" is not allowed; expected one of');
    expect(message).toMatch(/^b\.yaml:3:1: invalid YAML: /m);
    expect(message).toContain(
      'c.yaml:3:1: metadata: has no namespace: kubectl apply would put the object in the namespace of the current context',
    );
    expect(message).toContain('d.yaml:1:1: apiVersion: is required: kubectl apply refuses an object without it');
  });

  it('refuses a policy defined twice in one side, naming both places', () => {
    const dir = tree({ 'a.yaml': pa('test1'), 'b/c.yaml': `# again\n${pa('test1', 'DISABLE')}` });
    expect(refusal(() => readManifestFiles(manifestFiles(dir), dir))).toBe(
      'b/c.yaml:4:12: metadata.name: PeerAuthentication test1/default is defined twice (first at a.yaml:1:1); kubectl apply would keep only the last',
    );
  });
});
