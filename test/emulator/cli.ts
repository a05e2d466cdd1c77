// `npm run emulator -- --kubeconfig FILE [--istio modern|legacy|none] [--revision REV [--tag T]... [--default-revision]]
//  [--installer helm|istioctl] [--port N] [--runtime plain|mesh] [--propagation MIN-MAX] [--ready-delay MS]
//  [--kubelet-time-scale X] [--pod-security LEVEL] [--seed N] [--fault SPEC]... [--user NAME:TOKEN[:RULES]]... [--audit FILE]`
// Prints one line with `ready` and the kubeconfig path once serving; stops cleanly on SIGINT/SIGTERM.
import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { RuntimeFactory } from './contracts.js';
import { parseFaultSpec, type FaultSpec } from './api/faults.js';
import { parseUserSpec, type UserSpec } from './api/auth.js';
import { createPlainRuntime } from './runtime/plain.js';
import { parsePropagation, type DelayRange } from './mesh/propagation.js';
import { startEmulator, type EmulatorOptions } from './index.js';

function integer(name: string, min = 0) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

function positive(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a number > 0`);
    return n;
  };
}

function collect<T>(parse: (v: string) => T) {
  return (value: string, previous: T[] = []): T[] => {
    try {
      return [...previous, parse(value)];
    } catch (error) {
      throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
    }
  };
}

type MeshModule = {
  meshRuntimeFactory?: (options: { propagationDelayMs?: DelayRange; seed?: number }) => RuntimeFactory;
};

async function meshRuntime(options: { propagationDelayMs?: DelayRange; seed?: number }): Promise<RuntimeFactory> {
  const modulePath = './mesh/index.js';
  let mod: MeshModule;
  try {
    mod = (await import(modulePath)) as MeshModule;
  } catch (error) {
    throw new Error(
      `--runtime mesh: cannot load test/emulator/mesh/index.ts (${error instanceof Error ? error.message : String(error)}); use --runtime plain until the mesh runtime exists`,
      { cause: error },
    );
  }
  if (typeof mod.meshRuntimeFactory !== 'function')
    throw new Error('--runtime mesh: test/emulator/mesh/index.ts does not export meshRuntimeFactory(options)');
  return mod.meshRuntimeFactory(options);
}

async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('emulator')
    .description('Run the emulated Kubernetes API server (with Istio) on 127.0.0.1 until SIGINT/SIGTERM.')
    .requiredOption('--kubeconfig <file>', 'write the admin kubeconfig here')
    .addOption(
      new Option('--istio <flavor>', 'Istio to install').choices(['modern', 'legacy', 'none']).default('modern'),
    )
    .option(
      '--revision <rev>',
      'install Istio 1.24 as this revision (istiod-REV, istio-REV; injects where istio.io/rev=REV)',
    )
    .option(
      '--tag <tag>',
      'a revision tag pointing at --revision (istio-revision-tag-TAG; injects where istio.io/rev=TAG), repeatable',
      (v: string, previous: string[] = []) => [...previous, v],
    )
    .option('--default-revision', 'also the default tag: istio-injection=enabled namespaces get the revision')
    .addOption(
      new Option('--installer <tool>', 'who installed Istio: the objects helm or istioctl leave')
        .choices(['helm', 'istioctl'])
        .default('helm'),
    )
    .option('--port <n>', 'port on 127.0.0.1 (0: any free port)', integer('--port'), 0)
    .addOption(
      new Option('--runtime <kind>', 'container runtime behind exec').choices(['plain', 'mesh']).default('mesh'),
    )
    .option(
      '--propagation <min-max>',
      'mesh runtime: delay from a config change to each proxy applying it, per proxy and per push, e.g. "500ms-2s" (default), "15s-25s" (a busy istiod)',
      (v: string) => {
        try {
          return parsePropagation(v);
        } catch (error) {
          throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
        }
      },
    )
    .option('--ready-delay <ms>', 'pods become Ready this long after they started', integer('--ready-delay'))
    .option(
      '--kubelet-time-scale <x>',
      "multiply the kubelet's own durations (image pull back-off, sync retries, sidecar drain); 1 = real",
      positive('--kubelet-time-scale'),
    )
    .addOption(
      new Option('--pod-security <level>', "Pod Security admission's cluster-wide default (defaults.enforce)")
        .choices(['privileged', 'baseline', 'restricted'])
        .default('privileged'),
    )
    .option('--seed <n>', 'seed for fault rates and propagation delays', integer('--seed'))
    .option(
      '--fault <spec>',
      'inject a fault, repeatable: "api-error code=429 rate=0.3 retry-after=2 verbs=get,list resources=pods", "api-stall phase=tls", "exec-reject", "exec-status preset=container-not-found", "exec-drop after=200ms", "namespace-stuck names=test1", "never-ready namespaces=test1", "slow-ready delay=5s", "crash-loop selector=app=httpbin"',
      collect(parseFaultSpec),
    )
    .option('--faults-file <file>', 'JSON array of fault specs')
    .option(
      '--user <spec>',
      'an extra user, repeatable: NAME:TOKEN[:VERBS/RESOURCES[@NS+NS];...]',
      collect(parseUserSpec),
    )
    .option('--audit <file>', 'append every write request to this JSONL file')
    .option('--kube-version <version>', 'Kubernetes version served by /version', '1.32.4')
    .showHelpAfterError();
  program.parse(argv);
  const o = program.opts<{
    kubeconfig: string;
    istio: 'modern' | 'legacy' | 'none';
    revision?: string;
    tag?: string[];
    defaultRevision?: boolean;
    installer: 'helm' | 'istioctl';
    port: number;
    runtime: 'plain' | 'mesh';
    propagation?: DelayRange;
    readyDelay?: number;
    kubeletTimeScale?: number;
    podSecurity: 'privileged' | 'baseline' | 'restricted';
    seed?: number;
    fault?: FaultSpec[];
    faultsFile?: string;
    user?: UserSpec[];
    audit?: string;
    kubeVersion: string;
  }>();

  const faults = [...(o.fault ?? [])];
  if (o.faultsFile) faults.push(...(JSON.parse(await readFile(o.faultsFile, 'utf8')) as FaultSpec[]));
  const options: EmulatorOptions = {
    kubeconfigPath: o.kubeconfig,
    istio: o.istio,
    port: o.port,
    faults,
    users: o.user ?? [],
    kubeVersion: o.kubeVersion,
    istioRevision: {
      ...(o.revision !== undefined ? { revision: o.revision } : {}),
      ...(o.tag ? { revisionTags: o.tag } : {}),
      ...(o.defaultRevision ? { defaultRevision: true } : {}),
      installer: o.installer,
    },
  };
  if (o.readyDelay !== undefined) options.podReadyDelayMs = o.readyDelay;
  if (o.kubeletTimeScale !== undefined) options.kubeletTimeScale = o.kubeletTimeScale;
  options.podSecurity = o.podSecurity;
  if (o.seed !== undefined) options.seed = o.seed;
  if (o.audit) options.auditFile = o.audit;
  if (o.propagation && o.runtime !== 'mesh') throw new Error('--propagation applies to --runtime mesh only');
  options.runtime =
    o.runtime === 'mesh'
      ? await meshRuntime({
          ...(o.propagation ? { propagationDelayMs: o.propagation } : {}),
          ...(o.seed !== undefined ? { seed: o.seed } : {}),
        })
      : createPlainRuntime;

  const emulator = await startEmulator(options);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    emulator.stop().then(
      () => {
        process.stderr.write(`emulator: stopped (${signal})\n`);
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`emulator: stop failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // The pid is there for scripts: `kill <npm's pid>` does not reach this process (npm does not forward SIGTERM).
  process.stdout.write(
    `emulator ready: pid ${process.pid}, server ${emulator.server}, istio ${emulator.istio}${emulator.istioVersion ? ` ${emulator.istioVersion}` : ''}${o.revision ? ` revision ${o.revision}` : ''}, kubeconfig ${emulator.kubeconfigPath}\n`,
  );
}

main(process.argv).catch((error: unknown) => {
  process.stderr.write(`emulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
