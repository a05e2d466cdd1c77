import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import {
  Composer,
  isAlias,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  Parser,
  type CST,
  type Document,
} from 'yaml';
import type { z } from 'zod';
import { ConfigError, ConfigErrors } from '../errors.js';

/** Files larger than this are refused before parsing: scenario and topology files are a few KiB. */
export const MAX_FILE_BYTES = 1024 * 1024;

/**
 * Mappings and lists nested deeper than this are refused before they are built. meshprobe's files and
 * workload manifests nest about ten levels; thousands of levels would overflow the stack of the YAML
 * composer (and a second overflow in one process has been seen to abort Node outright).
 */
export const MAX_DEPTH = 64;

/** Nodes a document may expand to through its aliases, counting each alias as a copy of what it names. */
export const MAX_NODES = 1_000_000;

export type Path = ReadonlyArray<string | number>;

/** One YAML document of a file, able to say where any of its fields is. */
export class SourceDoc {
  constructor(
    readonly file: string,
    /** `file` as messages and reports show it (displayPath). */
    readonly name: string,
    readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    /** Index of this document in a multi-document file. */
    readonly index: number,
  ) {}

  private cached: { value: unknown } | undefined;

  /** The document as plain JSON data; anything JSON cannot hold (binary, sets, dates, .inf) is a located error. */
  get data(): unknown {
    if (!this.cached) {
      let value: unknown;
      try {
        value = this.doc.toJS({ maxAliasCount: 100 });
      } catch (e) {
        throw this.error([], `cannot be expanded: ${(e as Error).message}`);
      }
      this.checkJson(value);
      this.cached = { value };
    }
    return this.cached.value;
  }

  /** Iterative: the document is known to be acyclic and bounded (checkStructure) by now. */
  private checkJson(value: unknown): void {
    const stack: Array<{ v: unknown; path: Path }> = [{ v: value, path: [] }];
    while (stack.length) {
      const { v, path } = stack.pop()!;
      if (v === null || typeof v === 'string' || typeof v === 'boolean') continue;
      if (typeof v === 'number') {
        if (!Number.isFinite(v))
          throw this.error(path, `${v} is not a number meshprobe or Kubernetes can use (JSON has no infinity or NaN)`);
        continue;
      }
      if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, path: [...path, i] }));
      else if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype)
        for (const [k, x] of Object.entries(v)) stack.push({ v: x, path: [...path, k] });
      else
        throw this.error(
          path,
          `is a ${describeType(v)}, which a JSON document cannot hold; use a plain string, number, boolean, list or mapping`,
        );
    }
  }

  /** `file:line:col` of the field at `path` (its key, inside a mapping), or of its nearest ancestor present in the file. */
  where(path: Path): string {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, n), true);
      if (!isNode(node) || !node.range) continue;
      const parent = n === 0 ? undefined : n === 1 ? this.doc.contents : this.doc.getIn(path.slice(0, n - 1), true);
      const key = isMap(parent)
        ? parent.items.find((p) => isScalar(p.key) && p.key.value === path[n - 1])?.key
        : undefined;
      const at = isNode(key) && key.range ? key.range[0] : node.range[0];
      const { line, col } = this.lines.linePos(at);
      return `${this.name}:${line}:${col}`;
    }
    return `${this.name}:1:1`;
  }

  /** The path through this document, for messages: `spec.objects[0].spec.mtls.mode`. */
  static fieldName(path: Path): string {
    return (
      path
        .map((p, i) =>
          typeof p === 'number'
            ? `[${p}]`
            : !/^[A-Za-z0-9_][\w-]*$/.test(p)
              ? `[${JSON.stringify(p)}]`
              : i === 0
                ? p
                : `.${p}`,
        )
        .join('') || '(document)'
    );
  }

  error(path: Path, message: string, fix?: string): ConfigError {
    return new ConfigError(`${this.where(path)}: ${SourceDoc.fieldName(path)}: ${message}`, fix);
  }

  /** Validates the document (or a part of it) with a zod schema; every issue becomes a located error. */
  validate<T>(schema: z.ZodType<T>, value: unknown = this.data, base: Path = []): T {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    throw new ConfigErrors(result.error.issues.map((issue) => this.issueError(schema, issue, base)));
  }

  private issueError(schema: z.ZodType, issue: z.core.$ZodIssue, base: Path): ConfigError {
    const path = [...base, ...(issue.path as Array<string | number>)];
    switch (issue.code) {
      case 'unrecognized_keys':
        return this.error(
          [...path, issue.keys[0] ?? ''],
          `unknown field "${issue.keys.join('", "')}"; allowed here: ${allowedKeys(schema, issue.path as Path)}`,
        );
      case 'invalid_value':
        return this.error(
          path,
          `${this.describe(path)} is not allowed; expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`,
        );
      case 'invalid_type':
        if (issue.expected === 'undefined') return this.error(path, issue.message);
        if (this.valueAt(path) === undefined) return this.error(path, `is required (${issue.expected})`);
        return this.error(path, `${this.describe(path)} is not a valid ${issue.expected}`);
      default:
        return this.error(path, issue.message);
    }
  }

  private valueAt(path: Path): unknown {
    const node = path.length === 0 ? this.doc.contents : this.doc.getIn(path, true);
    if (node === undefined || node === null) return undefined;
    if (isScalar(node)) return node.value;
    return isMap(node) ? {} : node;
  }

  private describe(path: Path): string {
    const v = this.valueAt(path);
    if (v === null || v === undefined) return 'an empty value';
    if (typeof v === 'object') return Array.isArray(v) ? 'a list' : 'a mapping';
    return JSON.stringify(v);
  }
}

