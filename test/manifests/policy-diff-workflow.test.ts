// The pull-request example is a real GitHub Actions workflow: its `run:` steps run here as the runner runs
// them (bash -e on the block, the workflow's expressions replaced by sample values, the runner's files
// for outputs and the summary), in a git repository laid out as actions/checkout leaves a pull request:
// HEAD the merge GitHub tests, the base commit its first parent. meshprobe is this checkout's build, where
// the workflow's second checkout puts it (.meshprobe). What cannot run here: the actions/* steps and the
// GitHub API. The comment step's script runs against a stand-in for github-script's `github` and
// `context`, which checks its logic (read the file, update the earlier comment, else create one), not the API.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from '../helpers/bin.js';
import { POLICY_DIFF_WORKFLOW_PATH, readWorkflow, shellCommand, substitute, type Step } from '../helpers/workflow.js';

const workflow = readWorkflow(POLICY_DIFF_WORKFLOW_PATH);
const job = Object.values(workflow.jobs)[0]!;
const step = (name: string) => job.steps.find((s) => s.name === name)!;
const diffStep = step('Predict what the change does');
const commentStep = step('Comment on the pull request');
const failStep = step('Fail on the chosen kinds of change');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** stdin on /dev/null, as the runner gives it (see nightly-workflow.test.ts for why it matters to bash). */
function run(cmd: string, args: string[], options: { cwd: string; env: Record<string, string> }): Promise<Result> {
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

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      HOME: cwd,
      GIT_AUTHOR_NAME: 'dev',
      GIT_AUTHOR_EMAIL: 'dev@example.com',
      GIT_COMMITTER_NAME: 'dev',
      GIT_COMMITTER_EMAIL: 'dev@example.com',
    },
  });
}

const PA = (mode: string, comment = '') =>
  `${comment}apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: istio-system}\nspec: {mtls: {mode: ${mode}}}\n`;

/**
 * A repository whose pull request changes `policies/mesh.yaml` from `base` to `head` (undefined: absent),
 * checked out as actions/checkout checks out a pull_request event: HEAD is the merge, detached.
 */
function pullRequest(base: string | undefined, head: string | undefined) {
  const repo = mkdtempSync(join(tmpdir(), 'meshprobe-pr-'));
  git(repo, 'init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'README.md'), 'policies\n');
  mkdirSync(join(repo, 'policies'));
  if (base !== undefined) writeFileSync(join(repo, 'policies', 'mesh.yaml'), base);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'base');
  const baseSha = git(repo, 'rev-parse', 'HEAD').trim();
  git(repo, 'checkout', '-qb', 'change');
  if (head === undefined) git(repo, 'rm', '-q', 'policies/mesh.yaml');
  else writeFileSync(join(repo, 'policies', 'mesh.yaml'), head);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'the change');
  git(repo, 'checkout', '-q', 'main');
  // main moves on meanwhile, outside the policies: the merge's first parent is still the base.
  git(repo, 'merge', '-q', '--no-ff', '-m', 'Merge change into main', 'change');
  git(repo, 'checkout', '-q', '--detach', 'HEAD');
  // The second actions/checkout: meshprobe's repository, built by the step before.
  symlinkSync(ROOT, join(repo, '.meshprobe'));
  return { repo, baseSha };
}

/** Runs a `run:` step as the runner does; returns its result, its outputs, the comment file and the summary. */
async function runStep(s: Step, pr: { repo: string; baseSha: string }) {
  const temp = mkdtempSync(join(tmpdir(), 'meshprobe-runner-'));
  const output = join(temp, 'github-output');
  const summary = join(temp, 'step-summary.md');
  writeFileSync(output, '');
  writeFileSync(summary, '');
  const values = { 'github.event.pull_request.base.sha': pr.baseSha };
  const script = join(temp, 'step.sh');
  writeFileSync(script, substitute(s.run!, values));
  const env: Record<string, string> = {
    PATH: process.env.PATH!,
    HOME: temp,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: pr.repo,
    GITHUB_OUTPUT: output,
    GITHUB_STEP_SUMMARY: summary,
    RUNNER_TEMP: temp,
    ...job.env,
    ...Object.fromEntries(Object.entries(s.env ?? {}).map(([k, v]) => [k, substitute(v, values)])),
  };
  const [shell, ...flags] = shellCommand(s);
  const r = await run(shell!, [...flags, script], { cwd: join(pr.repo, s['working-directory'] ?? ''), env });
  const read = (f: string) => {
    try {
      return readFileSync(f, 'utf8');
    } catch {
      return undefined;
    }
  };
  return { ...r, output: read(output)!, summary: read(summary)!, comment: read(join(temp, 'meshprobe-diff.md')), temp };
}

