// From one curl result to the outcome vocabulary of DESIGN.md.
import type { ObservedCell } from '../model/cell.js';
import type { NetworkOutcome } from '../model/outcome.js';
import type { Target } from '../model/topology.js';
import type { ProbeRecord } from './parse.js';

/** An observed cell but for what the round adds (attempts, the reproduce command). */
type Unprobed<C> = C extends unknown ? Omit<C, 'attempts' | 'command'> : never;
export type Classified = Unprobed<ObservedCell>;

/** curl exit codes of the TLS layer (libcurl's CURLE_SSL_* family and friends). */
const TLS_EXITS = new Set([35, 51, 53, 54, 58, 59, 60, 64, 66, 77, 80, 83, 90, 91]);

/** How the probe script ended: its exit code and what it wrote on stderr, for cells curl left no answer in. */
export interface ScriptEnd {
  exitCode: number;
  stderr: string;
}

export function classify(rec: ProbeRecord | undefined, target: Target, script?: ScriptEnd): Classified {
  if (!rec || rec.curlExit === undefined)
    return { outcome: 'error', error: `no result for this target: the probe script stopped early${scriptEnd(script)}` };
  const { curlExit, httpCode } = rec;
  const base = { curlExit, ...(httpCode ? { httpCode } : {}) };
  const done = (outcome: NetworkOutcome, extra: { peer?: string; detail?: string } = {}): Classified => ({
    outcome,
    ...base,
    ...(extra.peer !== undefined ? { peer: extra.peer } : {}),
    ...(extra.detail !== undefined ? { detail: extra.detail } : {}),
  });

  if (curlExit === 0) {
    const code = httpCode ?? 0;
    if (code >= 200 && code < 400) {
      if (target.scheme === 'https') return done('reached');
      const xfcc = forwardedClientCert(rec.body);
      if (xfcc === undefined)
        return done('reached', { detail: 'the response is not a headers echo: mTLS not observable' });
      if (xfcc === null) return done('plaintext');
      return done('mtls', { peer: /URI=(spiffe:\/\/[^;,"\s]+)/.exec(xfcc)?.[1] });
    }
    if (code === 503 && /upstream connect error|no healthy upstream|upstream request timeout/i.test(rec.body))
      return done('upstream-error', { detail: rec.body.slice(0, 200) });
    // Envoy's RBAC filter (source/extensions/filters/http/rbac/rbac_filter.cc) answers a denied request with
    // sendLocalReply(Forbidden, "RBAC: access denied"); only the server's sidecar has RBAC filters here.
    if (code === 403 && rec.body.startsWith('RBAC: access denied'))
      return done('denied', { detail: rec.body.slice(0, 200) });
    return done('http-error', { detail: rec.body.slice(0, 200) });
  }
  const detail = rec.curlError;
  if (curlExit === 56) return done(/SSL|TLS|alert|certificate/i.test(detail ?? '') ? 'tls-error' : 'reset', { detail });
  // 52 "Empty reply from server" is also how a TCP port's RBAC deny looks: the server sidecar's network filter
  // closes the connection after the request's first bytes. Nothing in it tells that apart from any other
  // close, so it stays `reset`, and the oracle's reason names the policy.
  if (curlExit === 52 || curlExit === 55) return done('reset', { detail });
  if (TLS_EXITS.has(curlExit)) return done('tls-error', { detail });
  if (curlExit === 28) return done('timeout', { detail });
  if (curlExit === 6) return done('dns', { detail });
  if (curlExit === 7) return done('refused', { detail });
  if (curlExit === 126 || curlExit === 127)
    return { outcome: 'error', ...base, error: `curl cannot be run in the client container${scriptEnd(script)}` };
  if (curlExit > 128)
    return { outcome: 'error', ...base, error: `curl was killed (signal ${curlExit - 128})${scriptEnd(script)}` };
  return { outcome: 'error', ...base, error: `curl exit ${curlExit}${detail ? `: ${detail}` : ''}` };
}

/** ` (exit 137; sh: 1: curl: not found)`: the script's own exit code and the last lines of its stderr. */
function scriptEnd(script: ScriptEnd | undefined): string {
  if (!script) return '';
  const stderr = script.stderr.trim().split('\n').slice(-3).join(' | ').slice(-300);
  const parts = [...(script.exitCode ? [`exit ${script.exitCode}`] : []), ...(stderr ? [`stderr: ${stderr}`] : [])];
  return parts.length ? ` (${parts.join('; ')})` : '';
}

/**
 * The X-Forwarded-Client-Cert header from an httpbin `/headers` body: a string in Python httpbin,
 * an array in go-httpbin. undefined: not a headers echo; null: no such header.
 */
export function forwardedClientCert(body: string): string | null | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const headers = (parsed as { headers?: unknown })?.headers;
  if (!headers || typeof headers !== 'object') return undefined;
  const entry = Object.entries(headers).find(([k]) => k.toLowerCase() === 'x-forwarded-client-cert');
  if (!entry) return null;
  const v = entry[1];
  return Array.isArray(v) ? String(v[0] ?? '') : String(v);
}