/** The field names an object schema accepts at `path`, found by walking the schema as the issue walked the value. */
function allowedKeys(schema: z.ZodType, path: Path): string {
  type Def = {
    type: string;
    shape?: Record<string, unknown>;
    element?: unknown;
    innerType?: unknown;
    in?: unknown;
    out?: unknown;
    options?: unknown[];
    valueType?: unknown;
    left?: unknown;
  };
  const defOf = (s: unknown): Def => (s as { _zod: { def: Def } })._zod.def;
  const unwrap = (s: unknown): unknown => {
    for (;;) {
      const d = defOf(s);
      if (d.innerType) s = d.innerType;
      else if (d.type === 'pipe') s = d.in;
      else return s;
    }
  };
  let cur: unknown = schema;
  for (const step of [...path, null]) {
    cur = unwrap(cur);
    const d = defOf(cur);
    if (d.type === 'union')
      cur = unwrap(
        d.options?.find((o) => defOf(unwrap(o)).type === (typeof step === 'number' ? 'array' : 'object')) ??
          d.options?.[0],
      );
    const def = defOf(cur);
    if (step === null) return def.shape ? Object.keys(def.shape).join(', ') : 'nothing';
    if (def.type === 'object') cur = def.shape?.[String(step)];
    else if (def.type === 'array') cur = def.element;
    else if (def.type === 'record') cur = def.valueType;
    if (!cur) return 'see the documentation';
  }
  return 'see the documentation';
}

/**
 * Reads and parses a YAML file; syntax errors and oversized files become ConfigErrors naming file:line:col.
 * Reads at most MAX_FILE_BYTES + 1 bytes whatever the file is (a pipe, /dev/zero, a file still growing).
 */
export function readYamlFile(file: string, cwd?: string): SourceDoc[] {
  const name = displayPath(file, cwd);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new ConfigError(
        `${name}: file not found`,
        'check the path; `meshprobe predict --help` lists the flags that take files',
      );
    throw new ConfigError(`${name}: cannot read: ${code === 'EACCES' ? 'permission denied' : (e as Error).message}`);
  }
  let text: string;
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new ConfigError(`${name}: is a directory, not a YAML file`);
    if (stat.isFile() && stat.size > MAX_FILE_BYTES) throw tooLarge(`${name}: file is ${stat.size} bytes, more than`);
    const buf = Buffer.alloc(MAX_FILE_BYTES + 1);
    let length = 0;
    for (let n = -1; n !== 0 && length < buf.length; length += n)
      n = readSync(fd, buf, length, buf.length - length, null);
    if (length > MAX_FILE_BYTES) throw tooLarge(`${name}: file has more than`);
    text = buf.toString('utf8', 0, length);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`${name}: cannot read: ${(e as Error).message}`);
  } finally {
    closeSync(fd);
  }
  return parseYaml(file, text, cwd);
}

const tooLarge = (what: string) =>
  new ConfigError(
    `${what} the ${MAX_FILE_BYTES}-byte limit for meshprobe files`,
    'scenario, topology and manifest files are a few KiB: split the file, or check that it is the right one',
  );

