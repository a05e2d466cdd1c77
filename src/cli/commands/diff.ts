import { appendFileSync } from 'node:fs';
import type { Command } from 'commander';
import { Option } from 'commander';
import { ConfigError } from '../../errors.js';
import type { RunEvent } from '../../model/events.js';
import { describePolicy } from '../../model/istio-objects.js';
import type { SourcedPolicy } from '../../model/manifests.js';
import { prefixNamespaces } from '../../model/namespace-prefix.js';
import { diffPredictions, FAIL_ON, type DiffSide, type FailOn } from '../../model/policy-diff.js';
import type { Flavor, Scenario } from '../../model/scenario.js';
import type { Topology } from '../../model/topology.js';
import { installDefaults, meshConfig, overlay, type MeshConfig } from '../../oracle/mesh.js';
import { predict } from '../../oracle/predict.js';
import { probeRequestBytes } from '../../probe/command.js';
import { buildDiffDocument, type PolicyDiffDocument } from '../../report/diff-document.js';
import { renderDiffMarkdown } from '../../report/diff-markdown.js';
import { renderDiffTable } from '../../report/diff-table.js';
import { VERSION } from '../../version.js';
import { connect } from '../connect.js';
import { parseSide, readClusterSide, readOfflineSides } from '../diff-sides.js';
import { ExitCode } from '../exit-codes.js';
import { loadTopologyOption, parseFlavor } from '../inputs.js';
import type { CommandContext } from '../program.js';

const FORMATS = ['table', 'json', 'markdown'] as const;

interface DiffOptions {
  base: string;
  head: string;
  topology?: string;
  namespacePrefix?: string;
  istio?: Flavor;
  output: (typeof FORMATS)[number];
  failOn?: FailOn[];
  revision?: string;
}

export function diffCommand(program: Command, ctx: CommandContext): void {
  program
    .command('diff')
    .description(
      'Predict which cells a policy change changes, and how: each side is files, a git revision or the cluster (no cluster needed unless a side is one)',
    )
    .requiredOption(
      '--base <side>',
      'the policies before: FILE|DIR (read as kubectl apply -R -f), REV:PATH, or cluster',
    )
    .requiredOption('--head <side>', 'the policies after, in the same forms')
    .option('--topology <file>', "a topology file (default: the article's test1/test2/test3/ngtest)")
    .option(
      '--namespace-prefix <prefix>',
      "the topology as PREFIX-test1, PREFIX-test2 ...; the files' objects move with it, the cluster's stay as they are",
    )
    .addOption(
      new Option(
        '--istio <flavor>',
        "Istio API generation: modern (>= 1.5) or legacy (1.4); default modern, or the cluster's when a side is cluster",
      ).argParser(parseFlavor),
    )
    .option(
      '--revision <rev>',
      'when a side is cluster: the Istio revision or tag whose mesh config applies (default: the default revision, or the only one)',
    )
    .addOption(new Option('-o, --output <format>', 'what to print on stdout').choices(FORMATS).default('table'))
    .option(
      '--fail-on <kinds>',
      `exit 1 only for these kinds of change, comma-separated: ${FAIL_ON.join(', ')} (default: any change)`,
      parseFailOn,
    )
    .action(async (o: DiffOptions) => ctx.exit(await diff(o, ctx)));
}

function parseFailOn(value: string): FailOn[] {
  const kinds = value.split(',').map((k) => k.trim());
  const unknown = kinds.filter((k) => !(FAIL_ON as readonly string[]).includes(k));
  if (unknown.length || kinds.length === 0)
    throw new ConfigError(
      `--fail-on: ${unknown.map((k) => `"${k}"`).join(', ') || 'nothing'} is not a kind of change`,
      `choose from: ${FAIL_ON.join(', ')}`,
    );
  return [...new Set(kinds as FailOn[])];
}

