// The nightly CI example is a real GitHub Actions workflow: it runs meshprobe with a ServiceAccount's
// kubeconfig, keeps every report file meshprobe writes, and publishes them even when cells mismatch.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { REPORT_FILES } from '../../src/report/formats.js';

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}
const workflow = parse(
  readFileSync(new URL('../../manifests/ci/github-actions-nightly.yaml', import.meta.url), 'utf8'),
);
const job = Object.values(workflow.jobs as Record<string, { steps: Step[]; env: Record<string, string> }>)[0]!;
const step = (pred: (s: Step) => boolean | undefined) => job.steps.find(pred);

describe('the nightly GitHub Actions example', () => {
  it('runs on a schedule and by hand, one run at a time', () => {
    expect(Object.keys(workflow.on)).toEqual(['schedule', 'workflow_dispatch']);
    expect(workflow.on.schedule[0].cron).toMatch(/^\S+ \S+ \* \* \*$/);
    expect(workflow.concurrency['cancel-in-progress']).toBe(false);
  });

  it('builds a kubeconfig from the ServiceAccount token without putting the token on a command line', () => {
    const kube = step((s) => s.run?.includes('KUBECONFIG'))!;
    expect(kube.env).toEqual({
      SERVER: '${{ secrets.STAGING_API_SERVER }}',
      CA_DATA: '${{ secrets.STAGING_CA_DATA }}',
      TOKEN: '${{ secrets.MESHPROBE_SA_TOKEN }}',
    });
    const file = join(mkdtempSync(join(tmpdir(), 'meshprobe-ci-')), '.kube', 'staging');
    execFileSync('bash', ['-euo', 'pipefail', '-c', kube.run!], {
      env: {
        PATH: process.env.PATH,
        KUBECONFIG: file,
        SERVER: 'https://staging.example.com:6443',
        CA_DATA: 'Q0E=',
        TOKEN: 'ey.token',
      },
    });
    const config = parse(readFileSync(file, 'utf8'));
    expect(config).toMatchObject({
      kind: 'Config',
      'current-context': 'staging',
      clusters: [
        {
          name: 'staging',
          cluster: { server: 'https://staging.example.com:6443', 'certificate-authority-data': 'Q0E=' },
        },
      ],
      users: [{ name: 'meshprobe', user: { token: 'ey.token' } }],
      contexts: [{ name: 'staging', context: { cluster: 'staging', user: 'meshprobe' } }],
    });
    expect(kube.run).not.toMatch(/--token/);
  });

  it('runs meshprobe with that context and writes the reports into one directory', () => {
    const probe = step((s) => s.run?.includes('npx meshprobe'))!;
    expect(probe.run).toMatch(/npx meshprobe --kubeconfig "\$KUBECONFIG" --context staging run\b/);
    expect(probe.run).toContain('--report-dir "$REPORTS"');
    expect(job.env.REPORTS).toBe('out');
  });

  it('uploads every report meshprobe writes and publishes the JUnit results, also when cells mismatch', () => {
    const upload = step((s) => s.uses?.startsWith('actions/upload-artifact@'))!;
    const paths = String(upload.with!.path).trim().split('\n');
    expect(paths.sort()).toEqual(
      Object.keys(REPORT_FILES)
        .map((f) => `\${{ env.REPORTS }}/${f}`)
        .sort(),
    );
    const junit = step((s) => s.uses?.startsWith('mikepenz/action-junit-report@'))!;
    expect(junit.with!.report_paths).toBe('${{ env.REPORTS }}/junit.xml');
    for (const s of [upload, junit]) expect(s.if).toBe('${{ !cancelled() }}');
    expect(workflow.permissions.checks).toBe('write');
  });
});