export function parseYaml(file: string, text: string, cwd?: string): SourceDoc[] {
  const name = displayPath(file, cwd);
  const lines = new LineCounter();
  const at = (offset: number | undefined) => {
    const { line, col } = offset === undefined || offset < 0 ? { line: 1, col: 1 } : lines.linePos(offset);
    return `${name}:${line}:${col}`;
  };
  // Each document's syntax tree is checked for depth before the (recursive) composer sees it.
  function* shallow(tokens: Iterable<CST.Token>): Generator<CST.Token> {
    for (const token of tokens) {
      const deep = tooDeep(token);
      if (deep !== undefined)
        throw new ConfigError(
          `${at(deep)}: nested more than ${MAX_DEPTH} levels deep`,
          'meshprobe files nest about ten levels; check the indentation and brackets',
        );
      yield token;
    }
  }
  const composer = new Composer({ uniqueKeys: true });
  const docs = Array.from(composer.compose(shallow(new Parser(lines.addNewLine).parse(text))));
  const errors: ConfigError[] = [];
  for (const doc of docs) {
    for (const e of doc.errors)
      errors.push(new ConfigError(`${at(e.pos[0])}: invalid YAML: ${e.message.split('\n')[0]}`));
  }
  if (errors.length) throw errors.length === 1 ? errors[0]! : new ConfigErrors(errors);
  for (const doc of docs)
    checkStructure(
      doc,
      (node, message) => new ConfigError(`${at(isNode(node) ? node.range?.[0] : undefined)}: ${message}`),
    );
  return docs.filter((d) => d.contents !== null).map((d, i) => new SourceDoc(file, name, d, lines, i));
}

/** The offset of the first collection nested more than MAX_DEPTH levels deep in a syntax tree, if any. */
function tooDeep(root: CST.Token): number | undefined {
  const stack: Array<{ token: CST.Token | null | undefined; depth: number }> = [{ token: root, depth: 0 }];
  while (stack.length) {
    const { token, depth } = stack.pop()!;
    if (!token) continue;
    if (token.type === 'document') stack.push({ token: token.value, depth });
    else if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      if (depth >= MAX_DEPTH) return token.offset;
      for (const item of token.items)
        stack.push({ token: item.key, depth: depth + 1 }, { token: item.value, depth: depth + 1 });
    }
  }
  return undefined;
}

/**
 * What toJS would build, checked first: aliases are followed (a cycle, or an expansion past MAX_DEPTH
 * or MAX_NODES, is refused), and mapping keys must be plain scalars (JSON has no other keys).
 */
function checkStructure(doc: Document.Parsed, error: (node: unknown, message: string) => ConfigError): void {
  type Entry = { node: unknown; depth: number; parent: Entry | undefined };
  const stack: Entry[] = [{ node: doc.contents, depth: 0, parent: undefined }];
  for (let visits = 0; stack.length; visits++) {
    const entry = stack.pop()!;
    const node = entry.node;
    if (visits > MAX_NODES) throw error(doc.contents, `expands to more than ${MAX_NODES} values through its aliases`);
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (!target) throw error(node, `alias *${node.source} names no anchor defined before it`);
      for (let a = entry.parent; a; a = a.parent)
        if (a.node === target)
          throw error(node, `alias *${node.source} refers to a node that contains it; JSON cannot hold a cycle`);
      stack.push({ node: target, depth: entry.depth, parent: entry.parent });
    } else if (isMap(node) || isSeq(node)) {
      if (entry.depth >= MAX_DEPTH) throw error(node, `nested more than ${MAX_DEPTH} levels deep (following aliases)`);
      for (const item of node.items as unknown[]) {
        if (isPair(item)) {
          if (item.key !== null && !isScalar(item.key))
            throw error(
              isNode(item.key) && item.key.range ? item.key : node,
              'a mapping key must be a plain value, not a list, a mapping or an alias',
            );
          stack.push({ node: item.value, depth: entry.depth + 1, parent: entry });
        } else stack.push({ node: item, depth: entry.depth + 1, parent: entry });
      }
    }
  }
}

function describeType(v: unknown): string {
  if (v instanceof Uint8Array) return 'binary value (!!binary)';
  if (v instanceof Date) return 'timestamp';
  if (v instanceof Set) return 'set (!!set)';
  if (v instanceof Map) return 'ordered map (!!omap or !!pairs)';
  return typeof v === 'bigint' ? 'big integer' : typeof v;
}

/**
 * A path relative to the working directory `cwd` when it is below it, for messages and reports; as
 * given without a `cwd` (the CLI passes its own; the core never reads the process's).
 */
export function displayPath(file: string, cwd?: string): string {
  if (cwd === undefined) return file;
  const rel = relative(cwd, resolve(cwd, file));
  return rel.startsWith('..') || rel === '' ? file : rel;
}
