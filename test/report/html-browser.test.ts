// The HTML report in a real browser: Chromium loads the fixture's report.html, the DOM it built is
// checked cell by cell, and screenshots in the light and dark schemes are kept under
// test/artifacts/ (CI keeps them; git ignores them) and checked for the heat-map colours.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { cellKind, CELL_KINDS, type CellKind } from '../../src/report/cells.js';
import { renderHtml } from '../../src/report/html.js';
import { CSS } from '../../src/report/html-style.js';
import { chromium, findChromium } from './chromium.js';
import { runDocument } from './fixture.js';
import { readPng, type Image } from './png.js';

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
const doc = runDocument();
let file: string;

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'meshprobe-html-'));
  file = join(dir, 'report.html');
  writeFileSync(file, renderHtml(doc));
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(join(ARTIFACTS, 'report.html'), renderHtml(doc));
});

/** What Chromium's serialiser escapes: `&`, `<`, `>`, no-break space, and `"` in attribute values. */
const unescape = (s: string): string =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&nbsp;/g, '\u00a0')
    .replace(/&amp;/g, '&');

/** Attributes of a serialised start tag; Chromium writes every value double-quoted. */
function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/\s([\w-]+)="([^"]*)"/g)) out[m[1]!] = unescape(m[2]!);
  return out;
}

const text = (html: string): string => unescape(html.replace(/<[^>]*>/g, ''));

interface RenderedCell {
  td: Record<string, string>;
  a: Record<string, string>;
  text: string;
}

function renderedCells(dom: string): RenderedCell[] {
  const re = /<td((?:\s[\w-]+="[^"]*")*)><a((?:\s[\w-]+="[^"]*")*)>([\s\S]*?)<\/a><\/td>/g;
  return [...dom.matchAll(re)].map((m) => ({ td: attributes(m[1]!), a: attributes(m[2]!), text: text(m[3]!) }));
}

