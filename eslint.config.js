// ESLint: typescript-eslint's recommended rules, and the import boundaries the design rests on.
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const ROOT = dirname(fileURLToPath(import.meta.url));
const SRC = resolve(ROOT, 'src');

/** The emulated cluster is a test double with its own reading of Kubernetes and Istio (DESIGN.md). */
const PROBER_CODE = ['model', 'oracle', 'probe', 'orchestrator', 'report', 'kube', 'cli'].map((m) => ({
  group: [`**/src/${m}/**`],
  message: `the emulator must not use the prober's ${m} code: it decides outcomes on its own, or the end-to-end tests cannot fail where the prober is wrong`,
}));

/**
 * What each module of src/ may import from the others, so data flows one way (DESIGN.md, "a pure core
 * and a thin shell"): model ← oracle; report reads the model only; probe ← orchestrator ← cli. Every
 * module may import itself and src/errors.ts. The core (model, oracle, report) imports nothing of the
 * shell (kube, probe, orchestrator, cli).
 */
const MAY_IMPORT = {
  model: [],
  oracle: ['model'],
  report: ['model'],
  pki: [],
  kube: ['model'],
  probe: ['model', 'kube'],
  orchestrator: ['model', 'oracle', 'kube', 'probe', 'pki'],
  cli: ['model', 'oracle', 'report', 'kube', 'probe', 'orchestrator', 'version'],
};
const WHY = {
  model: 'the model is plain data every other module builds on; it imports nothing but src/errors.ts',
  oracle: "the oracle is pure: it computes the model's cells from the model alone",
  report: 'the reports are pure functions of the model: they never reach the cluster, the probe or the oracle',
  pki: 'src/pki is shared with the emulator and stands alone',
  kube: 'src/kube is the cluster gateway: it knows Kubernetes objects, not what meshprobe does with them',
  probe: 'the probe runs exec rounds; the orchestrator and the CLI drive it, never the other way round',
  orchestrator: 'the orchestrator is driven by the CLI, never the other way round',
  cli: 'the CLI sits on top of everything',
};

/** The module of src/ a file belongs to: its first directory, or the file's name for src/errors.ts and the like. */
function moduleOf(file) {
  const rel = relative(SRC, file);
  if (rel.startsWith('..') || rel === '') return undefined;
  const [first] = rel.split(sep);
  return first.replace(/\.(ts|js)$/, '');
}

const layers = {
  meta: {
    type: 'problem',
    docs: { description: "an import across src/'s modules that the design's one-way data flow does not allow" },
    schema: [],
    messages: { crossing: 'src/{{from}} must not import src/{{to}}: {{why}}.' },
  },
  create(context) {
    const from = moduleOf(context.filename);
    if (!from || !(from in MAY_IMPORT)) return {};
    const check = (node) => {
      const spec = node.source?.type === 'Literal' ? node.source.value : undefined;
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const to = moduleOf(resolve(dirname(context.filename), spec));
      if (!to || to === from || to === 'errors' || MAY_IMPORT[from].includes(to)) return;
      context.report({ node: node.source, messageId: 'crossing', data: { from, to, why: WHY[from] } });
    };
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: check,
    };
  },
};

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'out/', 'test/artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true, allowTernary: true }],
      // Terminal output and XML/HTML escaping match control characters on purpose.
      'no-control-regex': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { meshprobe: { rules: { layers } } },
    rules: { 'meshprobe/layers': 'error' },
  },
  {
    files: ['test/**/*.ts', 'test/**/*.mjs', '*.js'],
    // Tests poke at untyped JSON and API objects; src/ types what it reads.
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['test/**/*.ts'],
    // YAML indentation in a test's regular expression reads best as the spaces it is.
    rules: { 'no-regex-spaces': 'off' },
  },
  {
    files: ['test/emulator/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: PROBER_CODE }] },
  },
);
