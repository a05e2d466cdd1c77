// junit.xml read back: well-formed XML, the structure of the JUnit schema that Jenkins (xunit's
// junit-10.xsd) and GitLab read, and the counts, names and messages meshprobe promises.
import { describe, expect, it } from 'vitest';
import type { ReportDocument } from '../../src/report/document.js';
import { renderJunit } from '../../src/report/junit.js';
import { predictDocument, runDocument } from './fixture.js';
import { parseXml, type XmlElement } from './xml.js';

/** Per element: allowed children, required and optional attributes (junit-10.xsd, restated). */
const SCHEMA: Record<string, { children: string[]; required: string[]; optional: string[] }> = {
  testsuites: { children: ['testsuite'], required: [], optional: ['name', 'time', 'tests', 'failures', 'errors'] },
  testsuite: {
    children: ['testsuite', 'properties', 'testcase', 'system-out', 'system-err'],
    required: ['name', 'tests', 'failures', 'errors'],
    optional: ['group', 'time', 'skipped', 'timestamp', 'hostname', 'id', 'package', 'file', 'log', 'url'],
  },
  properties: { children: ['property'], required: [], optional: [] },
  property: { children: [], required: ['name', 'value'], optional: [] },
  testcase: {
    children: ['skipped', 'error', 'failure', 'system-out', 'system-err'],
    required: ['name'],
    optional: ['time', 'classname', 'group'],
  },
  failure: { children: [], required: [], optional: ['type', 'message'] },
  error: { children: [], required: [], optional: ['type', 'message'] },
  skipped: { children: [], required: [], optional: ['type', 'message'] },
  'system-out': { children: [], required: [], optional: [] },
  'system-err': { children: [], required: [], optional: [] },
};
const TIME = /^\d+(\.\d+)?$/;
const COUNT = /^\d+$/;

