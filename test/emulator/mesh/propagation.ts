// The propagation delay range, as the CLI (`--propagation`), MESH_PROPAGATION_DELAY_MS and the options
// name it: "MIN-MAX" or one value, each a number with `ms` or `s` ("500ms-2s", "0.5-2s", "15s-25s").
// A unit written only after MAX applies to MIN too; without any unit the numbers are milliseconds.
export interface DelayRange {
  min: number;
  max: number;
}

/** The default: a small, idle mesh (istiod pushes within a second or two). */
export const DEFAULT_PROPAGATION: DelayRange = { min: 500, max: 2000 };

/** Longer than any sensible run: a typo such as "15000s" is refused rather than waited for. */
const LIMIT_MS = 10 * 60_000;

const VALUE = String.raw`(\d+(?:\.\d+)?)\s*(ms|s)?`;

export function parsePropagation(text: string, what = '--propagation'): DelayRange {
  const m = new RegExp(String.raw`^\s*${VALUE}\s*(?:-\s*${VALUE}\s*)?$`).exec(text);
  const fix = `write MIN-MAX with ms or s, e.g. "500ms-2s" or "15s-25s"`;
  if (!m) throw new Error(`${what} "${text}" is not a delay range: ${fix}`);
  const [, a, ua, b, ub] = m;
  const unitMin = ua ?? ub ?? 'ms';
  const unitMax = ub ?? ua ?? 'ms';
  const ms = (n: string, unit: string) => Math.round(Number(n) * (unit === 's' ? 1000 : 1));
  const range = { min: ms(a!, unitMin), max: b !== undefined ? ms(b, unitMax) : ms(a!, unitMin) };
  if (range.min > range.max) throw new Error(`${what} "${text}": MIN is larger than MAX; ${fix}`);
  if (range.max > LIMIT_MS) throw new Error(`${what} "${text}": at most 600s`);
  return range;
}

export function formatPropagation(r: DelayRange): string {
  const f = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);
  return r.min === r.max ? f(r.min) : `${f(r.min)}-${f(r.max)}`;
}
