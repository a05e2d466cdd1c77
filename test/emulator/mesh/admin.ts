// The sidecar's Envoy admin endpoint (localhost:15000 inside the pod): /certs in Envoy's admin.v3.Certificates
// JSON for the pod's real workload certificate and the mesh root, /ready, and /config_dump_emulator, a
// plain dump of what this proxy's configuration says (the emulator's, not Envoy's format).
import { createServer } from 'node:http';
import { X509Certificate } from 'node:crypto';
import { describeEndpoint } from './control-plane.js';
import type { Mesh, PodNet } from './mesh.js';
import { listen } from './net-util.js';
import { servicePorts } from './k8s.js';

function certDetail(pem: string, now: number) {
  const x = new X509Certificate(pem);
  const validTo = Date.parse(x.validTo);
  const sans = (x.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((s) => s.length > 0)
    .map((s) =>
      s.startsWith('URI:')
        ? { uri: s.slice(4) }
        : s.startsWith('DNS:')
          ? { dns: s.slice(4) }
          : { ip_address: s.replace(/^IP Address:/, '') },
    );
  return {
    path: '<inline>',
    serial_number: x.serialNumber.toLowerCase(),
    subject_alt_names: sans,
    days_until_expiration: String(Math.max(0, Math.floor((validTo - now) / 86_400_000))),
    valid_from: new Date(Date.parse(x.validFrom)).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    expiration_time: new Date(validTo).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}

export function certsJson(pod: PodNet, now = Date.now()): string {
  const cert = pod.cert;
  if (!cert) return JSON.stringify({ certificates: [] }, null, 1);
  const root = certDetail(cert.rootPem, now);
  const body = {
    certificates: [
      { ca_cert: [root], cert_chain: [certDetail(cert.certPem, now)] },
      { ca_cert: [root], cert_chain: [] },
    ],
  };
  return JSON.stringify(body, null, 1);
}

export function startAdmin(mesh: Mesh, pod: PodNet): Promise<number> {
  const server = pod.tracker.server(
    createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/certs') {
        const body = `${certsJson(pod)}\n`;
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        return void res.end(body);
      }
      if (path === '/ready') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        return void res.end('LIVE\n');
      }
      if (path === '/config_dump_emulator') {
        const cfg = mesh.cp.configFor(pod.pod);
        const inbound = mesh.podPorts(pod).map((p) => ({ port: p, ...cfg.inbound(pod.pod, p) }));
        const outbound = mesh.store.list('', 'services').flatMap((svc) =>
          servicePorts(svc).map((sp) => {
            const c = cfg.outbound(pod.ns, svc.metadata.namespace ?? 'default', svc.metadata.name, sp.port);
            return {
              service: c?.fqdn,
              port: sp.port,
              drMode: c?.drMode ?? null,
              endpoints: c?.endpoints.map(describeEndpoint) ?? [],
            };
          }),
        );
        // The RBAC filters this proxy holds, named as Envoy names their policies (ns[NS]-policy[NAME]-rule[N]).
        const authorization = cfg.authz(pod.pod);
        const body = `${JSON.stringify({ version: cfg.version, flavor: cfg.inputs.flavor, autoMtls: cfg.inputs.autoMtls, inbound, outbound, authorization }, null, 2)}\n`;
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(body);
      }
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('invalid path. admin commands are: /certs /ready /config_dump_emulator\n');
    }),
  );
  return listen(server);
}
