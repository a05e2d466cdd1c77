// A DestinationRule's `host` as Istio's validation webhook checks it, so that a scenario the API server
// would refuse mid-run (exit 3) is refused before any write (exit 2). A port of istio/istio 1.24
// pkg/config/validation/agent/validation.go ValidateWildcardDomain (called on rule.Host by
// ValidateDestinationRule in pkg/config/validation/validation.go), with the label rules of
// pkg/config/labels/instance.go; the messages are Istio's.

const DNS1123_LABEL_MAX_LENGTH = 63;
const DNS1123_LABEL = /^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
/** "a wild-card prefix is an '*', a normal DNS1123 label with a leading '*' or '*-', or a normal DNS1123 label". */
const WILDCARD_PREFIX = /^(\*|(\*|\*-)?[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?)$/;
const INT64_MAX = 2n ** 63n - 1n;

/** Go's %q, for the printable text these messages quote. */
const q = (s: string): string => JSON.stringify(s);

const isDns1123Label = (v: string) => v.length <= DNS1123_LABEL_MAX_LENGTH && DNS1123_LABEL.test(v);
const isWildcardDns1123Label = (v: string) => v.length <= DNS1123_LABEL_MAX_LENGTH && WILDCARD_PREFIX.test(v);

/** Go's strconv.Atoi succeeds: optional sign, decimal digits, within int64. */
function atoiSucceeds(s: string): boolean {
  if (!/^[+-]?\d+$/.test(s)) return false;
  const n = BigInt(s);
  return n <= INT64_MAX && n >= -INT64_MAX - 1n;
}

/** ValidateDNS1123Labels. */
function dns1123LabelsProblem(domain: string): string | undefined {
  const parts = domain.split('.');
  const tld = parts[parts.length - 1]!;
  if (atoiSucceeds(tld)) return `domain name ${q(domain)} invalid (top level domain ${q(tld)} cannot be all-numeric)`;
  for (const [i, label] of parts.entries()) {
    // "Allow the last part to be empty, for unambiguous names like `istio.io.`"
    if (i === parts.length - 1 && label === '') return undefined;
    if (!isDns1123Label(label)) return `domain name ${q(domain)} invalid (label ${q(label)} invalid)`;
  }
  return undefined;
}

/** Why Istio refuses `domain` as a host (ValidateWildcardDomain), or undefined when it accepts it. */
export function wildcardDomainProblem(domain: string): string | undefined {
  if (domain.length > 255) return `domain name ${q(domain)} too long (max 255)`;
  if (domain.length === 0) return 'empty domain name not allowed';
  // "We only allow wildcards in the first label"
  const dot = domain.indexOf('.');
  const first = dot < 0 ? domain : domain.slice(0, dot);
  if (!isWildcardDns1123Label(first)) return `domain name ${q(domain)} invalid (label ${q(first)} invalid)`;
  return dot < 0 ? undefined : dns1123LabelsProblem(domain.slice(dot + 1));
}
