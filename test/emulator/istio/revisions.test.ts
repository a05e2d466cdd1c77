// A revisioned Istio 1.24 control plane on the emulated cluster, as `istioctl install --revision` / Helm
// `revision` leave it: istiod-REV, istio-REV, istio-sidecar-injector-REV selecting only istio.io/rev=REV
// (not istio-injection=enabled without a default tag), revision tags and the default tag; injection then
// follows the webhooks' selectors exactly (manifests/charts/istio-control/istio-discovery/templates/
// mutatingwebhook.yaml, revision-tags.yaml). Checked with the real kubectl where a user would look.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator, type EmulatorOptions } from '../index.js';
import type { MeshRuntime } from '../mesh/index.js';
import { createPlainRuntime } from '../runtime/plain.js';
import { eventually, kubectl } from '../testing.js';

type Any = Record<string, any>;
const REV = '1-24-2';

async function start(options: EmulatorOptions): Promise<Emulator> {
  return startEmulator({ podReadyDelayMs: 20, runtime: createPlainRuntime, ...options });
}

async function ok(emu: Emulator, args: string[], stdin?: string): Promise<string> {
  const r = await kubectl(emu.kubeconfigPath, args, stdin !== undefined ? { stdin } : {});
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

function namespaceYaml(name: string, labels: Record<string, string>): string {
  const l = Object.entries(labels).map(([k, v]) => `    ${k}: "${v}"\n`);
  return `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n${l.length ? `  labels:\n${l.join('')}` : ''}`;
}

function podYaml(
  ns: string,
  name: string,
  labels: Record<string, string> = {},
  annotations: Record<string, string> = {},
): string {
  const block = (key: string, m: Record<string, string>) =>
    Object.keys(m).length
      ? `  ${key}:\n${Object.entries(m)
          .map(([k, v]) => `    ${k}: "${v}"\n`)
          .join('')}`
      : '';
  return `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n  namespace: ${ns}\n${block('labels', labels)}${block('annotations', annotations)}spec:\n  containers:\n  - name: app\n    image: curlimages/curl:8.11.1\n    command: ["sleep", "3600"]\n`;
}

/** Creates the pod and says how it was admitted: the injecting revision, or undefined when not injected. */
async function admitted(
  emu: Emulator,
  ns: string,
  name: string,
  labels?: Record<string, string>,
  annotations?: Record<string, string>,
) {
  await ok(emu, ['apply', '-f', '-'], podYaml(ns, name, labels, annotations));
  const pod = emu.store.get('', 'pods', ns, name) as Any;
  const containers = (pod.spec.containers as Any[]).map((c) => c.name as string);
  if (!containers.includes('istio-proxy')) return undefined;
  const proxy = (pod.spec.containers as Any[]).find((c) => c.name === 'istio-proxy') as Any;
  const caAddr = (proxy.env as Any[]).find((e) => e.name === 'CA_ADDR')?.value as string;
  return {
    revision: pod.metadata.annotations['istio.io/rev'] as string,
    status: (JSON.parse(pod.metadata.annotations['sidecar.istio.io/status'] as string) as Any).revision as string,
    caAddr,
  };
}

function webhooks(emu: Emulator): Record<string, Any[]> {
  const out: Record<string, Any[]> = {};
  for (const c of emu.store.list('admissionregistration.k8s.io', 'mutatingwebhookconfigurations'))
    out[c.metadata.name] = (c as Any).webhooks as Any[];
  return out;
}

describe(`a revision (${REV}) without a default tag`, () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({
      podReadyDelayMs: 20,
      istioRevision: { revision: REV },
      propagationDelayMs: { min: 0, max: 0 },
    });
    await ok(
      emu,
      ['apply', '-f', '-'],
      [
        namespaceYaml('rev', { 'istio.io/rev': REV }),
        namespaceYaml('enabled', { 'istio-injection': 'enabled' }),
        namespaceYaml('both', { 'istio-injection': 'enabled', 'istio.io/rev': REV }),
        namespaceYaml('plain', {}),
      ].join('---\n'),
    );
  });
  afterAll(() => emu?.stop());

  it('installs istiod-REV, its Service, ServiceAccount and mesh config istio-REV, and nothing unrevisioned', async () => {
    expect(await ok(emu, ['get', 'deploy,svc,sa', '-n', 'istio-system', '-o', 'name'])).toBe(
      [
        `deployment.apps/istiod-${REV}`,
        'service/istiod-1-24-2',
        'serviceaccount/default',
        `serviceaccount/istiod-${REV}`,
        '',
      ].join('\n'),
    );
    const cms = (await ok(emu, ['get', 'cm', '-n', 'istio-system', '-o', 'name'])).trim().split('\n');
    expect(cms).toContain(`configmap/istio-${REV}`);
    expect(cms).not.toContain('configmap/istio');
    const mesh = emu.store.get('', 'configmaps', 'istio-system', `istio-${REV}`) as Any;
    expect(mesh.data.mesh).toContain(`discoveryAddress: istiod-${REV}.istio-system.svc:15012`);
    const svc = emu.store.get('', 'services', 'istio-system', `istiod-${REV}`) as Any;
    expect(svc.spec.selector).toEqual({ app: 'istiod', 'istio.io/rev': REV });
    const pod = emu.store.list('', 'pods', 'istio-system')[0] as Any;
    expect(pod.metadata.labels).toMatchObject({ app: 'istiod', istio: 'istiod', 'istio.io/rev': REV });
    expect((pod.spec.containers[0].env as Any[]).find((e) => e.name === 'REVISION')?.value).toBe(REV);
  });

  it('has one injector configuration, selecting istio.io/rev=REV only (no istio-injection=enabled)', async () => {
    expect(await ok(emu, ['get', 'mutatingwebhookconfigurations'])).toMatch(
      new RegExp(`^NAME\\s+WEBHOOKS\\s+AGE\\nistio-sidecar-injector-${REV}\\s+2\\s+\\d+s\\n$`),
    );
    const [ns, obj] = webhooks(emu)[`istio-sidecar-injector-${REV}`]! as [Any, Any];
    expect(ns.name).toBe('rev.namespace.sidecar-injector.istio.io');
    expect(ns.clientConfig.service).toEqual({
      name: `istiod-${REV}`,
      namespace: 'istio-system',
      path: '/inject',
      port: 443,
    });
    expect(ns.namespaceSelector).toEqual({
      matchExpressions: [
        { key: 'istio.io/rev', operator: 'In', values: [REV] },
        { key: 'istio-injection', operator: 'DoesNotExist' },
      ],
    });
    expect(obj.name).toBe('rev.object.sidecar-injector.istio.io');
    expect(obj.objectSelector.matchExpressions).toContainEqual({ key: 'istio.io/rev', operator: 'In', values: [REV] });
    expect(JSON.stringify(webhooks(emu))).not.toContain('"enabled"');
  });

  it('injects where the revision selects a pod, and nowhere else', async () => {
    const byRev = { revision: REV, status: REV, caAddr: `istiod-${REV}.istio-system.svc:15012` };
    expect(await admitted(emu, 'rev', 'a')).toEqual(byRev);
    expect(await admitted(emu, 'rev', 'opt-out', { 'sidecar.istio.io/inject': 'false' })).toBeUndefined();
    expect(await admitted(emu, 'rev', 'annotated-out', {}, { 'sidecar.istio.io/inject': 'false' })).toBeUndefined();
    // Without a default tag, the classic label selects nothing; with both labels the classic one wins.
    expect(await admitted(emu, 'enabled', 'b')).toBeUndefined();
    expect(await admitted(emu, 'both', 'c')).toBeUndefined();
    // A pod can ask for the revision itself in an unlabelled namespace (rev.object); inject=true alone cannot.
    expect(await admitted(emu, 'plain', 'd', { 'istio.io/rev': REV })).toEqual(byRev);
    expect(await admitted(emu, 'plain', 'e', { 'sidecar.istio.io/inject': 'true' })).toBeUndefined();
    expect(await admitted(emu, 'plain', 'f', { 'istio.io/rev': 'canary' })).toBeUndefined();
  });

  it('serves /debug/syncz from istiod-REV, listing the proxies it injected', async () => {
    await eventually(
      async () => {
        const r = await kubectl(emu.kubeconfigPath, [
          'exec',
          '-n',
          'istio-system',
          `deploy/istiod-${REV}`,
          '--',
          'pilot-discovery',
          'request',
          'GET',
          '/debug/syncz?namespace=rev',
        ]);
        const rows = r.code === 0 ? (JSON.parse(r.stdout) as Array<{ proxy: string }>) : [];
        return rows.some((x) => x.proxy === 'a.rev') ? true : undefined;
      },
      20_000,
      'proxy a.rev in syncz',
    );
  });

  it('reads the mesh settings from istio-REV, not from a ConfigMap named istio', async () => {
    const cp = (emu.runtime as MeshRuntime).mesh.cp;
    expect(cp.latest.inputs.autoMtls).toBe(true);
    await ok(
      emu,
      ['apply', '-f', '-'],
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: istio\n  namespace: istio-system\ndata:\n  mesh: "enableAutoMtls: false"\n',
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(cp.latest.inputs.autoMtls).toBe(true);
    const mesh = (emu.store.get('', 'configmaps', 'istio-system', `istio-${REV}`) as Any).data.mesh as string;
    await ok(emu, [
      'patch',
      'cm',
      `istio-${REV}`,
      '-n',
      'istio-system',
      '--type',
      'merge',
      '-p',
      JSON.stringify({ data: { mesh: mesh.replace('enableAutoMtls: true', 'enableAutoMtls: false') } }),
    ]);
    await eventually(() => (cp.latest.inputs.autoMtls === false ? true : undefined), 5000, 'autoMtls off');
  });
});

