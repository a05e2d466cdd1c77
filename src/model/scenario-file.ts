// Loads scenario files (meshprobe/v1 kind Scenario): validates meshprobe's own fields and every
// embedded Istio object before anything could be applied, with file:line:column in every message.
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError, ConfigErrors } from '../errors.js';
import { describePolicy, parseIstioObject, type IstioPolicy } from './istio-objects.js';
import { MAX_SCENARIOS } from './limits.js';
import { CLIENT_PATTERN, TARGET_PATTERN, matchesClient, matchesTarget } from './patterns.js';
import { EXPECTATIONS } from './outcome.js';
import type { ExpectationRule, Scenario } from './scenario.js';
import type { Topology } from './topology.js';
import { displayPath, readYamlFile, type SourceDoc } from './yaml-source.js';

export const SCENARIO_DIR = fileURLToPath(new URL('../../scenarios/', import.meta.url));

/**
 * Is `file` (as a document names it, relative to `cwd`, or to the package when no cwd is known) one of
 * the shipped scenarios, which `explain` and `predict` find without `-f`?
 */
export function isShippedScenario(file: string, cwd?: string): boolean {
  const path = resolve(cwd ?? dirname(resolve(SCENARIO_DIR)), file);
  return dirname(path) === resolve(SCENARIO_DIR);
}

/** More objects than this in one scenario is a mistake, not a test. */
export const MAX_OBJECTS = 200;

const patterns = (re: RegExp, what: string) =>
  z
    .union([z.string(), z.array(z.string()).min(1)])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .pipe(z.array(z.string().regex(re, `must be ${what}`)));
const rule = z.strictObject({
  from: patterns(CLIENT_PATTERN, '"*" or NAMESPACE/WORKLOAD (with * wildcards)'),
  to: patterns(TARGET_PATTERN, '"*" or NAMESPACE/SERVICE[:PORT][ METHOD[ PATH]] (with * wildcards)'),
  expect: z.enum(EXPECTATIONS),
  note: z.string().optional(),
});

const scenarioSchema = z.strictObject({
  apiVersion: z.literal('meshprobe/v1'),
  kind: z.literal('Scenario'),
  metadata: z.strictObject({
    name: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be lower-case letters, digits and "-"')
      .max(63),
  }),
  spec: z.strictObject({
    description: z.string().min(1),
    source: z.union([z.string(), z.array(z.string())]).optional(),
    objects: z.array(z.unknown()).max(MAX_OBJECTS).default([]),
    expect: z
      .strictObject({
        all: z.array(rule).optional(),
        modern: z.array(rule).optional(),
        legacy: z.array(rule).optional(),
      })
      .optional(),
    certificates: z.array(z.string().regex(CLIENT_PATTERN, 'must be NAMESPACE/WORKLOAD')).optional(),
  }),
});

/** Expands directories to their *.yaml / *.yml files (sorted), keeping the order of the arguments. */
export function scenarioFiles(paths: string[]): string[] {
  return paths.flatMap((p) => {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      return [p]; // readYamlFile reports the missing file
    }
    return isDir
      ? readdirSync(p)
          .filter((f) => /\.ya?ml$/.test(f))
          .sort()
          .map((f) => join(p, f))
      : [p];
  });
}

/**
 * Loads every scenario of the given files. All are validated before any is returned, and all errors
 * are reported together: nothing is applied from a set with one bad file.
 */
export function loadScenarios(
  files: string[],
  topology: Topology,
  o: { cwd?: string; rootNamespace?: string } = {},
): Scenario[] {
  const rootNamespace = o.rootNamespace ?? 'istio-system';
  const tooMany = (what: string) =>
    new ConfigError(
      `${what}, more than the limit of ${MAX_SCENARIOS} scenarios in one run`,
      'run them in several batches of files (-f)',
    );
  if (files.length > MAX_SCENARIOS) throw tooMany(`${files.length} scenario files`);
  const errors: ConfigError[] = [];
  const scenarios: Scenario[] = [];
  const names = new Map<string, string>();
  const collect = (e: unknown) => keepConfigErrors(errors, e);
  let documents = 0;
  for (const file of files) {
    let docs: SourceDoc[];
    try {
      docs = readYamlFile(file, o.cwd);
    } catch (e) {
      collect(e);
      continue;
    }
    documents += docs.length;
    if (documents > MAX_SCENARIOS) throw tooMany(`${displayPath(file, o.cwd)}: ${documents} scenario documents so far`);
    try {
      for (const src of docs) {
        const s = loadScenario(src, topology, rootNamespace);
        const first = names.get(s.name);
        if (first) throw src.error(['metadata', 'name'], `scenario "${s.name}" is already defined at ${first}`);
        names.set(s.name, src.where(['metadata', 'name']));
        scenarios.push(s);
      }
    } catch (e) {
      collect(e);
    }
  }
  if (errors.length) throw errors.length === 1 ? errors[0]! : new ConfigErrors(errors);
  return scenarios;
}

