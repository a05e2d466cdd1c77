// pods/log: the container's log as the kubelet returns it, cut by the PodLogOptions that need no per-line
// time: tailLines (the last N lines, pkg/kubelet/kuberuntime/logs/logs.go) and limitBytes (the first N bytes
// of that, a LimitedWriter). The options are checked as ValidatePodLogOptions (pkg/apis/core/validation)
// checks them. sinceSeconds, sinceTime and timestamps are not applied: the runtimes keep no time per line.
import type { ServerResponse } from 'node:http';
import type { ContainerRuntime, KubeObject } from '../contracts.js';
import { badRequest, invalid, type FieldError } from './status.js';

export interface LogCut {
  tailLines?: number;
  limitBytes?: number;
}

export function logCut(q: URLSearchParams, podName: string): LogCut {
  const cut: LogCut = {};
  const errors: FieldError[] = [];
  for (const [param, key, min, detail] of [
    ['tailLines', 'tailLines', 0, 'must be greater than or equal to 0'],
    ['limitBytes', 'limitBytes', 1, 'must be greater than 0'],
  ] as const) {
    const raw = q.get(param);
    if (raw === null) continue;
    // The query parameter converter's own complaint, before any validation.
    if (!/^-?\d+$/.test(raw)) throw badRequest(`strconv.ParseInt: parsing "${raw}": invalid syntax`);
    const n = Number(raw);
    if (n < min) errors.push({ type: 'FieldValueInvalid', field: key, value: String(n), detail });
    else cut[key] = n;
  }
  if (errors.length > 0) throw invalid('', 'PodLogOptions', podName, errors);
  return cut;
}

export function cutLog(text: string, cut: LogCut): Buffer {
  let out = text;
  if (cut.tailLines !== undefined) {
    const terminated = out.endsWith('\n');
    const lines = (terminated ? out.slice(0, -1) : out).split('\n');
    const kept = out === '' || cut.tailLines === 0 ? [] : lines.slice(-cut.tailLines);
    out = kept.length === 0 ? '' : `${kept.join('\n')}${terminated ? '\n' : ''}`;
  }
  const bytes = Buffer.from(out, 'utf8');
  return cut.limitBytes !== undefined ? bytes.subarray(0, cut.limitBytes) : bytes;
}

export async function serveLogs(
  res: ServerResponse,
  q: URLSearchParams,
  pod: KubeObject,
  container: string,
  runtime: ContainerRuntime,
): Promise<void> {
  const cut = logCut(q, pod.metadata.name);
  const text = runtime.logs ? await runtime.logs(pod, container) : '';
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end(cutLog(text, cut));
}