describe('revision tags and the default tag', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await start({ istioRevision: { revision: REV, revisionTags: ['prod'], defaultRevision: true } });
    await ok(
      emu,
      ['apply', '-f', '-'],
      [
        namespaceYaml('prod', { 'istio.io/rev': 'prod' }),
        namespaceYaml('enabled', { 'istio-injection': 'enabled' }),
        namespaceYaml('canary', { 'istio.io/rev': 'canary' }),
        namespaceYaml('plain', {}),
      ].join('---\n'),
    );
  });
  afterAll(() => emu?.stop());

  it('adds istio-revision-tag-TAG for each tag and the default, labelled as istioctl tag list reads them', async () => {
    const hooks = webhooks(emu);
    expect(Object.keys(hooks).sort()).toEqual([
      'istio-revision-tag-default',
      'istio-revision-tag-prod',
      `istio-sidecar-injector-${REV}`,
    ]);
    const tagLabels = (name: string) =>
      emu.store.get('admissionregistration.k8s.io', 'mutatingwebhookconfigurations', undefined, name)!.metadata.labels;
    expect(tagLabels('istio-revision-tag-prod')).toMatchObject({
      'istio.io/tag': 'prod',
      'istio.io/rev': REV,
      app: 'sidecar-injector',
    });
    expect(hooks['istio-revision-tag-prod']!.map((w) => w.name)).toEqual([
      'rev.namespace.sidecar-injector.istio.io',
      'rev.object.sidecar-injector.istio.io',
    ]);
    expect(hooks['istio-revision-tag-default']!.map((w) => w.name)).toEqual([
      'rev.namespace.sidecar-injector.istio.io',
      'rev.object.sidecar-injector.istio.io',
      'namespace.sidecar-injector.istio.io',
      'object.sidecar-injector.istio.io',
    ]);
    for (const w of [...hooks['istio-revision-tag-default']!, ...hooks['istio-revision-tag-prod']!])
      expect(w.clientConfig.service.name).toBe(`istiod-${REV}`);
    expect(await ok(emu, ['get', 'validatingwebhookconfigurations', '-o', 'name'])).toBe(
      `validatingwebhookconfiguration.admissionregistration.k8s.io/istio-validator-${REV}-istio-system\nvalidatingwebhookconfiguration.admissionregistration.k8s.io/istiod-default-validator\n`,
    );
  });

  it('injects through a tag and through the default tag with the revision istiod, not for an unknown tag', async () => {
    const byRev = { revision: REV, status: REV, caAddr: `istiod-${REV}.istio-system.svc:15012` };
    expect(await admitted(emu, 'prod', 'a')).toEqual(byRev);
    expect(await admitted(emu, 'enabled', 'b')).toEqual(byRev);
    expect(await admitted(emu, 'plain', 'c', { 'sidecar.istio.io/inject': 'true' })).toEqual(byRev);
    expect(await admitted(emu, 'plain', 'd', { 'istio.io/rev': 'prod' })).toEqual(byRev);
    expect(await admitted(emu, 'canary', 'e')).toBeUndefined();
  });
});