/** Adds a bad input (each one of several) to `errors`, to report them all at once; anything else is thrown on. */
function keepConfigErrors(errors: ConfigError[], e: unknown): void {
  if (e instanceof ConfigErrors) errors.push(...e.errors);
  else if (e instanceof ConfigError) errors.push(e);
  else throw e;
}

function loadScenario(src: SourceDoc, topology: Topology, rootNamespace: string): Scenario {
  const doc = src.validate(scenarioSchema);
  const errors: ConfigError[] = [];
  const collect = (f: () => void) => {
    try {
      f();
    } catch (e) {
      keepConfigErrors(errors, e);
    }
  };

  const objects: IstioPolicy[] = [];
  const ours = new Set([rootNamespace, ...topology.namespaces.map((n) => n.name)]);
  const seen = new Map<string, number>();
  doc.spec.objects.forEach((value, i) =>
    collect(() => {
      const path = ['spec', 'objects', i];
      const obj = parseIstioObject(src, path, value, i);
      const id = describePolicy(obj);
      if (seen.has(id))
        throw src.error(
          [...path, 'metadata', 'name'],
          `${id} is defined twice in this scenario (first at objects[${seen.get(id)}])`,
        );
      seen.set(id, i);
      if (obj.namespace !== undefined && !ours.has(obj.namespace)) {
        throw src.error(
          [...path, 'metadata', 'namespace'],
          `"${obj.namespace}" is neither a namespace of the topology (${[...ours].slice(1).join(', ')}) nor the root namespace ${rootNamespace}`,
        );
      }
      objects.push(obj);
    }),
  );

  const expect: Scenario['expect'] = { all: [], modern: [], legacy: [] };
  for (const flavor of ['all', 'modern', 'legacy'] as const) {
    (doc.spec.expect?.[flavor] ?? []).forEach((r, i) =>
      collect(() => {
        const path = ['spec', 'expect', flavor, i];
        for (const [j, p] of r.from.entries()) {
          if (!topology.clients.some((c) => matchesClient(p, c)))
            throw src.error(
              [...path, 'from', ...(typeof src.doc.getIn([...path, 'from']) === 'string' ? [] : [j])],
              `"${p}" matches no client of the topology; clients: ${topology.clients.map((c) => c.id).join(', ')}`,
            );
        }
        for (const [j, p] of r.to.entries()) {
          if (!topology.targets.some((t) => matchesTarget(p, t)))
            throw src.error(
              [...path, 'to', ...(typeof src.doc.getIn([...path, 'to']) === 'string' ? [] : [j])],
              `"${p}" matches no probed port of the topology; targets: ${topology.targets.map((t) => t.id).join(', ')}`,
            );
        }
        const rule: ExpectationRule = { from: r.from, to: r.to, expect: r.expect, where: src.where(path) };
        expect[flavor].push(rule);
      }),
    );
  }

  const certificates = doc.spec.certificates ?? [];
  certificates.forEach((c, i) =>
    collect(() => {
      const [ns, name] = c.split('/');
      if (!topology.workloads.some((w) => w.namespace === ns && w.name === name))
        throw src.error(['spec', 'certificates', i], `"${c}" is not a workload of the topology`);
    }),
  );

  if (errors.length) throw new ConfigErrors(errors);
  const source = doc.spec.source;
  return {
    name: doc.metadata.name,
    description: doc.spec.description.trim(),
    sources: source === undefined ? [] : Array.isArray(source) ? source : [source],
    file: src.name,
    objects,
    expect,
    certificates,
  };
}
