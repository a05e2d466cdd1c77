// ESLint: typescript-eslint's recommended rules, and the import boundaries the design rests on.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** The emulated cluster is a test double with its own reading of Kubernetes and Istio (DESIGN.md). */
const PROBER_CODE = ['model', 'oracle', 'probe', 'orchestrator', 'report', 'kube', 'cli'].map((m) => ({
  group: [`**/src/${m}/**`],
  message: `the emulator must not use the prober's ${m} code: it decides outcomes on its own, or the end-to-end tests cannot fail where the prober is wrong`,
}));

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
      // Untyped YAML and API objects are read with `any` in a few loaders; typed schemas would replace them.
      '@typescript-eslint/no-explicit-any': 'off',
      // Terminal output and XML/HTML escaping match control characters on purpose.
      'no-control-regex': 'off',
    },
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
