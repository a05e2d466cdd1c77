// Pod Security admission, as the PodSecurity plugin of kube-apiserver 1.32 enforces it
// (kubernetes/pod-security-admission v0.32: policy/check_*.go, policy/registry.go,
// admission/admission.go, api/helpers.go). The level comes from the namespace label
// `pod-security.kubernetes.io/enforce` (and `enforce-version`), else from the cluster default (the
// admission configuration's `defaults.enforce`, here the emulator's `podSecurity` option). A pod is
// checked as created, after the mutating admission (so with the injected istio-init, whose
// NET_ADMIN and NET_RAW baseline forbids), and refused with the plugin's message:
//   pods "x" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities (...)
// Checks run in the registry's order (baseline IDs sorted, then restricted IDs sorted; a restricted
// check overrides the baseline one it replaces); messages are the checks' own.
import type { KubeObject } from '../contracts.js';
import type { MemoryStore } from '../store.js';
import type { AdmissionPlugin } from './admission.js';
import { forbidden } from './status.js';

type Any = Record<string, any>; // loosely typed Kubernetes objects

export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';
export const POD_SECURITY_LEVELS: readonly PodSecurityLevel[] = ['privileged', 'baseline', 'restricted'];

export const ENFORCE_LABEL = 'pod-security.kubernetes.io/enforce';
export const ENFORCE_VERSION_LABEL = 'pod-security.kubernetes.io/enforce-version';

export interface PodSecurityConfig {
  /** defaults.enforce; default privileged (what a cluster without an admission configuration has). */
  enforce: PodSecurityLevel;
  /** defaults.enforce-version: 'latest' or 'v1.N'. */
  enforceVersion?: string;
  /** exemptions.namespaces; default kube-system and istio-system. */
  exemptNamespaces?: string[];
}

interface Result {
  reason: string;
  detail: string;
}

interface Check {
  id: string;
  level: 'baseline' | 'restricted';
  /** The baseline check a restricted one replaces. */
  overrides?: string;
  check(meta: Any, spec: Any, minor: number): Result | undefined;
}

const joinQuote = (items: string[]): string => (items.length === 0 ? '' : `"${items.join('", "')}"`);
const pluralize = (singular: string, plural: string, n: number): string => (n === 1 ? singular : plural);
const containersOf = (spec: Any): Any[] => [
  ...((spec.initContainers ?? []) as Any[]),
  ...((spec.containers ?? []) as Any[]),
  ...((spec.ephemeralContainers ?? []) as Any[]),
];
const named = (names: string[]): string => `${pluralize('container', 'containers', names.length)} ${joinQuote(names)}`;
const sorted = (s: Set<string>): string[] => [...s].sort();
const windows = (spec: Any): boolean => spec.os?.name === 'windows';

/** Who set a field to a bad value: "pod", "container \"a\"", joined with " and ". */
function setters(podBad: boolean, containers: string[]): string[] {
  const out = podBad ? ['pod'] : [];
  if (containers.length > 0) out.push(named(containers));
  return out;
}

const DEFAULT_CAPABILITIES = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

function sysctlsAllowed(minor: number): Set<string> {
  const s = new Set([
    'kernel.shm_rmid_forced',
    'net.ipv4.ip_local_port_range',
    'net.ipv4.tcp_syncookies',
    'net.ipv4.ping_group_range',
    'net.ipv4.ip_unprivileged_port_start',
  ]);
  if (minor >= 27) s.add('net.ipv4.ip_local_reserved_ports');
  if (minor >= 29)
    for (const k of [
      'net.ipv4.tcp_keepalive_time',
      'net.ipv4.tcp_fin_timeout',
      'net.ipv4.tcp_keepalive_intvl',
      'net.ipv4.tcp_keepalive_probes',
    ])
      s.add(k);
  if (minor >= 32) for (const k of ['net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem']) s.add(k);
  return s;
}

const validSeccomp = (t: unknown): boolean => t === 'RuntimeDefault' || t === 'Localhost';

