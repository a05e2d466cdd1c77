// Helpers for the emulator's own tests: the real kubectl with an isolated cache and home, and raw
// HTTPS requests that trust the emulator's CA.
import { execFile, type ExecFileException } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Emulator } from './index.js';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `kubectl` is the gcloud dispatcher; the versioned binaries sit beside its real path. */
export function kubectlBinary(version?: string): string {
  if (!version) return 'kubectl';
  const which = process.env.PATH?.split(':')
    .map((d) => join(d, 'kubectl'))
    .find((p) => {
      try {
        realpathSync(p);
        return true;
      } catch {
        return false;
      }
    });
  if (!which) throw new Error('kubectl is not on PATH');
  return join(dirname(realpathSync(which)), `kubectl.${version}`);
}

/**
 * Runs kubectl against a kubeconfig, each call with its own discovery cache directory and HOME, so no
 * call sees another's cached discovery (or the developer's ~/.kube).
 */
export function kubectl(
  kubeconfig: string,
  args: string[],
  options: { stdin?: string; binary?: string; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<KubectlResult> {
  const home = mkdtempSync(join(tmpdir(), 'meshprobe-kubectl-'));
  return new Promise((resolve) => {
    const child = execFile(
      options.binary ?? 'kubectl',
      ['--kubeconfig', kubeconfig, '--cache-dir', join(home, 'cache'), ...args],
      {
        env: { PATH: process.env.PATH ?? '', HOME: home, ...options.env },
        timeout: options.timeoutMs ?? 30_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error: ExecFileException | null, stdout, stderr) => {
        rmSync(home, { recursive: true, force: true });
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
          stdout: String(stdout),
          stderr: String(stderr),
        });
      },
    );
    if (options.stdin !== undefined) child.stdin?.end(options.stdin);
    else child.stdin?.end();
  });
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  // Test code reads response bodies loosely.
  json: () => any;
}

/** One HTTPS request to the emulator; `token: null` sends no Authorization header. */
export function raw(
  emu: Emulator,
  method: string,
  path: string,
  options: { token?: string | null; body?: string; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
    const token = options.token === undefined ? emu.token : options.token;
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['Content-Type'] ??= 'application/json';
    const req = request(`${emu.server}${path}`, { method, headers, ca: emu.caPem }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Polls until `check` returns a value (not undefined), or throws after `timeoutMs`. */
export async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const NAMESPACE_YAML = (name: string, labels: Record<string, string> = {}): string =>
  [
    'apiVersion: v1',
    'kind: Namespace',
    'metadata:',
    `  name: ${name}`,
    ...(Object.keys(labels).length > 0
      ? ['  labels:', ...Object.entries(labels).map(([k, v]) => `    ${k}: "${v}"`)]
      : []),
    '',
  ].join('\n');