async function diff(o: DiffOptions, ctx: CommandContext): Promise<ExitCode> {
  const cwd = ctx.io.cwd;
  const specs = [parseSide(o.base, '--base', cwd), parseSide(o.head, '--head', cwd)];
  const plain = loadTopologyOption({ topology: o.topology }, cwd);
  const offline = readOfflineSides(specs, { cwd, env: ctx.io.env });

  let mesh: MeshConfig = meshConfig(o.istio ?? 'modern');
  let cluster: DiffResultCluster | undefined;
  const sides: DiffSide[] = [];
  for (const [i, spec] of specs.entries()) {
    const read = offline[i];
    if (read) sides.push(read);
    else {
      // Read once, whichever side names it.
      if (!cluster) {
        const c = connect(ctx);
        // Only warnings are worth a line: the checks themselves pass silently or fail with an error.
        const events = (e: RunEvent) => {
          if (e.type === 'warning' && ctx.globals().quiet !== true)
            ctx.io.stderr.write(`meshprobe: warning: ${e.message}\n`);
        };
        cluster = {
          ...(await readClusterSide(c, { flavor: o.istio, revision: o.revision, events })),
          context: c.context,
          server: c.server,
        };
        mesh = cluster.mesh;
      }
      sides.push({ spec: spec.spec, source: 'cluster', set: cluster.set });
    }
  }
  const { topology, files } = prefixed(plain, sides, o.namespacePrefix);
  for (const s of files) refuseUnserved(s.set.policies, mesh.flavor);

  const [base, head] = sides.map((s) => {
    const policies = s.set.policies.map((p) => p.policy);
    // Files are applied to a fresh install of the flavor (as `predict` does); the cluster holds what it holds.
    return predict(
      topology,
      s.source === 'cluster' ? policies : overlay(topology, installDefaults(mesh), policies, mesh),
      mesh,
    );
  }) as [ReturnType<typeof predict>, ReturnType<typeof predict>];

  const doc = buildDiffDocument(
    {
      flavor: mesh.flavor,
      topology: topology.name,
      clients: topology.clients.length,
      targets: topology.targets.length,
      ...(o.namespacePrefix ? { namespacePrefix: o.namespacePrefix } : {}),
      ...(cluster ? { cluster: { context: cluster.context, server: cluster.server } } : {}),
      base: sides[0]!,
      head: sides[1]!,
      changes: diffPredictions(base, head),
      ...(o.failOn ? { failOn: o.failOn } : {}),
    },
    { generatedAt: new Date().toISOString(), meshprobeVersion: VERSION },
  );
  ctx.io.stdout.write(render(doc, o.output, ctx));
  appendStepSummary(doc, ctx.io.env);
  return doc.summary.failing > 0 ? ExitCode.Mismatch : ExitCode.Ok;
}

type DiffResultCluster = Awaited<ReturnType<typeof readClusterSide>> & { context: string; server: string };

/**
 * Under --namespace-prefix the topology moves, and the files' objects with it, as `run` moves a
 * scenario's (model/namespace-prefix.ts); the cluster's objects are where they are.
 */
function prefixed(
  topology: Topology,
  sides: DiffSide[],
  prefix: string | undefined,
): { topology: Topology; files: DiffSide[] } {
  const files = sides.filter((s) => s.source !== 'cluster');
  if (!prefix) return { topology, files };
  const asScenario = (s: DiffSide): Scenario => ({
    name: s.spec,
    description: s.spec,
    sources: [],
    file: s.spec,
    objects: s.set.policies.map((p) => p.policy),
    expect: { all: [], modern: [], legacy: [] },
    certificates: [],
  });
  const moved = prefixNamespaces(topology, files.map(asScenario), prefix, probeRequestBytes);
  files.forEach((s, i) => {
    const objects = moved.scenarios[i]!.objects;
    s.set = { ...s.set, policies: s.set.policies.map((p, j): SourcedPolicy => ({ ...p, policy: objects[j]! })) };
  });
  return { topology: moved.topology, files };
}

/** Istio 1.4 serves no security.istio.io: a PeerAuthentication there is a mistake in the files, named where it is. */
function refuseUnserved(policies: SourcedPolicy[], flavor: Flavor): void {
  if (flavor !== 'legacy') return;
  const pa = policies.find((p) => p.policy.kind === 'PeerAuthentication');
  if (pa)
    throw new ConfigError(
      `${pa.where}: ${describePolicy(pa.policy)}: Istio 1.4 does not serve security.istio.io`,
      'write the policy as a MeshPolicy or Policy, or diff with --istio modern',
    );
}

function render(doc: PolicyDiffDocument, format: DiffOptions['output'], ctx: CommandContext): string {
  if (format === 'json') return `${JSON.stringify(doc, null, 2)}\n`;
  if (format === 'markdown') return renderDiffMarkdown(doc);
  return renderDiffTable(doc, ctx.style);
}

/** On GitHub Actions the job's summary page shows the Markdown too, also where a comment cannot be written (a fork's pull request). */
function appendStepSummary(doc: PolicyDiffDocument, env: Record<string, string | undefined>): void {
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) return;
  try {
    appendFileSync(file, `${renderDiffMarkdown(doc)}\n`);
  } catch (e) {
    throw new ConfigError(
      `cannot append to $GITHUB_STEP_SUMMARY: ${(e as Error).message}`,
      'unset GITHUB_STEP_SUMMARY or point it at a writable file',
    );
  }
}
