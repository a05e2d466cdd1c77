// The nightly CI example is a real GitHub Actions workflow: it runs meshprobe with a ServiceAccount's
// kubeconfig, keeps every report file meshprobe writes, and publishes them even when cells mismatch.
// Its steps run here as the runner runs them (bash -e on the `run:` block, the workflow's expressions
// replaced by sample values), against the emulated cluster, as the ServiceAccount that manifests/rbac/
// creates, with the token read the way the workflow's comments say.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPORT_FILES } from '../../src/report/formats.js';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { ensureBuilt, ROOT } from '../helpers/bin.js';
import { readWorkflow, shellCommand, substitute, WORKFLOW_PATH, type Step } from '../helpers/workflow.js';
import { parseXml } from '../report/xml.js';

const workflow = readWorkflow();
const job = Object.values(workflow.jobs)[0]!;
const step = (pred: (s: Step) => boolean | undefined) => job.steps.find(pred);
const kubeStep = step((s) => s.run?.includes('KUBECONFIG') && s.env?.TOKEN !== undefined)!;
const probeStep = step((s) => s.run?.includes('npx meshprobe'))!;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * A process, asynchronously (the emulated cluster answers from this process meanwhile), with stdin on
 * /dev/null as the runner gives it a plain pipe: Node's stdin pipe is a socket, and bash with a socket for
 * stdin and SHLVL < 2 takes itself for an rsh/ssh session and sources /etc/bash.bashrc (bash shell.c,
 * run_by_ssh / isnetconn), which then fails under `set -u` with "PS1: unbound variable".
 */
function run(cmd: string, args: string[], options: { cwd?: string; env: Record<string, string> }): Promise<Result> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

/** Runs a `run:` step the way the runner does: the script in a file, `bash -e FILE`, in the workspace. */
async function runStep(s: Step, values: Record<string, string>, env: Record<string, string>, cwd: string) {
  const dir = mkdtempSync(join(tmpdir(), 'meshprobe-step-'));
  const file = join(dir, 'step.sh');
  writeFileSync(file, substitute(s.run!, values));
  const stepEnv = Object.fromEntries(Object.entries(s.env ?? {}).map(([k, v]) => [k, substitute(v, values)]));
  const [shell, ...flags] = shellCommand(s);
  return run(shell!, [...flags, file], { cwd, env: { ...env, ...stepEnv } });
}

/** The command the workflow's header comment gives the admin, to run once. */
function adminCommand(): string {
  const text = readFileSync(WORKFLOW_PATH, 'utf8');
  const m = /^#\s+(kubectl apply -f manifests\/\S+)/m.exec(text);
  if (!m) throw new Error("the workflow's comments give no kubectl apply for the admin");
  return m[1]!;
}

/** The namespaces a run of the workflow writes in: the default topology under its --namespace-prefix. */
function runNamespaces(env: Record<string, string>): string[] {
  const m = /--namespace-prefix\s+"?([^"\s]+)"?/.exec(probeStep.run!);
  if (!m) throw new Error('the probe step passes no --namespace-prefix');
  const prefix = m[1]!.replace(/\$\{?(\w+)\}?/g, (_, v: string) => env[v] ?? '');
  return ['test1', 'test2', 'test3', 'ngtest'].map((n) => `${prefix}-${n}`);
}

/** The command the workflow's header comment gives for one of the secrets it asks for. */
function commentCommand(secret: string): string {
  const text = readFileSync(WORKFLOW_PATH, 'utf8');
  const m = new RegExp(`^#\\s+${secret}\\s+(kubectl .*?)(?:\\s{2,}\\(.*\\))?$`, 'm').exec(text);
  if (!m) throw new Error(`the workflow's comments give no command for ${secret}`);
  return m[1]!;
}

