// Flags: unknown and contradictory ones are refused with the usage hint, bad numbers with a message
// naming the flag; all exit 2 before any file is read or any cluster is contacted.
import { describe, expect, it } from 'vitest';
import { MAX_CURL_TIMEOUT_SECONDS, MAX_SECONDS } from '../../src/model/limits.js';
import { cli } from '../helpers/cli.js';

const HINT = '(add --help for usage)';
/** Flags that every command needs to get past its own required options. */
const REQUIRED: Record<string, string[]> = {
  explain: ['--scenario', 'baseline', '--from', 'test1/sleep', '--to', 'test1/httpbin:8000'],
};
const COMMANDS = ['predict', 'explain', 'run', 'probe', 'setup', 'teardown', 'cleanup'];
/** A topology that does not exist: a command that accepted its flags stops there, with exit 2, before a cluster. */
const MISSING = '/nonexistent/meshprobe-topology.yaml';

async function refused(argv: string[]) {
  const r = await cli(argv);
  expect(r.code, `${argv.join(' ')}\n${r.stderr}`).toBe(2);
  expect(r.stdout).toBe('');
  return r.stderr;
}

describe('unknown flags', () => {
  // Each command gets a nonsense flag, a near miss, and a flag that only another command has.
  const cases: Record<string, string[]> = {
    predict: ['--bogus', '--scenarios', '--keep'],
    explain: ['--bogus', '--form', '--report-dir'],
    run: ['--bogus', '--curl-timout', '--timeout'],
    probe: ['--bogus', '--scenario', '--allow-cluster-wide'],
    setup: ['--bogus', '--ready-timout', '--concurrency'],
    teardown: ['--bogus', '--timout', '--keep'],
    cleanup: ['--bogus', '--keeep', '--adopt'],
  };
  for (const command of COMMANDS) {
    it(`${command}: refused with the usage hint, exit 2`, async () => {
      for (const flag of cases[command]!) {
        const stderr = await refused([
          command,
          ...(REQUIRED[command] ?? []),
          flag,
          ...(flag === '--concurrency' || flag === '--timeout' ? ['3'] : []),
        ]);
        expect(stderr).toMatch(new RegExp(`^meshprobe: error: unknown option '${flag}'\\n`));
        expect(stderr).toContain(HINT);
      }
    });
  }

  it('a short flag, a flag before the command, an unknown command, and an argument no command takes', async () => {
    expect(await refused(['run', '-z'])).toMatch(
      /^meshprobe: error: unknown option '-z'\n[\s\S]*\(add --help for usage\)/,
    );
    expect(await refused(['--bogus', 'predict'])).toMatch(/^meshprobe: error: unknown option '--bogus'\n/);
    expect(await refused(['frobnicate'])).toMatch(/^meshprobe: error: unknown command 'frobnicate'\n/);
    expect(await refused(['predict', 'test1'])).toMatch(
      /^meshprobe: error: too many arguments for 'predict'\. Expected 0 arguments but got 1\.\n/,
    );
  });

  it('a flag without its value, and a value outside its choices', async () => {
    expect(await refused(['run', '--concurrency'])).toMatch(
      /^meshprobe: error: option '--concurrency <n>' argument missing\n[\s\S]*\(add --help/,
    );
    expect(await refused(['predict', '-o', 'xml'])).toMatch(
      /^meshprobe: error: option '-o, --output <format>' argument 'xml' is invalid\. Allowed choices are /,
    );
    expect(await refused(['run', '--isolation', 'cluster'])).toMatch(
      /^meshprobe: error: option '--isolation <mode>' argument 'cluster' is invalid\. Allowed choices are namespaced\./,
    );
    expect(await refused(['predict', '--istio', '1.4'])).toMatch(/^meshprobe: error: --istio must be "modern"/);
  });
});

describe('contradictory flags', () => {
  it('--isolation namespaced with --allow-cluster-wide, in either order: refused with the usage hint', async () => {
    for (const argv of [
      ['--isolation', 'namespaced', '--allow-cluster-wide'],
      ['--allow-cluster-wide', '--isolation', 'namespaced'],
    ]) {
      const stderr = await refused(['run', ...argv, '--topology', MISSING]);
      expect(stderr).toMatch(
        /^meshprobe: error: option '(--isolation <mode>|--allow-cluster-wide)' cannot be used with option '(--allow-cluster-wide|--isolation <mode>)'\n/,
      );
      expect(stderr).toContain(HINT);
      expect(stderr).not.toContain('file not found'); // refused before anything was read
    }
  });

  it('each of them alone is accepted', async () => {
    for (const argv of [['--isolation', 'namespaced'], ['--allow-cluster-wide']]) {
      expect(await refused(['run', ...argv, '--topology', MISSING])).toMatch(/file not found/);
    }
  });

  it('flags that only look alike are not contradictory: cleanup --keep --timeout, run --keep --adopt, -q with -o table', async () => {
    expect(await refused(['cleanup', '--keep', '--timeout', '5', '--topology', MISSING])).toMatch(/file not found/);
    expect(await refused(['run', '--keep', '--adopt', '--topology', MISSING])).toMatch(/file not found/);
    expect(await refused(['-q', 'run', '-o', 'table', '--topology', MISSING])).toMatch(/file not found/);
  });
});

describe('numbers', () => {
  const bad: Array<[string, string[]]> = [
    ['--concurrency', ['0', '-1', 'abc', '1.5', '', '0x10', '1e3', '1001']],
    ['--curl-timeout', ['abc', '0', '2.5', String(MAX_CURL_TIMEOUT_SECONDS + 1), ' 5']],
    ['--consecutive', ['0', 'two', '101']],
    ['--converge-timeout', ['-1', 'abc', '', 'Infinity', 'NaN', String(MAX_SECONDS + 1)]],
    ['--interval', ['-0.5', '1e5', '1s']],
    ['--settle', ['', ' ', '+3']],
    ['--ready-timeout', ['-1', '10m']],
  ];
  for (const command of ['run', 'probe']) {
    it(`${command}: a bad number exits 2 with a message naming the flag and the allowed range`, async () => {
      for (const [flag, values] of bad) {
        for (const v of values) {
          const stderr = await refused([command, flag, v, '--topology', MISSING]);
          expect(stderr).toMatch(
            new RegExp(
              `^meshprobe: error: ${flag} must be a (whole number from 1 to \\d+|number of seconds from 0 to ${MAX_SECONDS}), got "${v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\n$`,
            ),
          );
        }
      }
    });
  }

  it('setup, teardown and cleanup check their durations too', async () => {
    expect(await refused(['setup', '--ready-timeout', 'soon'])).toMatch(
      /^meshprobe: error: --ready-timeout must be a number of seconds/,
    );
    expect(await refused(['teardown', '--timeout', '-5'])).toMatch(
      /^meshprobe: error: --timeout must be a number of seconds/,
    );
    expect(await refused(['cleanup', '--timeout', String(MAX_SECONDS + 1)])).toMatch(
      /^meshprobe: error: --timeout must be a number of seconds from 0 to 86400/,
    );
  });

  it('the bounds themselves are accepted', async () => {
    const ok = [
      '--concurrency',
      '1000',
      '--curl-timeout',
      String(MAX_CURL_TIMEOUT_SECONDS),
      '--consecutive',
      '100',
      '--converge-timeout',
      String(MAX_SECONDS),
      '--interval',
      '0',
      '--settle',
      '.5',
      '--ready-timeout',
      '1.',
    ];
    expect(await refused(['run', ...ok, '--topology', MISSING])).toMatch(
      /^meshprobe: error: \/nonexistent\/meshprobe-topology\.yaml: file not found\n/,
    );
    expect(
      await refused(['run', '--concurrency', '1', '--curl-timeout', '1', '--consecutive', '1', '--topology', MISSING]),
    ).toMatch(/file not found/);
  });

  it('--namespace-prefix must be a DNS label, checked before any cluster', async () => {
    for (const command of ['run', 'probe', 'setup', 'teardown', 'cleanup']) {
      expect(await refused([command, '--namespace-prefix', 'CI_42'])).toMatch(
        /^meshprobe: error: --namespace-prefix "CI_42" must be lower-case letters, digits and "-"/,
      );
      expect(await refused([command, '--namespace-prefix', 'x'.repeat(60)])).toMatch(/longer than 63 characters/);
    }
  });
});