describe('the unrevisioned install', () => {
  let helm: Emulator;
  let istioctl: Emulator;
  beforeAll(async () => {
    [helm, istioctl] = await Promise.all([start({}), start({ istioRevision: { installer: 'istioctl' } })]);
    for (const emu of [helm, istioctl])
      await ok(
        emu,
        ['apply', '-f', '-'],
        [
          namespaceYaml('enabled', { 'istio-injection': 'enabled' }),
          namespaceYaml('rev', { 'istio.io/rev': 'default' }),
          namespaceYaml('plain', {}),
        ].join('---\n'),
      );
  });
  afterAll(async () => {
    await helm?.stop();
    await istioctl?.stop();
  });

  it('(Helm) is istio-sidecar-injector with the chart’s four webhooks, injecting by the default revision', async () => {
    const hooks = webhooks(helm);
    expect(Object.keys(hooks)).toEqual(['istio-sidecar-injector']);
    expect(hooks['istio-sidecar-injector']!.map((w) => w.name)).toEqual([
      'rev.namespace.sidecar-injector.istio.io',
      'rev.object.sidecar-injector.istio.io',
      'namespace.sidecar-injector.istio.io',
      'object.sidecar-injector.istio.io',
    ]);
    expect(helm.store.get('', 'configmaps', 'istio-system', 'istio')).toBeDefined();
    const byDefault = { revision: 'default', status: 'default', caAddr: 'istiod.istio-system.svc:15012' };
    expect(await admitted(helm, 'enabled', 'a')).toEqual(byDefault);
    expect(await admitted(helm, 'rev', 'b')).toEqual(byDefault);
    expect(await admitted(helm, 'plain', 'c', { 'sidecar.istio.io/inject': 'true' })).toEqual(byDefault);
    expect(await admitted(helm, 'plain', 'd', { 'istio.io/rev': 'default' })).toEqual(byDefault);
    expect(await admitted(helm, 'plain', 'e')).toBeUndefined();
    // inject.go injectRequired: the label wins over the annotation.
    expect(
      await admitted(
        helm,
        'enabled',
        'f',
        { 'sidecar.istio.io/inject': 'true' },
        { 'sidecar.istio.io/inject': 'false' },
      ),
    ).toEqual(byDefault);
  });

  it('(istioctl) adds the default tag and leaves istio-sidecar-injector never matching; injection is unchanged', async () => {
    const hooks = webhooks(istioctl);
    expect(Object.keys(hooks).sort()).toEqual(['istio-revision-tag-default', 'istio-sidecar-injector']);
    for (const w of hooks['istio-sidecar-injector']!) {
      expect(w.namespaceSelector).toEqual({ matchLabels: { 'istio.io/deactivated': 'never-match' } });
      expect(w.objectSelector).toEqual({ matchLabels: { 'istio.io/deactivated': 'never-match' } });
    }
    expect(hooks['istio-revision-tag-default']![0]?.clientConfig.service.name).toBe('istiod');
    const byDefault = { revision: 'default', status: 'default', caAddr: 'istiod.istio-system.svc:15012' };
    expect(await admitted(istioctl, 'enabled', 'a')).toEqual(byDefault);
    expect(await admitted(istioctl, 'rev', 'b')).toEqual(byDefault);
    expect(await admitted(istioctl, 'plain', 'c')).toBeUndefined();
  });
});