describe('report.html in Chromium', () => {
  it('builds one heat-map cell per matrix cell, with its kind, symbol, hover text and panel', async () => {
    const { stdout: dom } = await chromium(findChromium(), file, ['--dump-dom']);
    const sections = [...dom.matchAll(/<section class="card scenario"((?:\s[\w-]+="[^"]*")*)>/g)].map((m) =>
      attributes(m[1]!),
    );
    expect(sections.map((s) => [s['data-scenario'], s['data-verdict']])).toEqual(
      doc.scenarios.map((s) => [s.name, s.verdict]),
    );

    const cells = renderedCells(dom);
    expect(cells).toHaveLength(doc.summary.cells);
    for (const [si, s] of doc.scenarios.entries()) {
      for (const [i, c] of s.cells.entries()) {
        const r = cells.find((x) => x.a.href === `#c${si}-${i}`);
        expect(r, `${s.name} ${c.from} -> ${c.to}`).toBeDefined();
        expect([r!.td['data-from'], r!.td['data-to'], r!.td['data-kind']]).toEqual([c.from, c.to, cellKind(c)]);
        expect(r!.a.class).toBe(`c k-${cellKind(c)}`);
        expect(r!.a.title).toContain(`${c.from} → ${c.to}`);
        // every cell opens a panel that holds the command to reproduce it
        const panel = dom.match(new RegExp(`<div class="detail" id="c${si}-${i}">([\\s\\S]*?)</div>`));
        expect(panel, `panel c${si}-${i}`).not.toBeNull();
        expect(text(panel![1]!)).toContain(c.observed!.command);
      }
    }

    const byKind = (k: CellKind) => cells.filter((c) => c.td['data-kind'] === k);
    expect(byKind('mtls').every((c) => c.text.startsWith('✔ mTLS'))).toBe(true);
    expect(byKind('plain').every((c) => c.text.startsWith('✔ plain'))).toBe(true);
    expect(
      byKind('blocked')
        .map((c) => c.text)
        .sort(),
    ).toEqual(['✘ 503', '✘ denied', '✘ reset']);
    expect(byKind('unexpected').map((c) => c.text)).toEqual([
      '≠ ✔ mTLSwant ✔ plain',
      '≠ ✘ resetwant ✔ plain',
      '≠ ✘ deniedwant ✔ plain',
    ]);
    expect(byKind('error').map((c) => c.text)).toEqual(['⚠ ERRORprobe failed']);
    const mismatch = byKind('unexpected')[0]!;
    expect(mismatch.a.title).toContain('expected plaintext, observed mtls (HTTP 200, curl exit 0)');
    expect(mismatch.a.title).toContain('peer spiffe://cluster.local/ns/test1/sa/sleep');
    expect(byKind('error')[0]!.a.title).toContain(
      'probe error after 3 attempts: exec: pods "sleep-5d8f7c9b6-x2k4q" not found <pod gone> & 3 retries',
    );

    // text with markup characters stayed text
    expect(dom).toContain('for &lt;test1/httpbin&gt; &amp; a PERMISSIVE "default"');
    expect(dom).not.toMatch(/<test1\/httpbin>|<pod gone>/);
    // the policy YAML, the certificates and the legend are there
    expect(text(dom)).toContain('kind: PeerAuthentication');
    expect(text(dom)).toContain('spiffe://cluster.local/ns/test1/sa/httpbin');
    for (const k of CELL_KINDS) expect(dom).toContain(`<span class="swatch k-${k.kind}">`);
    // self-contained: nothing for the browser to fetch
    expect(dom).not.toMatch(/<(img|link|iframe|object|embed)\b|<script[^>]*\ssrc=|@import|url\(/i);
  });

  it('renders the heat-map colours in the light and the dark scheme (screenshots in test/artifacts/)', async () => {
    const shots: Record<'light' | 'dark', Image> = {} as Record<'light' | 'dark', Image>;
    for (const [scheme, value, name] of [
      ['light', 1, 'report.png'],
      ['dark', 0, 'report-dark.png'],
    ] as const) {
      const png = join(ARTIFACTS, name);
      await chromium(findChromium(), file, [
        `--blink-settings=preferredColorScheme=${value}`,
        `--screenshot=${png}`,
        '--window-size=1400,1000',
        '--hide-scrollbars',
      ]);
      shots[scheme] = readPng(readFileSync(png));
      expect([shots[scheme].width, shots[scheme].height]).toEqual([1400, 1000]);
    }
    const palette = schemes();
    for (const scheme of ['light', 'dark'] as const) {
      const img = shots[scheme];
      const bg = palette[scheme].bg!;
      expect(count(img, bg), `${scheme} page background`).toBeGreaterThan(20_000);
      // the legend shows a swatch of every cell colour at the top of the page
      for (const kind of ['mtls', 'plain', 'app-tls', 'blocked', 'unexpected', 'error'] as const) {
        expect(count(img, palette[scheme][`${kind}-bg`]!), `${scheme} ${kind} swatch`).toBeGreaterThan(150);
      }
    }
    expect(luminance(palette.light.bg!)).toBeGreaterThan(0.9);
    expect(luminance(palette.dark.bg!)).toBeLessThan(0.1);
  });
});

type Rgb = [number, number, number];

/** The stylesheet's colour variables, light (the :root block) and dark (the prefers-color-scheme block). */
function schemes(): Record<'light' | 'dark', Record<string, Rgb>> {
  const dark = CSS.indexOf('@media (prefers-color-scheme: dark)');
  const vars = (css: string) =>
    Object.fromEntries(
      [...css.matchAll(/--([\w-]+): #([0-9a-f]{6})/g)].map((m) => [
        m[1]!,
        [0, 2, 4].map((i) => parseInt(m[2]!.slice(i, i + 2), 16)) as Rgb,
      ]),
    );
  return { light: vars(CSS.slice(0, dark)), dark: vars(CSS.slice(dark, CSS.indexOf('}\n}', dark))) };
}

function count(img: Image, rgb: Rgb): number {
  let n = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const [r, g, b] = img.pixel(x, y);
      if (Math.abs(r - rgb[0]) <= 2 && Math.abs(g - rgb[1]) <= 2 && Math.abs(b - rgb[2]) <= 2) n++;
    }
  }
  return n;
}

const luminance = ([r, g, b]: Rgb): number => (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
