import type { Command } from 'commander';
import { Option } from 'commander';
import { ConfigError } from '../../errors.js';
import { flavorProblem, type Flavor } from '../../model/scenario.js';
import { count, verdictOf } from '../../model/verdict.js';
import { predictScenario } from '../../oracle/expected.js';
import { meshConfig } from '../../oracle/mesh.js';
import { cellReport } from '../../report/document.js';
import { renderExplanation } from '../../report/explain.js';
import { exitCodeFor, type ExitCode } from '../exit-codes.js';
import { collect } from '../flags.js';
import { loadInputs, parseFlavor } from '../inputs.js';
import type { CommandContext } from '../program.js';

interface ExplainOptions {
  scenario: string;
  from: string;
  to: string;
  file: string[];
  topology?: string;
  istio: Flavor;
  output: 'text' | 'json';
}

export function explainCommand(program: Command, ctx: CommandContext): void {
  program
    .command('explain')
    .description(
      'Explain one cell of a scenario: which objects decide what the client sends, what the server accepts, and which AuthorizationPolicy rule allows or denies it',
    )
    .requiredOption('--scenario <name>', 'the scenario')
    .requiredOption('--from <client>', 'the client, NAMESPACE/WORKLOAD (e.g. test3/sleep)')
    .requiredOption(
      '--to <target>',
      "the server port, NAMESPACE/SERVICE:PORT (e.g. test1/httpbin:8000), or a further request to it, 'NAMESPACE/SERVICE:PORT METHOD PATH'",
    )
    .addOption(
      new Option('-f, --file <path>', 'the scenario file or directory it is in (repeatable)')
        .argParser(collect)
        .default([], 'the shipped scenarios'),
    )
    .option('--topology <file>', 'a topology file')
    .addOption(
      new Option('--istio <flavor>', 'Istio API generation: modern or legacy').default('modern').argParser(parseFlavor),
    )
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action((o: ExplainOptions) => ctx.exit(explain(o, ctx)));
}

function explain(o: ExplainOptions, ctx: CommandContext): ExitCode {
  const { topology, scenarios } = loadInputs(
    { file: o.file, scenario: [o.scenario], topology: o.topology },
    ctx.io.cwd,
  );
  const scenario = scenarios[0]!;
  const problem = flavorProblem(scenario, o.istio);
  if (problem)
    throw new ConfigError(
      `scenario ${scenario.name} cannot be explained for Istio 1.4: ${problem}`,
      'explain it with --istio modern',
    );
  const client = topology.clients.find((c) => c.id === o.from);
  if (!client)
    throw new ConfigError(
      `--from ${o.from} is not a client of the topology`,
      `choose from: ${topology.clients.map((c) => c.id).join(', ')}`,
    );
  const candidates = topology.targets.filter((t) => t.id === o.to || `${t.namespace}/${t.service}` === o.to);
  if (candidates.length !== 1) {
    const all = topology.targets.map((t) => t.id).join(', ');
    throw new ConfigError(
      candidates.length
        ? `--to ${o.to} has several ports; name one`
        : `--to ${o.to} is not a probed port of the topology`,
      `choose from: ${all}`,
    );
  }
  const target = candidates[0]!;
  const mesh = meshConfig(o.istio);
  const cell = predictScenario(topology, scenario, mesh).get(client.id, target.id);
  // The scenario's expectation against the oracle's prediction, as `predict` compares every cell.
  const verdict = verdictOf(cell, cell.prediction.outcome);
  if (o.output === 'json')
    ctx.io.stdout.write(
      `${JSON.stringify({ scenario: scenario.name, flavor: o.istio, ...cellReport(client.id, target.id, cell, verdict) }, null, 2)}\n`,
    );
  else ctx.io.stdout.write(renderExplanation(scenario.name, client.id, target, cell, mesh, ctx.style));
  return exitCodeFor(count([verdict]));
}
