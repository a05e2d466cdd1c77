import type { Command } from 'commander';
import { Option } from 'commander';
import { ConfigError } from '../../errors.js';
import type { ScenarioResult } from '../../model/results.js';
import { flavorProblem, type Flavor } from '../../model/scenario.js';
import { predictScenario } from '../../oracle/expected.js';
import { meshConfig } from '../../oracle/mesh.js';
import { buildDocument } from '../../report/document.js';
import { VERSION } from '../../version.js';
import { exitCodeFor, type ExitCode } from '../exit-codes.js';
import { scenarioSelection } from '../flags.js';
import { loadInputs, parseFlavor, type ScenarioOptions } from '../inputs.js';
import type { CommandContext } from '../program.js';
import { addReportOptions, checkReportOptions, emitReports, type ReportOptions } from '../report-options.js';

interface PredictOptions extends ScenarioOptions, ReportOptions {
  istio: Flavor;
}

export function predictCommand(program: Command, ctx: CommandContext): void {
  const command = program
    .command('predict')
    .description('Print the matrix each scenario should produce, from its policies alone (no cluster needed)');
  scenarioSelection(command, 'predict')
    .option('--topology <file>', "a topology file (default: the article's test1/test2/test3/ngtest)")
    .addOption(
      new Option('--istio <flavor>', 'Istio API generation: modern (>= 1.5) or legacy (1.4)')
        .default('modern')
        .argParser(parseFlavor),
    );
  addReportOptions(command).action((o: PredictOptions) => {
    ctx.exit(predict(o, ctx));
  });
}

function predict(o: PredictOptions, ctx: CommandContext): ExitCode {
  const { topology, scenarios } = loadInputs(o, ctx.io.cwd);
  checkReportOptions(ctx, o);
  const mesh = meshConfig(o.istio);
  const results: ScenarioResult[] = [];
  const skipped: Array<{ name: string; reason: string }> = [];
  for (const scenario of scenarios) {
    const problem = flavorProblem(scenario, o.istio);
    if (problem) {
      skipped.push({ name: scenario.name, reason: problem });
      continue;
    }
    results.push({ scenario, expected: predictScenario(topology, scenario, mesh) });
  }
  // As `run` does: skipping some is fine, skipping all would be an empty report that exits 0.
  if (results.length === 0 && skipped.length > 0)
    throw new ConfigError(
      `no scenario can be predicted for Istio 1.4: ${skipped.map((s) => `${s.name} (${s.reason})`).join('; ')}`,
      'predict them with --istio modern',
    );
  const doc = buildDocument(
    { command: 'predict', flavor: o.istio, topology: topology.name, scenarios: results },
    { generatedAt: new Date().toISOString(), meshprobeVersion: VERSION },
  );
  emitReports(ctx, doc, o);
  for (const s of skipped) ctx.io.stderr.write(`meshprobe: skipped scenario ${s.name}: ${s.reason}\n`);
  return exitCodeFor(doc.summary);
}