describe('the pull-request example workflow', () => {
  beforeAll(() => {
    ensureBuilt();
  }, 120_000);

  it('runs on pull requests that change the policy directory it diffs, and may comment', () => {
    expect(Object.keys(workflow.on)).toEqual(['pull_request']);
    expect(workflow.on.pull_request.paths).toEqual([`${job.env!.POLICIES}/**`]);
    expect(workflow.permissions).toEqual({ contents: 'read', 'pull-requests': 'write' });
    const checkout = job.steps.find((s) => s.uses?.startsWith('actions/checkout@') && !s.with?.repository)!;
    expect(checkout.with!['fetch-depth']).toBe(0);
    expect(diffStep.run).toContain('--base "${BASE_SHA}:${POLICIES}"');
    expect(diffStep.env!.BASE_SHA).toBe('${{ github.event.pull_request.base.sha }}');
  });

  it('a change to mesh-wide STRICT: the step succeeds, says exit-code=1, and writes the comment worst first', async () => {
    const pr = pullRequest(PA('PERMISSIVE'), PA('STRICT'));
    const r = await runStep(diffStep, pr);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.output).toBe('exit-code=1\n');
    expect(r.comment!.startsWith('<!-- meshprobe diff -->\n## ❌ meshprobe diff: 5 of 40 cells change')).toBe(true);
    expect(r.comment).toContain(`Base \`${pr.baseSha}:policies\``);
    expect(r.comment).toContain('### ⛔ Newly blocked: 5');
    expect(r.comment).toContain('`--fail-on blocked,plaintext`: **5** of the changes fail the check.');
    // The job's summary page gets the same Markdown.
    expect(r.summary.trim()).toBe(r.comment!.trim());

    // Then the last step fails the check, with an annotation.
    const fail = await runStep(failStep, pr);
    expect(fail.code).toBe(1);
    expect(fail.stdout).toBe(
      '::error title=meshprobe diff::the change makes cells blocked or plaintext (see the comment or the job summary)\n',
    );
  });

  it('a change that changes no cell, and one that removes the directory, and one that adds it', async () => {
    const same = await runStep(diffStep, pullRequest(PA('STRICT'), PA('STRICT', '# reworded\n')));
    expect([same.code, same.output]).toEqual([0, 'exit-code=0\n']);
    expect(same.comment).toContain('## ✅ meshprobe diff: no cell changes (40 cells)');

    const removed = await runStep(diffStep, pullRequest(PA('STRICT'), undefined));
    expect([removed.code, removed.output, removed.stderr]).toEqual([0, 'exit-code=1\n', '']);
    expect(removed.comment).toContain('→ head `HEAD:policies` (not in commit');
    expect(removed.comment).toContain('### 🚪 Newly reachable: 5');

    const added = await runStep(diffStep, pullRequest(undefined, PA('DISABLE')));
    expect(added.output).toBe('exit-code=1\n');
    // 4 sidecar clients × 5 requests to the sidecar servers of test1 and test2.
    expect(added.comment).toContain('| 🔓 mTLS lost | 20 |');
  });

  it('a malformed policy file fails the step with exit 2, naming REV:path:line:column, and writes no comment', async () => {
    const pr = pullRequest(PA('PERMISSIVE'), PA('STRICTER'));
    const r = await runStep(diffStep, pr);
    expect(r.code).toBe(2);
    expect(r.output).toBe('exit-code=2\n');
    expect(r.stderr).toContain(
      'meshprobe: error: HEAD:policies/mesh.yaml:4:15: spec.mtls.mode: "STRICTER" is not allowed',
    );
    expect(r.comment).toBe('');
  });

  it("the comment step's script updates its earlier comment, else creates one (against a stand-in for the GitHub API)", async () => {
    const pr = pullRequest(PA('PERMISSIVE'), PA('STRICT'));
    const { temp, comment } = await runStep(diffStep, pr);
    const comments: Array<{ id: number; user: { type: string }; body: string }> = [
      { id: 1, user: { type: 'User' }, body: '<!-- meshprobe diff --> quoted by a person' },
    ];
    const calls: string[] = [];
    const github = {
      // github-script's octokit: paginate(method, params) resolves to every item of every page.
      paginate: async (method: (p: object) => Promise<{ data: unknown[] }>, params: object) =>
        (await method(params)).data,
      rest: {
        issues: {
          listComments: async (p: { issue_number: number }) => {
            calls.push(`list ${p.issue_number}`);
            return { data: comments };
          },
          createComment: async (p: { issue_number: number; body: string }) => {
            calls.push(`create ${p.issue_number}`);
            comments.push({ id: comments.length + 1, user: { type: 'Bot' }, body: p.body });
          },
          updateComment: async (p: { comment_id: number; body: string }) => {
            calls.push(`update ${p.comment_id}`);
            comments.find((c) => c.id === p.comment_id)!.body = p.body;
          },
        },
      },
    };
    const context = { repo: { owner: 'acme', repo: 'policies' }, issue: { number: 42 } };
    const script = String(commentStep.with!.script);
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
    const runScript = () => {
      const saved = process.env.RUNNER_TEMP;
      process.env.RUNNER_TEMP = temp;
      return new AsyncFunction('require', 'github', 'context', script)(
        createRequire(import.meta.url),
        github,
        context,
      ).finally(() => (process.env.RUNNER_TEMP = saved));
    };
    await runScript();
    await runScript();
    expect(calls).toEqual(['list 42', 'create 42', 'list 42', 'update 2']);
    expect(comments.map((c) => c.body)).toEqual(['<!-- meshprobe diff --> quoted by a person', comment]);
    expect(commentStep.uses).toMatch(/^actions\/github-script@v\d+$/);
  });
});
