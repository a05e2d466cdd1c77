// The patterns a scenario's expectation rules use to select cells: `*`, `NS/WORKLOAD` for rows and
// `NS/SERVICE[:PORT]` for columns, with `*` in any part.
import type { Client, Target } from './topology.js';

function glob(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/:]*')}$`,
  );
  return re.test(value);
}

/** `*`, `NS/WORKLOAD` with `*` in either part. */
export function matchesClient(pattern: string, client: Client): boolean {
  if (pattern === '*') return true;
  const [ns = '', wl = '*'] = pattern.split('/');
  return glob(ns, client.namespace) && glob(wl, client.workload);
}

/**
 * `*`, `NS/SERVICE`, `NS/SERVICE:PORT` (number or name), with `*` in any part: every request the topology
 * sends there. `NS/SERVICE:PORT METHOD` or `... METHOD PATH` (`*` for either) selects requests by method
 * and path.
 */
export function matchesTarget(pattern: string, target: Target): boolean {
  if (pattern === '*') return true;
  const [where = '', method, path] = pattern.split(' ');
  const [nsSvc = '', port] = where.split(':');
  const [ns = '', svc = '*'] = nsSvc.split('/');
  if (!glob(ns, target.namespace) || !glob(svc, target.service)) return false;
  if (method !== undefined && method !== '*' && method !== target.method) return false;
  if (path !== undefined && path !== '*' && path !== target.path) return false;
  return port === undefined || port === '*' || port === String(target.port.port) || port === target.port.name;
}

export const CLIENT_PATTERN = /^(\*|[a-z0-9*]([-a-z0-9*]*)?\/[a-z0-9*]([-a-z0-9*]*)?)$/;
export const TARGET_PATTERN =
  /^(\*|[a-z0-9*]([-a-z0-9*]*)?\/[a-z0-9*]([-a-z0-9*]*)?(:([0-9]+|[a-z0-9*]([-a-z0-9*]*)?))?( (\*|[A-Z]+)( (\*|\/\S*))?)?)$/;