const CHECKS: Check[] = [
  {
    id: 'appArmorProfile',
    level: 'baseline',
    check(meta, spec) {
      const ok = (t: unknown): boolean => t === 'RuntimeDefault' || t === 'Localhost';
      const badValues = new Set<string>();
      const podBad = spec.securityContext?.appArmorProfile && !ok(spec.securityContext.appArmorProfile.type);
      if (podBad) badValues.add(String(spec.securityContext.appArmorProfile.type));
      const bad = containersOf(spec).filter(
        (c) => c.securityContext?.appArmorProfile && !ok(c.securityContext.appArmorProfile.type),
      );
      for (const c of bad) badValues.add(String(c.securityContext.appArmorProfile.type));
      const who = setters(
        Boolean(podBad),
        bad.map((c) => String(c.name)),
      );
      const annotations = Object.entries((meta.annotations ?? {}) as Record<string, string>)
        .filter(
          ([k, v]) =>
            k.startsWith('container.apparmor.security.beta.kubernetes.io/') &&
            !(v === '' || v === 'runtime/default' || v.startsWith('localhost/')),
        )
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .sort();
      const values = [...sorted(badValues), ...annotations];
      if (annotations.length > 0) who.push(pluralize('annotation', 'annotations', annotations.length));
      if (who.length === 0) return undefined;
      return {
        reason: pluralize('forbidden AppArmor profile', 'forbidden AppArmor profiles', values.length),
        detail: `${who.join(' and ')} must not set AppArmor profile type to ${joinQuote(values)}`,
      };
    },
  },
  {
    id: 'capabilities_baseline',
    level: 'baseline',
    check(_meta, spec) {
      const bad: string[] = [];
      const caps = new Set<string>();
      for (const c of containersOf(spec)) {
        const added = ((c.securityContext?.capabilities?.add ?? []) as string[]).filter(
          (x) => !DEFAULT_CAPABILITIES.has(x),
        );
        if (!c.securityContext?.capabilities || added.length === 0) continue;
        bad.push(String(c.name));
        for (const x of added) caps.add(x);
      }
      if (bad.length === 0) return undefined;
      return {
        reason: 'non-default capabilities',
        detail: `${named(bad)} must not include ${joinQuote(sorted(caps))} in securityContext.capabilities.add`,
      };
    },
  },
  {
    id: 'hostNamespaces',
    level: 'baseline',
    check(_meta, spec) {
      const host = [
        spec.hostNetwork ? 'hostNetwork=true' : '',
        spec.hostPID ? 'hostPID=true' : '',
        spec.hostIPC ? 'hostIPC=true' : '',
      ].filter(Boolean);
      return host.length > 0 ? { reason: 'host namespaces', detail: host.join(', ') } : undefined;
    },
  },
  {
    id: 'hostPathVolumes',
    level: 'baseline',
    check(_meta, spec) {
      const volumes = ((spec.volumes ?? []) as Any[]).filter((v) => v.hostPath).map((v) => String(v.name));
      if (volumes.length === 0) return undefined;
      return {
        reason: 'hostPath volumes',
        detail: `${pluralize('volume', 'volumes', volumes.length)} ${joinQuote(volumes)}`,
      };
    },
  },
  {
    id: 'hostPorts',
    level: 'baseline',
    check(_meta, spec) {
      const bad: string[] = [];
      const ports = new Set<string>();
      for (const c of containersOf(spec)) {
        const hp = ((c.ports ?? []) as Any[]).filter((p) => Number(p.hostPort ?? 0) !== 0);
        if (hp.length === 0) continue;
        bad.push(String(c.name));
        for (const p of hp) ports.add(String(p.hostPort));
      }
      if (bad.length === 0) return undefined;
      return {
        reason: 'hostPort',
        detail: `${named(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('hostPort', 'hostPorts', ports.size)} ${sorted(ports).join(', ')}`,
      };
    },
  },
  {
    id: 'privileged',
    level: 'baseline',
    check(_meta, spec) {
      const bad = containersOf(spec)
        .filter((c) => c.securityContext?.privileged === true)
        .map((c) => String(c.name));
      if (bad.length === 0) return undefined;
      return { reason: 'privileged', detail: `${named(bad)} must not set securityContext.privileged=true` };
    },
  },
  {
    id: 'procMount',
    level: 'baseline',
    check(_meta, spec) {
      const bad = containersOf(spec).filter(
        (c) => c.securityContext?.procMount !== undefined && c.securityContext.procMount !== 'Default',
      );
      if (bad.length === 0) return undefined;
      const types = new Set(bad.map((c) => String(c.securityContext.procMount)));
      return {
        reason: 'procMount',
        detail: `${named(bad.map((c) => String(c.name)))} must not set securityContext.procMount to ${joinQuote(sorted(types))}`,
      };
    },
  },
  {
    id: 'seLinuxOptions',
    level: 'baseline',
    check(_meta, spec, minor) {
      const allowed = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t']);
      if (minor >= 31) allowed.add('container_engine_t');
      const badTypes = new Set<string>();
      let user = false;
      let role = false;
      const valid = (o: Any): boolean => {
        let ok = true;
        if (!allowed.has(String(o.type ?? ''))) {
          ok = false;
          badTypes.add(String(o.type ?? ''));
        }
        if (o.user) {
          ok = false;
          user = true;
        }
        if (o.role) {
          ok = false;
          role = true;
        }
        return ok;
      };
      const podBad = spec.securityContext?.seLinuxOptions ? !valid(spec.securityContext.seLinuxOptions) : false;
      const bad = containersOf(spec)
        .filter((c) => c.securityContext?.seLinuxOptions && !valid(c.securityContext.seLinuxOptions))
        .map((c) => String(c.name));
      const who = setters(podBad, bad);
      if (who.length === 0) return undefined;
      const data = [
        badTypes.size > 0 ? `${pluralize('type', 'types', badTypes.size)} ${joinQuote(sorted(badTypes))}` : '',
        user ? 'user may not be set' : '',
        role ? 'role may not be set' : '',
      ].filter(Boolean);
      return {
        reason: 'seLinuxOptions',
        detail: `${who.join(' and ')} set forbidden securityContext.seLinuxOptions: ${data.join('; ')}`,
      };
    },
  },
  {
    id: 'seccompProfile_baseline',
    level: 'baseline',
    check(_meta, spec) {
      const values = new Set<string>();
      const podType = spec.securityContext?.seccompProfile?.type;
      const podBad = spec.securityContext?.seccompProfile !== undefined && !validSeccomp(podType);
      if (podBad) values.add(String(podType));
      const bad = containersOf(spec).filter(
        (c) => c.securityContext?.seccompProfile !== undefined && !validSeccomp(c.securityContext.seccompProfile.type),
      );
      for (const c of bad) values.add(String(c.securityContext.seccompProfile.type));
      const who = setters(
        podBad,
        bad.map((c) => String(c.name)),
      );
      if (who.length === 0) return undefined;
      return {
        reason: 'seccompProfile',
        detail: `${who.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sorted(values))}`,
      };
    },
  },
  {
    id: 'sysctls',
    level: 'baseline',
    check(_meta, spec, minor) {
      const allowed = sysctlsAllowed(minor);
      const bad = ((spec.securityContext?.sysctls ?? []) as Any[])
        .map((s) => String(s.name))
        .filter((n) => !allowed.has(n));
      return bad.length > 0 ? { reason: 'forbidden sysctls', detail: bad.join(', ') } : undefined;
    },
  },
  {
    id: 'windowsHostProcess',
    level: 'baseline',
    check(_meta, spec) {
      const podBad = spec.securityContext?.windowsOptions?.hostProcess === true;
      const bad = containersOf(spec)
        .filter((c) => c.securityContext?.windowsOptions?.hostProcess === true)
        .map((c) => String(c.name));
      const who = setters(podBad, bad);
      if (who.length === 0) return undefined;
      return {
        reason: 'hostProcess',
        detail: `${who.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true`,
      };
    },
  },
  {
    id: 'allowPrivilegeEscalation',
    level: 'restricted',
    check(_meta, spec) {
      if (windows(spec)) return undefined;
      const bad = containersOf(spec)
        .filter((c) => c.securityContext?.allowPrivilegeEscalation !== false)
        .map((c) => String(c.name));
      if (bad.length === 0) return undefined;
      return {
        reason: 'allowPrivilegeEscalation != false',
        detail: `${named(bad)} must set securityContext.allowPrivilegeEscalation=false`,
      };
    },
  },
  {
    id: 'capabilities_restricted',
    level: 'restricted',
    overrides: 'capabilities_baseline',
    check(_meta, spec) {
      if (windows(spec)) return undefined;
      const missingDrop: string[] = [];
      const adding: string[] = [];
      const caps = new Set<string>();
      for (const c of containersOf(spec)) {
        const capabilities = c.securityContext?.capabilities;
        if (!capabilities) {
          missingDrop.push(String(c.name));
          continue;
        }
        if (!((capabilities.drop ?? []) as string[]).includes('ALL')) missingDrop.push(String(c.name));
        const added = ((capabilities.add ?? []) as string[]).filter((x) => x !== 'NET_BIND_SERVICE');
        if (added.length === 0) continue;
        adding.push(String(c.name));
        for (const x of added) caps.add(x);
      }
      const details = [
        missingDrop.length > 0 ? `${named(missingDrop)} must set securityContext.capabilities.drop=["ALL"]` : '',
        adding.length > 0
          ? `${named(adding)} must not include ${joinQuote(sorted(caps))} in securityContext.capabilities.add`
          : '',
      ].filter(Boolean);
      return details.length > 0 ? { reason: 'unrestricted capabilities', detail: details.join('; ') } : undefined;
    },
  },
  {
    id: 'restrictedVolumes',
    level: 'restricted',
    overrides: 'hostPathVolumes',
    check(_meta, spec) {
      const allowed = [
        'configMap',
        'csi',
        'downwardAPI',
        'emptyDir',
        'ephemeral',
        'persistentVolumeClaim',
        'projected',
        'secret',
      ];
      const bad = ((spec.volumes ?? []) as Any[]).filter((v) => !allowed.some((k) => v[k] !== undefined));
      if (bad.length === 0) return undefined;
      const known = [
        'hostPath',
        'gcePersistentDisk',
        'awsElasticBlockStore',
        'gitRepo',
        'nfs',
        'iscsi',
        'glusterfs',
        'rbd',
        'flexVolume',
        'cinder',
        'cephfs',
        'flocker',
        'fc',
        'azureFile',
        'vsphereVolume',
        'quobyte',
        'azureDisk',
        'photonPersistentDisk',
        'portworxVolume',
        'scaleIO',
        'storageos',
      ];
      const types = new Set(bad.map((v) => known.find((k) => v[k] !== undefined) ?? 'unknown'));
      return {
        reason: 'restricted volume types',
        detail: `${pluralize('volume', 'volumes', bad.length)} ${joinQuote(bad.map((v) => String(v.name)))} ${pluralize('uses', 'use', bad.length)} ${pluralize('restricted volume type', 'restricted volume types', types.size)} ${joinQuote(sorted(types))}`,
      };
    },
  },
  {
    id: 'runAsNonRoot',
    level: 'restricted',
    check(_meta, spec) {
      const podValue = spec.securityContext?.runAsNonRoot;
      const podBad = podValue === false;
      const podOk = podValue === true;
      const explicit: string[] = [];
      const implicit: string[] = [];
      for (const c of containersOf(spec)) {
        const v = c.securityContext?.runAsNonRoot;
        if (v === false) explicit.push(String(c.name));
        else if (v === undefined && !podOk) implicit.push(String(c.name));
      }
      const who = setters(podBad, explicit);
      if (who.length > 0)
        return {
          reason: 'runAsNonRoot != true',
          detail: `${who.join(' and ')} must not set securityContext.runAsNonRoot=false`,
        };
      if (implicit.length > 0)
        return {
          reason: 'runAsNonRoot != true',
          detail: `pod or ${named(implicit)} must set securityContext.runAsNonRoot=true`,
        };
      return undefined;
    },
  },
  {
    id: 'runAsUser',
    level: 'restricted',
    check(_meta, spec) {
      const who = setters(
        spec.securityContext?.runAsUser === 0,
        containersOf(spec)
          .filter((c) => c.securityContext?.runAsUser === 0)
          .map((c) => String(c.name)),
      );
      return who.length > 0
        ? { reason: 'runAsUser=0', detail: `${who.join(' and ')} must not set runAsUser=0` }
        : undefined;
    },
  },
  {
    id: 'seccompProfile_restricted',
    level: 'restricted',
    overrides: 'seccompProfile_baseline',
    check(_meta, spec) {
      if (windows(spec)) return undefined;
      const values = new Set<string>();
      const pod = spec.securityContext?.seccompProfile;
      const podBad = pod !== undefined && !validSeccomp(pod.type);
      if (podBad) values.add(String(pod.type));
      const podSet = pod !== undefined && !podBad;
      const explicit: string[] = [];
      const implicit: string[] = [];
      for (const c of containersOf(spec)) {
        const p = c.securityContext?.seccompProfile;
        if (p !== undefined) {
          if (!validSeccomp(p.type)) {
            explicit.push(String(c.name));
            values.add(String(p.type));
          }
        } else if (!podSet) implicit.push(String(c.name));
      }
      const who = setters(podBad, explicit);
      if (who.length > 0)
        return {
          reason: 'seccompProfile',
          detail: `${who.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sorted(values))}`,
        };
      if (implicit.length > 0)
        return {
          reason: 'seccompProfile',
          detail: `pod or ${named(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
        };
      return undefined;
    },
  },
];

/** registry.go: baseline IDs sorted, then restricted IDs sorted; restricted drops what it overrides. */
function checksFor(level: PodSecurityLevel): Check[] {
  const byId = (a: Check, b: Check): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const baseline = CHECKS.filter((c) => c.level === 'baseline').sort(byId);
  if (level === 'baseline') return baseline;
  const restricted = CHECKS.filter((c) => c.level === 'restricted').sort(byId);
  const overridden = new Set(restricted.map((c) => c.overrides).filter(Boolean));
  return [...baseline.filter((c) => !overridden.has(c.id)), ...restricted];
}

/** AggregateCheckResult.ForbiddenDetail: "reason (detail), reason (detail)". */
export function evaluatePodSecurity(level: PodSecurityLevel, version: string, pod: KubeObject): string | undefined {
  if (level === 'privileged') return undefined;
  const minor = version === 'latest' ? Number.POSITIVE_INFINITY : Number(version.slice(3));
  const results = checksFor(level)
    .map((c) => c.check(pod.metadata as Any, (pod.spec ?? {}) as Any, minor))
    .filter((r): r is Result => r !== undefined);
  if (results.length === 0) return undefined;
  return results.map((r) => (r.detail ? `${r.reason} (${r.detail})` : r.reason)).join(', ');
}

/** PolicyToEvaluate for the enforce mode: a bad level label enforces restricted; a bad version, latest. */
export function enforcedPolicy(
  labels: Record<string, string> | undefined,
  defaults: { level: PodSecurityLevel; version: string },
): { level: PodSecurityLevel; version: string } {
  let { level, version } = defaults;
  const l = labels?.[ENFORCE_LABEL];
  if (l !== undefined)
    level = POD_SECURITY_LEVELS.includes(l as PodSecurityLevel) ? (l as PodSecurityLevel) : 'restricted';
  const v = labels?.[ENFORCE_VERSION_LABEL];
  if (v !== undefined) version = /^v1\.([0-9]|[1-9][0-9]*)$/.test(v) ? v : 'latest';
  return { level, version };
}

export function podSecurityAdmission(store: MemoryStore, config: PodSecurityConfig): AdmissionPlugin {
  const exempt = new Set(config.exemptNamespaces ?? ['kube-system', 'istio-system']);
  const defaults = { level: config.enforce, version: config.enforceVersion ?? 'latest' };
  return {
    name: 'PodSecurity',
    admit({ operation, type, object }) {
      // Updates can change only images and a few fields; creation is what a policy refuses.
      if (operation !== 'CREATE' || type.group !== '' || type.resource !== 'pods') return;
      const namespace = object.metadata.namespace ?? '';
      if (exempt.has(namespace)) return;
      const ns = store.get('', 'namespaces', undefined, namespace);
      const policy = enforcedPolicy(ns?.metadata.labels, defaults);
      const violation = evaluatePodSecurity(policy.level, policy.version, object);
      if (!violation) return;
      throw forbidden(
        { group: '', resource: 'pods' },
        object.metadata.name,
        `violates PodSecurity "${policy.level}:${policy.version}": ${violation}`,
      );
    },
  };
}