describe('revision options', () => {
  it('refuses what Istio would not install, before starting anything', async () => {
    await expect(start({ istio: 'legacy', istioRevision: { revision: '1-4' } })).rejects.toThrow(
      'revisions need --istio modern (Istio 1.4 has no revisions)',
    );
    await expect(start({ istioRevision: { revision: '1.24.2' } })).rejects.toThrow(
      'revision "1.24.2" is not a DNS label (lower-case letters, digits and \'-\', e.g. 1-24-2)',
    );
    await expect(start({ istioRevision: { defaultRevision: true } })).rejects.toThrow(
      'the default revision needs a revision to point at',
    );
    await expect(start({ istioRevision: { revision: REV, revisionTags: ['default'] } })).rejects.toThrow(
      'use the default revision option for the tag "default"',
    );
  });

  it('on the command line: --revision, --tag and --default-revision install the revision with its tags', async () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), 'meshprobe-rev-'));
    const kubeconfig = join(dir, 'kubeconfig');
    const child = spawn(
      `${root}node_modules/.bin/tsx`,
      ['test/emulator/cli.ts', '--kubeconfig', kubeconfig, '--revision', REV, '--tag', 'prod', '--default-revision'],
      { cwd: root },
    );
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await eventually(() => (stdout.includes('\n') ? true : undefined), 30_000, 'the ready line');
      expect(stdout).toContain(`istio modern 1.24.2 revision ${REV}, kubeconfig`);
      const r = await kubectl(kubeconfig, ['get', 'mutatingwebhookconfigurations', '-o', 'name']);
      expect(r.stdout).toBe(
        ['istio-revision-tag-default', 'istio-revision-tag-prod', `istio-sidecar-injector-${REV}`]
          .map((n) => `mutatingwebhookconfiguration.admissionregistration.k8s.io/${n}\n`)
          .join(''),
      );
    } finally {
      process.kill(Number(/pid (\d+)/.exec(stdout)?.[1] ?? child.pid), 'SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('on the command line: one clear line and exit 2 for a revision Istio would not install', () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const r = spawnSync(
      `${root}node_modules/.bin/tsx`,
      ['test/emulator/cli.ts', '--kubeconfig', '/tmp/never-written', '--istio', 'legacy', '--revision', '1-4'],
      {
        cwd: root,
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr.toString()).toBe('emulator: revisions need --istio modern (Istio 1.4 has no revisions)\n');
  });
});
