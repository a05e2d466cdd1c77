import { readFileSync, statSync } from 'node:fs';
import { relative } from 'node:path';
import { isMap, isNode, isScalar, LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError, ConfigErrors } from '../errors.js';

/** Files larger than this are refused before parsing: scenario and topology files are a few KiB. */
export const MAX_FILE_BYTES = 1024 * 1024;

export type Path = ReadonlyArray<string | number>;

/** One YAML document of a file, able to say where any of its fields is. */
export class SourceDoc {
  constructor(
    readonly file: string,
    readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    /** Index of this document in a multi-document file. */
    readonly index: number,
  ) {}

  get data(): unknown {
    return this.doc.toJS({ maxAliasCount: 100 });
  }

  /** `file:line:col` of the field at `path` (its key, inside a mapping), or of its nearest ancestor present in the file. */
  where(path: Path): string {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, n), true);
      if (!isNode(node) || !node.range) continue;
      const parent = n === 0 ? undefined : n === 1 ? this.doc.contents : this.doc.getIn(path.slice(0, n - 1), true);
      const key = isMap(parent) ? parent.items.find((p) => isScalar(p.key) && p.key.value === path[n - 1])?.key : undefined;
      const at = isNode(key) && key.range ? key.range[0] : node.range[0];
      const { line, col } = this.lines.linePos(at);
      return `${displayPath(this.file)}:${line}:${col}`;
    }
    return `${displayPath(this.file)}:1:1`;
  }

  /** The path through this document, for messages: `spec.objects[0].spec.mtls.mode`. */
  static fieldName(path: Path): string {
    return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(document)';
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
        return this.error([...path, issue.keys[0] ?? ''], `unknown field "${issue.keys.join('", "')}"; allowed here: ${allowedKeys(schema, issue.path as Path)}`);
      case 'invalid_value':
        return this.error(path, `${this.describe(path)} is not allowed; expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`);
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
  type Def = { type: string; shape?: Record<string, unknown>; element?: unknown; innerType?: unknown; in?: unknown; out?: unknown; options?: unknown[]; valueType?: unknown; left?: unknown };
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
    if (d.type === 'union') cur = unwrap(d.options?.find((o) => defOf(unwrap(o)).type === (typeof step === 'number' ? 'array' : 'object')) ?? d.options?.[0]);
    const def = defOf(cur);
    if (step === null) return def.shape ? Object.keys(def.shape).join(', ') : 'nothing';
    if (def.type === 'object') cur = def.shape?.[String(step)];
    else if (def.type === 'array') cur = def.element;
    else if (def.type === 'record') cur = def.valueType;
    if (!cur) return 'see the documentation';
  }
  return 'see the documentation';
}

/** Reads and parses a YAML file; syntax errors and oversized files become ConfigErrors naming file:line:col. */
export function readYamlFile(file: string): SourceDoc[] {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new ConfigError(`${displayPath(file)}: file not found`, 'check the path; `meshprobe predict --help` lists the flags that take files');
  }
  if (size > MAX_FILE_BYTES) {
    throw new ConfigError(`${displayPath(file)}: file is ${size} bytes, more than the ${MAX_FILE_BYTES}-byte limit for meshprobe files`);
  }
  return parseYaml(file, readFileSync(file, 'utf8'));
}

export function parseYaml(file: string, text: string): SourceDoc[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (!Array.isArray(docs)) return []; // an empty stream
  const errors: ConfigError[] = [];
  for (const doc of docs) {
    for (const e of doc.errors) {
      const pos = e.linePos?.[0];
      const at = pos ? `${pos.line}:${pos.col}` : '1:1';
      errors.push(new ConfigError(`${displayPath(file)}:${at}: invalid YAML: ${e.message.split('\n')[0]}`));
    }
  }
  if (errors.length) throw errors.length === 1 ? errors[0]! : new ConfigErrors(errors);
  return docs.filter((d) => d.contents !== null).map((d, i) => new SourceDoc(file, d, lines, i));
}

/** A path relative to the working directory when it is below it, for messages and reports. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') || rel === '' ? file : rel;
}
