// The design's import boundaries are lint errors, not conventions: each boundary, crossed on purpose
// in a file placed inside the tree, fails `npm run lint` with the project's own eslint.config.js, and
// an import the design allows passes.
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: root });

/** The lint messages for `code` as if it were the file at `path` (relative to the repository). */
async function lint(path: string, code: string): Promise<Array<{ ruleId: string | null; message: string }>> {
  const [result] = await eslint.lintText(code, { filePath: path });
  return result!.messages.map(({ ruleId, message }) => ({ ruleId, message }));
}

const crossings: Array<[boundary: string, file: string, code: string, message: RegExp]> = [
  [
    'the model imports nothing outside the model',
    'src/model/new-file.ts',
    "import { ClientPods } from '../probe/pods.js';\nexport const x = ClientPods;\n",
    /src\/model must not import src\/probe: the model is plain data/,
  ],
  [
    'not even the pure oracle',
    'src/model/new-file.ts',
    "import { predict } from '../oracle/predict.js';\nexport const x = predict;\n",
    /src\/model must not import src\/oracle/,
  ],
  [
    'the core does not import the shell: oracle -> kube',
    'src/oracle/new-file.ts',
    "import type { Cluster } from '../kube/cluster.js';\nexport type X = Cluster;\n",
    /src\/oracle must not import src\/kube/,
  ],
  [
    'the core does not import the shell: report -> orchestrator',
    'src/report/new-file.ts',
    "export { runScenarios } from '../orchestrator/run.js';\n",
    /src\/report must not import src\/orchestrator/,
  ],
  [
    'the reports read the model only',
    'src/report/new-file.ts',
    "import { predictScenario } from '../oracle/expected.js';\nexport const x = predictScenario;\n",
    /src\/report must not import src\/oracle: the reports are pure functions of the model/,
  ],
  [
    'the probe does not import the reports',
    'src/probe/new-file.ts',
    "import { buildDocument } from '../report/document.js';\nexport const x = buildDocument;\n",
    /src\/probe must not import src\/report/,
  ],
  [
    'the probe does not import the orchestrator',
    'src/probe/new-file.ts',
    "export const load = () => import('../orchestrator/journal.js');\n",
    /src\/probe must not import src\/orchestrator/,
  ],
  [
    'the probe does not import the CLI',
    'src/probe/new-file.ts',
    "import { ExitCode } from '../cli/exit-codes.js';\nexport const x = ExitCode;\n",
    /src\/probe must not import src\/cli/,
  ],
  [
    'the orchestrator does not import the CLI',
    'src/orchestrator/new-file.ts',
    "import { connect } from '../cli/connect.js';\nexport const x = connect;\n",
    /src\/orchestrator must not import src\/cli: the orchestrator is driven by the CLI/,
  ],
  [
    'a file in a subdirectory is held to its module',
    'src/model/sub/new-file.ts',
    "import { labelSelector } from '../../kube/pods.js';\nexport const x = labelSelector;\n",
    /src\/model must not import src\/kube/,
  ],
  [
    'the emulator does not import the prober',
    'test/emulator/mesh/new-file.ts',
    "import { predict } from '../../../src/oracle/predict.js';\nexport const x = predict;\n",
    /the emulator must not use the prober's oracle code/,
  ],
];

describe('import boundaries (eslint.config.js)', () => {
  for (const [boundary, file, code, message] of crossings) {
    it(`${boundary}: ${file} fails lint`, async () => {
      const messages = await lint(file, code);
      expect(messages).toHaveLength(1);
      expect(messages[0]!.message).toMatch(message);
    });
  }

  it('imports the design allows pass', async () => {
    const allowed: Array<[string, string]> = [
      [
        'src/model/new-file.ts',
        "import { ConfigError } from '../errors.js';\nimport { Matrix } from './matrix.js';\nexport const x = [ConfigError, Matrix];\n",
      ],
      ['src/oracle/new-file.ts', "import { Matrix } from '../model/matrix.js';\nexport const x = Matrix;\n"],
      ['src/report/new-file.ts', "import { count } from '../model/verdict.js';\nexport const x = count;\n"],
      ['src/probe/new-file.ts', "import { isReady } from '../kube/pods.js';\nexport const x = isReady;\n"],
      [
        'src/orchestrator/new-file.ts',
        "import { probeRound } from '../probe/round.js';\nimport { predict } from '../oracle/predict.js';\nexport const x = [probeRound, predict];\n",
      ],
      [
        'src/cli/commands/new-file.ts',
        "import { buildDocument } from '../../report/document.js';\nimport { runScenarios } from '../../orchestrator/run.js';\nexport const x = [buildDocument, runScenarios];\n",
      ],
      [
        'test/emulator/mesh/new-file.ts',
        "import { issueCertificate } from '../../../src/pki/certificate.js';\nexport const x = issueCertificate;\n",
      ],
    ];
    for (const [file, code] of allowed) expect(await lint(file, code), file).toEqual([]);
  });

  it('src/ has no explicit any: loaders type what they read', async () => {
    const messages = await lint('src/model/new-file.ts', 'export const parse = (s: string): any => JSON.parse(s);\n');
    expect(messages.map((m) => m.ruleId)).toEqual(['@typescript-eslint/no-explicit-any']);
  });
});
