// Istio objects as `kubectl apply -f` takes them: files of multi-document YAML or JSON, directories
// walked for .json/.yaml/.yml (recursively, as with -R), List kinds flattened. The objects meshprobe
// models become policies, validated like a scenario's objects (file:line:column in every message);
// everything else (Deployments, VirtualServices, a Kyverno Policy) is ignored and counted by kind.
import { lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, ConfigErrors } from '../errors.js';
import { API_VERSIONS, describePolicy, isIstioKind, parseIstioObject, type IstioPolicy } from './istio-objects.js';
import { readYamlFile, type Path, type SourceDoc } from './yaml-source.js';

/**
 * The extensions a directory walk keeps: cli-runtime's `FileExtensions` (kubernetes/kubernetes,
 * staging/src/k8s.io/cli-runtime/pkg/resource/builder.go); a file named on its own is read whatever
 * its name (visitor.go, ExpandPathsToFileVisitors: "Don't check extension if the filepath was passed
 * explicitly").
 */
export const MANIFEST_EXTENSIONS = ['.json', '.yaml', '.yml'] as const;

/** Files one side may hold. A policy repository has tens; this many is the wrong directory. */
export const MAX_MANIFEST_FILES = 10_000;

export const isManifestName = (name: string): boolean => MANIFEST_EXTENSIONS.some((e) => name.endsWith(e));

/** A policy and where it was written (`file:line:column`, or `cluster`). */
export interface SourcedPolicy {
  policy: IstioPolicy;
  where: string;
}

/** One side of a diff: the policies it holds, and what else its files held. */
export interface PolicySet {
  policies: SourcedPolicy[];
  /** Files read (0 for the cluster). */
  files: number;
  /** Objects of kinds meshprobe does not model, by `Kind` or `Kind.group` (`Deployment.apps`, `Service`). */
  ignored: Record<string, number>;
}

/**
 * The files `kubectl apply -R -f PATH` reads, in its order: a file as named; a directory walked in
 * lexical order (Go's filepath.Walk), subdirectories included, symbolic links to directories not
 * followed (Walk does not), only MANIFEST_EXTENSIONS kept.
 */
export function manifestFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (isManifestName(name) && (st.isFile() || (st.isSymbolicLink() && statSync(p).isFile()))) {
        found.push(p);
        if (found.length > MAX_MANIFEST_FILES) throw tooManyFiles(path);
      }
    }
  };
  walk(path);
  return found;
}

export const tooManyFiles = (what: string): ConfigError =>
  new ConfigError(
    `${what} holds more than ${MAX_MANIFEST_FILES} .json/.yaml/.yml files`,
    'point the side at the directory of Istio policies, not the whole repository',
  );

/** Reads a side from files on disk (names shown relative to `cwd`). All errors are reported together. */
export function readManifestFiles(files: string[], cwd?: string): PolicySet {
  return policiesOf(files.map((f) => () => readYamlFile(f, cwd)));
}

/**
 * The policies in parsed documents, one thunk per file (so a file that does not parse is reported
 * with the others), in creation order: Istio breaks ties between policies by age, and `kubectl apply`
 * creates them file after file, document after document.
 */
export function policiesOf(files: Array<() => SourceDoc[]>): PolicySet {
  const set: PolicySet = { policies: [], files: files.length, ignored: {} };
  const errors: ConfigError[] = [];
  const seen = new Map<string, string>();
  const keep = (e: unknown) => {
    if (e instanceof ConfigErrors) errors.push(...e.errors);
    else if (e instanceof ConfigError) errors.push(e);
    else throw e;
  };
  for (const read of files) {
    let docs: SourceDoc[];
    try {
      docs = read();
    } catch (e) {
      keep(e);
      continue;
    }
    for (const src of docs) {
      try {
        for (const { value, path } of objectsOf(src)) {
          const policy = policyOf(src, path, value, set);
          if (!policy) continue;
          const id = describePolicy(policy);
          const where = src.where(path);
          const first = seen.get(id);
          if (first)
            throw src.error(
              [...path, 'metadata', 'name'],
              `${id} is defined twice (first at ${first}); kubectl apply would keep only the last`,
              'remove one of the two',
            );
          seen.set(id, where);
          set.policies.push({ policy, where });
        }
      } catch (e) {
        keep(e);
      }
    }
  }
  if (errors.length) throw errors.length === 1 ? errors[0]! : new ConfigErrors(errors);
  return set;
}

type Json = Record<string, unknown>;
const isMapping = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The objects of one document: itself, or the items of a list, flattened however deep (cli-runtime
 * FlattenListVisitor). As apimachinery decodes an unstructured list (unstructured/helpers.go,
 * decodeToList), anything with `items` is a list, and an item with neither kind nor apiVersion takes
 * the list's apiVersion and its kind without the "List" suffix.
 */
function objectsOf(src: SourceDoc): Array<{ value: Json; path: Path }> {
  const out: Array<{ value: Json; path: Path }> = [];
  const visit = (value: unknown, path: Path) => {
    if (!isMapping(value))
      throw src.error(
        path,
        `is ${Array.isArray(value) ? 'a list' : 'not a mapping'}, not a Kubernetes object (a mapping with apiVersion, kind and metadata)`,
      );
    if (!('items' in value) || value.items === null) {
      out.push({ value, path });
      return;
    }
    if (!Array.isArray(value.items)) throw src.error([...path, 'items'], "a list's items must be a list of objects");
    const kind = typeof value.kind === 'string' ? value.kind.replace(/List$/, '') : undefined;
    value.items.forEach((item, i) =>
      visit(
        isMapping(item) && item.kind === undefined && item.apiVersion === undefined && kind
          ? { ...item, apiVersion: value.apiVersion, kind }
          : item,
        [...path, 'items', i],
      ),
    );
  };
  // A document of comments only holds nothing, and kubectl skips it.
  if (src.data !== null) visit(src.data, []);
  return out;
}

const groupOf = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.split('/')[0]! : '');

/** The policy an object is, or undefined (and counted) when it is of a kind meshprobe does not model. */
function policyOf(src: SourceDoc, path: Path, value: Json, set: PolicySet): IstioPolicy | undefined {
  // kubectl refuses both: "Object 'Kind' is missing" (runtime.NewMissingKindErr), "apiVersion not set".
  for (const field of ['apiVersion', 'kind'] as const)
    if (typeof value[field] !== 'string' || value[field] === '')
      throw src.error([...path, field], 'is required: kubectl apply refuses an object without it');
  const kind = value.kind as string;
  const group = groupOf(value.apiVersion as string);
  // A kind of the same name in another API group (Kyverno's Policy) is not Istio's.
  if (!isIstioKind(kind) || !API_VERSIONS[kind].some((v) => groupOf(v) === group)) {
    const key = group ? `${kind}.${group}` : kind;
    set.ignored[key] = (set.ignored[key] ?? 0) + 1;
    return undefined;
  }
  const metadata = value.metadata;
  if (kind !== 'MeshPolicy' && isMapping(metadata) && metadata.namespace === undefined)
    throw src.error(
      [...path, 'metadata'],
      'has no namespace: kubectl apply would put the object in the namespace of the current context, which meshprobe cannot know without a cluster',
      'write metadata.namespace in the file',
    );
  return parseIstioObject(src, path, value, set.policies.length);
}
