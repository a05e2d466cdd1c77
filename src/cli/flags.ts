// Flag parsers and the option sets several commands share.
import { Option, type Command } from 'commander';
import { ConfigError } from '../errors.js';
import { MAX_CURL_TIMEOUT_SECONDS, MAX_SECONDS } from '../model/limits.js';
import { DEFAULT_CONVERGE } from '../probe/converge.js';
import { DEFAULT_PROBE } from '../probe/round.js';

/** A repeatable flag: each use adds one value. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

// Decimal digits only: Number() would also take "", " ", "0x10" and "1e3".
const positiveInt = (name: string, max: number) => (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > max)
    throw new ConfigError(`${name} must be a whole number from 1 to ${max}, got "${v}"`);
  return n;
};

export const seconds = (name: string) => (v: string) => {
  const n = Number(v);
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(v) || n > MAX_SECONDS)
    throw new ConfigError(`${name} must be a number of seconds from 0 to ${MAX_SECONDS}, got "${v}"`);
  return n;
};

const GO_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };

/**
 * `--request-timeout` as kubectl reads it (client-go tools/clientcmd/helpers.go ParseTimeout): a whole
 * number of seconds, or a Go duration (time.ParseDuration: "1s", "2m", "1m30s", "1.5h", "300ms"); 0 means
 * no timeout. Returns milliseconds. kubectl would take a negative duration; meshprobe does not.
 */
export function parseRequestTimeout(v: string): number {
  const bad = () =>
    new ConfigError(
      `--request-timeout must be a whole number of seconds or a duration with its unit (e.g. 1s, 2m, 3h), at most ${MAX_SECONDS}s, got "${v}"`,
    );
  let ms: number;
  if (/^\d+$/.test(v)) ms = Number(v) * 1000;
  else {
    const parts = /^\+?((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(v);
    if (!parts) throw bad();
    ms = 0;
    for (const [, n, unit] of parts[1]!.matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g))
      ms += Number(n) * GO_UNITS[unit!]!;
  }
  if (!Number.isFinite(ms) || ms > MAX_SECONDS * 1000) throw bad();
  return ms;
}

/** --topology and --namespace-prefix: every command that touches the topology in a cluster. */
export const topologyOptions = (cmd: Command): Command =>
  cmd
    .option('--topology <file>', "a topology file (default: the article's test1/test2/test3/ngtest)")
    .option(
      '--namespace-prefix <prefix>',
      'run the topology as PREFIX-test1, PREFIX-test2 ... so several runs can share a cluster',
    );

/**
 * --scenario and -f, repeatable: `verb` is what the command does with a scenario. The default is shown
 * in words, not as commander's "(default: [])".
 */
export const scenarioSelection = (cmd: Command, verb: string): Command =>
  cmd
    .addOption(
      new Option('--scenario <name>', `a scenario to ${verb} (repeatable)`).argParser(collect).default([], 'all'),
    )
    .addOption(
      new Option('-f, --file <path>', 'a scenario file or directory (repeatable)')
        .argParser(collect)
        .default([], 'the shipped scenarios'),
    );

/** What `run` adds to `probe`: which scenarios, and how far they may reach beyond the topology. */
export const scenarioOptions = (cmd: Command): Command =>
  scenarioSelection(cmd, 'run')
    .option(
      '--allow-cluster-wide',
      "let scenarios change objects outside the topology's namespaces (mesh-wide policies, root-namespace rules)",
      false,
    )
    .addOption(
      new Option(
        '--isolation <mode>',
        "rewrite cluster-wide scenario objects into the topology's namespaces (proven equivalent by the oracle)",
      )
        .choices(['namespaced'])
        .conflicts('allowClusterWide'),
    );

/**
 * `run` and `probe` read the Istio API generation from the cluster; `--istio` (predict's and explain's)
 * is refused with the reason instead of commander's bare "unknown option".
 */
export const detectedIstio = (cmd: Command): Command =>
  cmd
    .addOption(
      new Option('--istio <flavor>').hideHelp().argParser(() => {
        throw new ConfigError(
          `${cmd.name()} detects the Istio generation from the cluster: modern when it serves security.istio.io (PeerAuthentication), legacy (Istio 1.4) when it serves only authentication.istio.io (MeshPolicy, Policy)`,
          'drop --istio; it is for predict and explain, which use no cluster',
        );
      }),
    )
    .addHelpText(
      'after',
      '\nIstio: the API generation is detected from the cluster (security.istio.io served: modern; only\nauthentication.istio.io: legacy, Istio 1.4); --istio is for predict and explain, which use no cluster.',
    );

/** --revision: which Istio control plane the topology's sidecars come from (run, probe, setup). */
export const revisionOption = (cmd: Command): Command =>
  cmd.option(
    '--revision <rev>',
    'the Istio revision or tag whose control plane injects the topology (labels istio.io/rev=REV); default: the default revision, or the only one',
  );

/** How `run` and `probe` set up, probe and converge. */
export const probeOptions = (cmd: Command): Command =>
  revisionOption(topologyOptions(cmd))
    .option('--keep', 'leave the topology in the cluster afterwards (until `meshprobe teardown`)', false)
    .option(
      '--adopt',
      'use topology namespaces that exist but were not created by meshprobe: it removes only what it puts there, and puts their labels back',
      false,
    )
    .option(
      '--concurrency <n>',
      'client pods probed at once',
      positiveInt('--concurrency', 1000),
      DEFAULT_PROBE.concurrency,
    )
    .option(
      '--curl-timeout <s>',
      'curl --max-time per request, seconds',
      positiveInt('--curl-timeout', MAX_CURL_TIMEOUT_SECONDS),
      DEFAULT_PROBE.curlTimeoutSeconds,
    )
    .option(
      '--consecutive <k>',
      'rounds in a row that must agree before a scenario counts as converged',
      positiveInt('--consecutive', 100),
      DEFAULT_CONVERGE.consecutive,
    )
    .option(
      '--converge-timeout <s>',
      'give up converging a scenario after this many seconds',
      seconds('--converge-timeout'),
      DEFAULT_CONVERGE.timeoutMs / 1000,
    )
    .option(
      '--interval <s>',
      'minimum seconds between the starts of two rounds',
      seconds('--interval'),
      DEFAULT_CONVERGE.intervalMs / 1000,
    )
    .option(
      '--settle <s>',
      "without istiod's push status (no exec into istio-system): seconds before a stable mismatch is believed",
      seconds('--settle'),
      DEFAULT_CONVERGE.settleMs / 1000,
    )
    .option(
      '--ready-timeout <s>',
      'seconds to wait for the workloads to become ready',
      seconds('--ready-timeout'),
      300,
    );
