// The GitHub Actions examples, read the way the runner reads them: their steps, and each `run:` block as
// the script the runner writes to a file and starts. Shared by the workflow tests and the shellcheck test.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const CI_DIR = fileURLToPath(new URL('../../manifests/ci/', import.meta.url));
export const WORKFLOW_PATH = join(CI_DIR, 'github-actions-nightly.yaml');
export const POLICY_DIFF_WORKFLOW_PATH = join(CI_DIR, 'github-actions-policy-diff.yaml');
/** Every example workflow shipped. */
export const WORKFLOW_PATHS = readdirSync(CI_DIR)
  .filter((f) => /\.ya?ml$/.test(f))
  .map((f) => join(CI_DIR, f));

export interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  shell?: string;
  'working-directory'?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}
export interface Job {
  'runs-on': string;
  env?: Record<string, string>;
  steps: Step[];
}
export interface Workflow {
  on: Record<string, unknown> & { schedule: Array<{ cron: string }>; pull_request: { paths: string[] } };
  permissions: Record<string, string>;
  concurrency: Record<string, unknown>;
  jobs: Record<string, Job>;
}

export function readWorkflow(path = WORKFLOW_PATH): Workflow {
  return parse(readFileSync(path, 'utf8')) as Workflow;
}

/**
 * How the runner starts a `run:` step on Linux when the step names no `shell:`: `bash -e {0}`, {0} being a
 * file holding the script (docs.github.com, workflow syntax, jobs.<job_id>.steps[*].shell: "unspecified:
 * bash -e {0}"; `shell: bash` would be `bash --noprofile --norc -eo pipefail {0}`).
 */
export function shellCommand(step: Step): string[] {
  if (step.shell === undefined) return ['bash', '-e'];
  if (step.shell === 'bash') return ['bash', '--noprofile', '--norc', '-eo', 'pipefail'];
  throw new Error(`step ${step.name}: shell ${step.shell} is not handled here`);
}

/**
 * Replaces every `${{ expression }}` the way the runner does before the step starts, from `values`
 * (keyed by the expression's text, e.g. `secrets.MESHPROBE_SA_TOKEN`). An expression without a value is
 * an error, so a new one in the workflow cannot slip through untested.
 */
export function substitute(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_, expr: string) => {
    const v = values[expr];
    if (v === undefined) throw new Error(`no sample value for the workflow expression \${{ ${expr} }}`);
    return v;
  });
}