function conforms(el: XmlElement, path = el.name): void {
  const rule = SCHEMA[el.name];
  expect(rule, `${path}: unknown element`).toBeDefined();
  for (const a of rule!.required) expect(el.attributes, `${path} needs @${a}`).toHaveProperty(a);
  for (const a of Object.keys(el.attributes))
    expect([...rule!.required, ...rule!.optional], `${path}: @${a} not in the schema`).toContain(a);
  if (el.attributes.time !== undefined) expect(el.attributes.time, `${path}@time`).toMatch(TIME);
  for (const a of ['tests', 'failures', 'errors', 'skipped'])
    if (el.attributes[a] !== undefined && el.name !== 'testcase')
      expect(el.attributes[a], `${path}@${a}`).toMatch(COUNT);
  if (el.name === 'testsuite' && el.attributes.timestamp)
    expect(el.attributes.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
  for (const child of el.children) {
    expect(rule!.children, `${path} > ${child.name}`).toContain(child.name);
    conforms(child, `${path} > ${child.name}`);
  }
}

const all = (el: XmlElement, name: string): XmlElement[] => [
  ...(el.name === name ? [el] : []),
  ...el.children.flatMap((c) => all(c, name)),
];

function readBack(doc: ReportDocument): XmlElement {
  const root = parseXml(renderJunit(doc));
  conforms(root);
  return root;
}

describe('junit.xml read back', () => {
  it('is a testsuites root with one testsuite per scenario and one testcase per cell, counts adding up', () => {
    const doc = runDocument();
    const root = readBack(doc);
    expect(root.name).toBe('testsuites');
    expect(root.attributes).toMatchObject({
      name: 'meshprobe run',
      tests: '24',
      failures: '3',
      errors: '1',
      time: '25.950',
    });
    const suites = root.children.filter((c) => c.name === 'testsuite');
    expect(suites.map((s) => s.attributes.name)).toEqual([
      'mesh-strict',
      'dr-disable-test1',
      'port-level',
      'authz-deny-other',
    ]);
    for (const [i, suite] of suites.entries()) {
      const scenario = doc.scenarios[i]!;
      const cases = suite.children.filter((c) => c.name === 'testcase');
      expect(cases.map((c) => [c.attributes.classname, c.attributes.name])).toEqual(
        scenario.cells.map((c) => [scenario.name, `${c.from} -> ${c.to}`]),
      );
      expect(Number(suite.attributes.tests)).toBe(cases.length);
      expect(Number(suite.attributes.failures)).toBe(all(suite, 'failure').length);
      expect(Number(suite.attributes.errors)).toBe(all(suite, 'error').length);
    }
    expect(suites.map((s) => s.attributes.time)).toEqual(['6.400', '12.250', '3.100', '4.200']);
    // GitLab keeps only the first of duplicate names; cells are unique within a scenario
    for (const suite of suites) {
      const names = all(suite, 'testcase').map((c) => c.attributes.name);
      expect(new Set(names).size).toBe(names.length);
    }
  });

  it('reports a mismatch as <failure> with expected vs observed, HTTP code, curl exit and the kubectl exec line', () => {
    const root = readBack(runDocument());
    const failures = all(root, 'testcase').filter((c) => c.children.some((x) => x.name === 'failure'));
    expect(failures.map((c) => `${c.attributes.classname}: ${c.attributes.name}`)).toEqual([
      'dr-disable-test1: test1/sleep -> test1/httpbin:8000',
      'dr-disable-test1: test3/sleep -> test1/httpbin:8000',
      'authz-deny-other: test3/sleep -> test1/httpbin:8000',
    ]);
    const f = failures[1]!.children.find((x) => x.name === 'failure')!;
    expect(f.attributes.type).toBe('mismatch');
    expect(f.attributes.message).toBe(
      "expected plaintext, observed reset (HTTP 000, curl exit 56); reproduce: kubectl --context staging exec -n test3 deploy/sleep -c sleep -- curl -sS -o /dev/null -w '%{http_code}' --max-time 5 http://httpbin.test1:8000/headers",
    );
    expect(f.text).toContain('expected:    plaintext (scenario rule scenarios/dr-disable-test1.yaml:25:9)');
    expect(f.text).toContain('attempts:    4');
    expect(f.text).toContain('server side: PeerAuthentication istio-system/default: mesh-wide: STRICT');
  });

  it('reports a probe that could not run as <error>, never as <failure>', () => {
    const root = readBack(runDocument());
    const errors = all(root, 'error');
    expect(errors).toHaveLength(1);
    const testcase = all(root, 'testcase').find((c) => c.children.includes(errors[0]!))!;
    expect(testcase.attributes).toEqual({ classname: 'port-level', name: 'test1/sleep -> test1/httpbin:8000' });
    expect(testcase.children.map((c) => c.name)).toEqual(['error']);
    expect(errors[0]!.attributes.type).toBe('probe-error');
    expect(errors[0]!.attributes.message).toMatch(
      /^probe error after 3 attempts: exec: pods "sleep-5d8f7c9b6-x2k4q" not found <pod gone> & 3 retries; reproduce: kubectl .* exec -n test1 /,
    );
    expect(errors[0]!.text).not.toContain('HTTP code'); // curl never ran
  });

  it('passes a matching cell with what was observed in <system-out>', () => {
    const root = readBack(runDocument());
    const pass = all(root, 'testcase')[0]!;
    expect(pass.children.map((c) => [c.name, c.text])).toEqual([
      ['system-out', 'observed mtls (HTTP 200, curl exit 0), peer spiffe://cluster.local/ns/test1/sa/sleep'],
    ]);
  });

  it('for predict, fails a cell where the scenario and the oracle disagree, with the explain command', () => {
    const root = readBack(predictDocument());
    expect(root.attributes).toMatchObject({ name: 'meshprobe predict', tests: '12', failures: '1', errors: '0' });
    const f = all(root, 'failure');
    expect(f).toHaveLength(1);
    expect(f[0]!.attributes).toEqual({
      type: 'prediction-mismatch',
      message:
        'expected mtls, predicted plaintext; reproduce: meshprobe explain --scenario wrong-expectation --from test3/sleep --to test1/httpbin:8000 --istio legacy',
    });
  });

  it('survives names and errors with markup, quotes, line breaks and control characters', () => {
    const doc = runDocument();
    const cell = doc.scenarios[2]!.cells[0]!;
    cell.observed!.error = 'exec failed: <html>&nbsp;"quoted" \'single\'\nsecond line\u0007bell\u001b[31m]]>';
    const root = readBack(doc);
    const error = all(root, 'error')[0]!;
    expect(error.attributes.message).toContain(
      'exec failed: <html>&nbsp;"quoted" \'single\'\nsecond line\uFFFDbell\uFFFD[31m]]>',
    );
    expect(error.text).toContain('second line\uFFFDbell');
  });
});

describe('the test XML parser', () => {
  it('rejects what would make junit.xml unreadable', () => {
    const head = '<?xml version="1.0" encoding="UTF-8"?>\n';
    expect(() => parseXml(`${head}<a><b></a></b>`)).toThrow(/closes/);
    expect(() => parseXml(`${head}<a>x < y</a>`)).toThrow(/bad tag|unescaped/);
    expect(() => parseXml(`${head}<a>fish & chips</a>`)).toThrow(/unescaped/);
    expect(() => parseXml(`${head}<a m="1 < 2"/>`)).toThrow(/unescaped/);
    expect(() => parseXml(`${head}<a>\u0007</a>`)).toThrow(/not allowed/);
    expect(() => parseXml(`${head}<a/><b/>`)).toThrow(/after the root/);
    expect(parseXml(`${head}<a m="x&#10;y">1 &lt; 2 &amp; 3</a>`)).toEqual({
      name: 'a',
      attributes: { m: 'x\ny' },
      children: [],
      text: '1 < 2 & 3',
    });
  });
});