describe('the nightly GitHub Actions example', () => {
  it('runs on a schedule and by hand, one run at a time', () => {
    expect(Object.keys(workflow.on)).toEqual(['schedule', 'workflow_dispatch']);
    expect(workflow.on.schedule[0]!.cron).toMatch(/^\S+ \S+ \* \* \*$/);
    expect(workflow.concurrency['cancel-in-progress']).toBe(false);
  });

  it('builds a kubeconfig from the ServiceAccount token without putting the token on a command line', async () => {
    expect(kubeStep.env).toEqual({
      SERVER: '${{ secrets.STAGING_API_SERVER }}',
      CA_DATA: '${{ secrets.STAGING_CA_DATA }}',
      TOKEN: '${{ secrets.MESHPROBE_SA_TOKEN }}',
    });
    const workspace = mkdtempSync(join(tmpdir(), 'meshprobe-ci-'));
    const values = {
      'github.workspace': workspace,
      'secrets.STAGING_API_SERVER': 'https://staging.example.com:6443',
      'secrets.STAGING_CA_DATA': 'Q0E=',
      'secrets.MESHPROBE_SA_TOKEN': 'ey.token',
    };
    const file = join(workspace, '.kube', 'staging');
    const r = await runStep(kubeStep, values, { PATH: process.env.PATH!, KUBECONFIG: file }, workspace);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
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
    expect(kubeStep.run).not.toMatch(/--token/);
  });

  it('runs meshprobe with that context and writes the reports into one directory', () => {
    expect(probeStep.run).toMatch(/npx meshprobe --kubeconfig "\$KUBECONFIG" --context staging run\b/);
    expect(probeStep.run).toContain('--report-dir "$REPORTS"');
    expect(job.env!.REPORTS).toBe('out');
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

describe('the nightly workflow as shipped, against the emulated cluster as the meshprobe ServiceAccount', () => {
  let emu: Emulator;
  const secrets: Record<string, string> = {};
  const admin = (cmd: string) =>
    run('bash', ['-c', cmd], {
      cwd: ROOT,
      env: { PATH: process.env.PATH!, HOME: tmpdir(), KUBECONFIG: emu.kubeconfigPath },
    });

  beforeAll(async () => {
    ensureBuilt(); // the "Build meshprobe" step: npm run build (npm ci is this checkout's node_modules)
    emu = await startEmulator({ istio: 'modern', podReadyDelayMs: 100 });
    // Once, on the staging cluster, as an admin (the workflow's header comment).
    const applied = await admin(adminCommand());
    expect(applied.code, applied.stderr).toBe(0);
    const tokenCmd = commentCommand('MESHPROBE_SA_TOKEN');
    const caCmd = commentCommand('STAGING_CA_DATA');
    for (let i = 0; i < 50 && !secrets.token; i++) {
      const t = await admin(tokenCmd);
      if (t.code === 0 && t.stdout) secrets.token = t.stdout;
      else await new Promise((r) => setTimeout(r, 100));
    }
    secrets.ca = (await admin(caCmd)).stdout;
  }, 120_000);
  afterAll(async () => {
    await emu?.stop();
  });

  it('the token and CA read as the comments say authenticate as the ServiceAccount', () => {
    expect(secrets.token).toMatch(/^ey[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(Buffer.from(secrets.ca!, 'base64').toString('utf8')).toBe(emu.caPem);
  });

  for (const scenario of ['', 'mesh-strict-dr-mutual']) {
    it(`runs every step as shipped, inputs.scenario ${scenario ? `"${scenario}"` : 'empty'}: exit 0 and the uploaded reports parse`, async () => {
      // The checkout: this repository's package, built, in a workspace of its own for the run's files.
      const workspace = mkdtempSync(join(tmpdir(), 'meshprobe-ci-workspace-'));
      for (const f of ['package.json', 'node_modules', 'dist', 'scenarios', 'manifests'])
        symlinkSync(join(ROOT, f), join(workspace, f));
      const summary = join(workspace, 'step-summary.md');
      writeFileSync(summary, '');
      const values = {
        'github.workspace': workspace,
        'secrets.STAGING_API_SERVER': emu.server,
        'secrets.STAGING_CA_DATA': secrets.ca!,
        'secrets.MESHPROBE_SA_TOKEN': secrets.token!,
        'inputs.scenario': scenario,
        'env.REPORTS': substitute(job.env!.REPORTS!, {}),
      };
      const env: Record<string, string> = {
        PATH: process.env.PATH!,
        HOME: workspace,
        CI: 'true',
        GITHUB_ACTIONS: 'true',
        GITHUB_RUN_ID: '9876543210',
        GITHUB_WORKSPACE: workspace,
        GITHUB_STEP_SUMMARY: summary,
        // npx must find this checkout's own bin, never ask the registry.
        npm_config_offline: 'true',
        ...Object.fromEntries(Object.entries(job.env ?? {}).map(([k, v]) => [k, substitute(v, values)])),
      };
      const kube = await runStep(kubeStep, values, env, workspace);
      expect(kube.code, kube.stderr).toBe(0);
      const probe = await runStep(probeStep, values, env, workspace);
      expect(probe.stderr).not.toMatch(/unbound variable|forbidden|error:/i);
      expect(probe.code, probe.stderr).toBe(0);

      const upload = step((s) => s.uses?.startsWith('actions/upload-artifact@'))!;
      const paths = substitute(String(upload.with!.path), values).trim().split('\n');
      for (const p of paths) expect(existsSync(join(workspace, p)), p).toBe(true);
      const results = JSON.parse(readFileSync(join(workspace, 'out/results.json'), 'utf8'));
      expect(results.kind).toBe('MatrixReport');
      const names = results.scenarios.map((s: { name: string }) => s.name);
      if (scenario) expect(names).toEqual([scenario]);
      else expect(names.length).toBe(24);
      const junit = parseXml(readFileSync(join(workspace, 'out/junit.xml'), 'utf8'));
      expect(junit.name).toBe('testsuites');
      expect(readFileSync(join(workspace, 'out/report.html'), 'utf8')).toMatch(/^<!doctype html>[\s\S]*<\/html>\s*$/i);
      expect(readFileSync(join(workspace, 'out/summary.md'), 'utf8')).toMatch(/^#/);
      // meshprobe appends its Markdown to the job's summary on its own.
      expect(readFileSync(summary, 'utf8').trim()).toBe(readFileSync(join(workspace, 'out/summary.md'), 'utf8').trim());
      // Every write and exec of the run was the ServiceAccount's, none was refused, and all stayed inside
      // the topology's namespaces (SelfSubjectAccessReviews have none).
      const mine = emu.audit.entries().filter((e) => e.user === 'system:serviceaccount:meshprobe-system:meshprobe');
      expect(mine.length).toBeGreaterThan(0);
      expect(mine.filter((e) => e.code === 403)).toEqual([]);
      const allowed = new Set(runNamespaces(env));
      const elsewhere = mine.filter(
        (e) => e.resource !== 'selfsubjectaccessreviews' && !allowed.has(e.namespace ?? ''),
      );
      expect(elsewhere.map((e) => `${e.verb} ${e.resource} ${e.namespace ?? ''}/${e.name ?? ''}`)).toEqual([]);
    }, 300_000);
  }
});
