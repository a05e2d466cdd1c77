// The two sides of `meshprobe diff`: what each names (files, a git revision, the cluster) and the
// policies read from it. Files and revisions are read without a cluster; only `cluster` connects.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import type { Cluster } from '../kube/cluster.js';
import { manifestFiles, readManifestFiles, type PolicySet } from '../model/manifests.js';
import type { EventSink } from '../model/events.js';
import type { DiffSide } from '../model/policy-diff.js';
import type { Flavor } from '../model/scenario.js';
import type { MeshConfig } from '../oracle/mesh.js';
import { detectControlPlane } from '../orchestrator/control-plane.js';
import { readMeshConfig } from '../orchestrator/mesh-settings.js';
import { checkIstio, checkReachable } from '../orchestrator/preflight.js';
import { baselineFrom, listPolicies } from '../orchestrator/scenario-objects.js';
import { parseGitSide, readGitSide, type GitSpec } from './git-side.js';

export type SideSpec =
  | { source: 'cluster'; spec: string }
  | { source: 'files'; spec: string; path: string }
  | { source: 'git'; spec: string; git: GitSpec };

const FORMS =
  'a file or directory of Istio objects, REV:PATH (a git revision and a path in it, e.g. origin/main:policies), or cluster';

/**
 * What a side names. `cluster` is the cluster (a file of that name is `./cluster`); an existing path is
 * files; otherwise `REV:PATH` is a git revision.
 */
export function parseSide(spec: string, flag: string, cwd: string): SideSpec {
  if (spec === 'cluster') return { source: 'cluster', spec };
  if (spec === '') throw new ConfigError(`${flag} is empty`, `give ${FORMS}`);
  const path = resolve(cwd, spec);
  if (existsSync(path)) return { source: 'files', spec, path };
  const git = parseGitSide(spec);
  if (git) return { source: 'git', spec, git };
  throw new ConfigError(`${flag} ${spec}: no such file or directory`, `give ${FORMS}`);
}

/**
 * Reads the sides that need no cluster. A git path that is in neither revision is a mistake (a typo);
 * in one of them it is a change that adds or removes the whole directory, and the other side is empty.
 */
export function readOfflineSides(
  sides: SideSpec[],
  o: { cwd: string; env: Record<string, string | undefined> },
): Array<DiffSide | undefined> {
  const read = sides.map((s): DiffSide | undefined => {
    if (s.source === 'files')
      return { spec: s.spec, source: 'files', set: readManifestFiles(manifestFiles(s.path), o.cwd) };
    if (s.source === 'git') {
      const r = readGitSide(s.git, s.spec, o);
      return r.kind === 'read'
        ? { spec: s.spec, source: 'git', commit: r.commit, set: r.set }
        : { spec: s.spec, source: 'git', commit: r.commit, absent: true, set: { policies: [], files: 0, ignored: {} } };
    }
    return undefined;
  });
  const absent = read.filter((s) => s?.absent);
  if (absent.length > 0 && absent.length === sides.length)
    throw new ConfigError(
      `${sides.map((s) => s.spec).join(' and ')}: the path is in neither revision`,
      'check the path: it is relative to the top of the repository (or starts with ./ for the current directory)',
    );
  return read;
}

/**
 * The policies the cluster holds now (not meshprobe's own), oldest first, and its mesh settings, read
 * from the control plane `run` would find (--revision, else the default or only one).
 */
export async function readClusterSide(
  cluster: Cluster,
  o: { flavor?: Flavor; revision?: string; events: EventSink },
): Promise<{ set: PolicySet; mesh: MeshConfig }> {
  const flavor = o.flavor;
  await checkReachable(cluster, o.events);
  const apis = await checkIstio(cluster, o.events);
  const controlPlane = await detectControlPlane(cluster, o.revision, o.events);
  const mesh = await readMeshConfig(cluster, apis, { controlPlane, events: o.events });
  if (flavor && flavor !== mesh.flavor)
    throw new ConfigError(
      `--istio ${flavor}, but context "${cluster.context}" serves the ${mesh.flavor} Istio APIs (${apis.groupVersions.join(', ')})`,
      `leave --istio out when a side is the cluster, or pass --istio ${mesh.flavor}`,
    );
  const policies = baselineFrom(await listPolicies(cluster, apis.groupVersions));
  return { set: { policies: policies.map((policy) => ({ policy, where: 'cluster' })), files: 0, ignored: {} }, mesh };
}
