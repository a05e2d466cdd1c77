// The nightly GitHub Actions example, read the way the runner reads it: its steps, and each `run:` block as
// the script the runner writes to a file and starts. Shared by the workflow test and the shellcheck test.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const WORKFLOW_PATH = fileURLToPath(new URL('../../manifests/ci/github-actions-nightly.yaml', import.meta.url));

export interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  shell?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}
export interface Job {
  'runs-on': string;
  env?: Record<string, string>;
  steps: Step[];
}
export interface Workflow {
  on: Record<string, unknown> & { schedule: Array<{ cron: string }> };
  permissions: Record<string, string>;
  concurrency: Record<string, unknown>;
  jobs: Record<string, Job>;
}

export function readWorkflow(): Workflow {
  return parse(readFileSync(WORKFLOW_PATH, 'utf8')) as Workflow;
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
