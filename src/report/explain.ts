// The decision chain of one cell, as text.
import { agrees, type ExpectedCell } from '../model/cell.js';
import { cellName } from '../model/matrix.js';
import type { AuthorizationDecision, Step } from '../model/prediction.js';
import type { Flavor } from '../model/scenario.js';
import type { Target } from '../model/topology.js';
import { label } from './labels.js';
import { semanticsRef } from './references.js';
import type { Style } from './style.js';

export function renderExplanation(
  scenario: string,
  from: string,
  target: Target,
  cell: ExpectedCell,
  mesh: { flavor: Flavor; autoMtls: boolean },
  st: Style,
): string {
  const p = cell.prediction;
  const { client, server } = p.reason;
  const flavor =
    mesh.flavor === 'modern'
      ? `modern (PeerAuthentication, auto mTLS ${mesh.autoMtls ? 'on' : 'off'})`
      : `legacy 1.4 (MeshPolicy/Policy, auto mTLS ${mesh.autoMtls ? 'on' : 'off'})`;
  const ref = semanticsRef(p.reason.row, target.port.protocol);
  const steps = (chain: Step[]) => chain.map((s) => `    ${s.by}: ${s.says}`);
  const lines = [
    st.bold(cellName(from, target.id)) + st.dim(`   scenario ${scenario}, Istio ${flavor}`),
    `  port ${target.port.port}${target.port.name ? ` (${target.port.name})` : ''} -> target port ${target.port.targetPort}, handled as ${target.port.protocol === 'http' ? 'HTTP (L7)' : target.port.protocol === 'tls' ? 'TLS passthrough (L4)' : 'TCP (L4)'}`,
    '',
    `  client ${client.sidecar ? `has a sidecar, which sends ${client.origination}` : 'has no sidecar'}`,
    ...steps(client.chain),
    `  server ${server.sidecar ? `sidecar is ${server.mode}` : 'has no sidecar'}`,
    ...steps(server.chain),
    ...authorizationLines(p.reason.authorization, target, st),
    '',
    `  predicted ${label(p.outcome)}: ${p.reason.why}${ref ? st.dim(`  [${ref}]`) : ''}`,
    cell.source === 'scenario'
      ? `  expected  ${label(cell.expect)} by ${cell.rule}${agrees(cell) ? '' : st.red('  ≠ the scenario and the oracle disagree')}`
      : `  expected  ${label(cell.expect)} (the scenario says nothing of this cell; the prediction stands)`,
  ];
  return `${lines.join('\n')}\n`;
}

const EFFECT: Record<AuthorizationDecision['effect'], string> = {
  'not-reached': 'not reached',
  'no-sidecar': 'not enforced',
  'no-policy': 'no policy',
  allowed: 'allowed',
  denied: 'denied',
};

/** After the mTLS chain: what the server sidecar's AuthorizationPolicies made of the request. */
function authorizationLines(a: AuthorizationDecision | undefined, target: Target, st: Style): string[] {
  if (!a) return [];
  const request = target.port.protocol === 'http' ? ` (${target.method} ${target.path})` : '';
  return [
    `  authorization${request}: ${EFFECT[a.effect]}${a.matchedPolicy ? st.dim(`  [Envoy: ${a.matchedPolicy}]`) : ''}`,
    ...a.chain.map((s) => `    ${s.by}: ${s.says}`),
    ...a.notes.map((n) => `    ${st.yellow('note')}: ${n}`),
  ];
}
