// What the app containers run, chosen by image: go-httpbin (or the older httpbin images), nginx (HTTPS
// with its mounted TLS Secret, as the https-overlay sample), and for any other image (curl, sleep, ...)
// a container that runs but listens on nothing.
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { KubeObject } from '../../contracts.js';
import { appContainers, type ContainerSpec } from '../k8s.js';
import type { Mesh, PodNet } from '../mesh.js';
import { listen } from '../net-util.js';
import { createHttpbin } from './httpbin.js';
import { startIstiodMonitor } from './istiod.js';
import { nginxHandler } from './nginx.js';

export type AppKind = 'httpbin' | 'nginx' | 'istiod' | 'none';

export function appKind(image: string | undefined): AppKind {
  const img = (image ?? '').toLowerCase();
  if (img.includes('istio/pilot:')) return 'istiod';
  if (img.includes('httpbin')) return 'httpbin';
  if (img.includes('nginx')) return 'nginx';
  return 'none';
}

function declaredPorts(c: ContainerSpec, fallback: number): number[] {
  const ports = (c.ports ?? [])
    .filter((p) => (p.protocol ?? 'TCP').toUpperCase() === 'TCP')
    .map((p) => p.containerPort);
  return ports.length > 0 ? ports : [fallback];
}

interface Volume {
  name: string;
  secret?: { secretName?: string };
}

function tlsSecretName(pod: KubeObject, c: ContainerSpec, mesh: Mesh, ns: string): string | undefined {
  const volumes = ((pod.spec ?? {}) as { volumes?: Volume[] }).volumes ?? [];
  for (const m of c.volumeMounts ?? []) {
    const v = volumes.find((x) => x.name === m.name);
    const name = v?.secret?.secretName;
    if (!name) continue;
    const secret = mesh.store.get('', 'secrets', ns, name);
    const type = (secret as { type?: string } | undefined)?.type;
    if (m.mountPath.startsWith('/etc/nginx') || type === 'kubernetes.io/tls') return name;
  }
  return undefined;
}

function secretPems(mesh: Mesh, ns: string, name: string): { key: string; cert: string } | undefined {
  const s = mesh.store.get('', 'secrets', ns, name) as
    (KubeObject & { data?: Record<string, string>; stringData?: Record<string, string> }) | undefined;
  if (!s) return undefined;
  const read = (k: string) =>
    s.data?.[k] !== undefined ? Buffer.from(s.data[k]!, 'base64').toString('utf8') : s.stringData?.[k];
  const cert = read('tls.crt');
  const key = read('tls.key');
  return cert && key ? { cert, key } : undefined;
}

/** nginx's combined access log format. */
function nginxLogged(net: PodNet, container: string) {
  return (req: IncomingMessage, res: ServerResponse) => {
    res.once('finish', () => {
      const t = new Date().toUTCString();
      net.appendLog(
        container,
        `127.0.0.1 - - [${t}] "${req.method} ${req.url} HTTP/${req.httpVersion}" ${res.statusCode} ${res.getHeader('content-length') ?? 0} "-" "${req.headers['user-agent'] ?? '-'}"`,
      );
    });
    nginxHandler(req, res);
  };
}

export async function startApps(mesh: Mesh, net: PodNet): Promise<void> {
  for (const c of appContainers(net.pod)) {
    const kind = appKind(c.image);
    if (kind === 'httpbin') {
      // go-httpbin serves on 8080; the python httpbin images of Istio <= 1.20 on 80.
      const fallback = (c.image ?? '').includes('go-httpbin') ? 8080 : 80;
      for (const port of declaredPorts(c, fallback)) {
        const server = net.tracker.server(
          createHttpbin({
            originOf: (p, a) => mesh.sourceOf(p) ?? mesh.podIpOfLoopback(a),
            log: (l) => net.appendLog(c.name, l),
          }),
        );
        net.apps.set(port, await listen(server));
      }
    } else if (kind === 'istiod') {
      // Istio 1.4's pilot had no per-proxy nonces in this form; only the modern control plane serves syncz.
      if (mesh.cp.latest.inputs.flavor === 'modern') await startIstiodMonitor(mesh, net);
    } else if (kind === 'nginx') {
      const secretName = tlsSecretName(net.pod, c, mesh, net.ns);
      for (const port of declaredPorts(c, secretName ? 443 : 80)) {
        let server: Server;
        if (secretName) {
          const pems = secretPems(mesh, net.ns, secretName);
          const https = createHttpsServer(pems ?? {}, nginxLogged(net, c.name));
          // A rotated Secret reaches the mounted files (and nginx on reload); here it applies at once.
          const unsubscribe = mesh.store.subscribe((e) => {
            if (
              e.resource !== 'secrets' ||
              e.object.metadata.namespace !== net.ns ||
              e.object.metadata.name !== secretName
            )
              return;
            const next = secretPems(mesh, net.ns, secretName);
            if (next) https.setSecureContext(next);
          });
          net.cleanups.push(unsubscribe);
          server = https;
        } else {
          server = createHttpServer(nginxLogged(net, c.name));
        }
        net.apps.set(port, await listen(net.tracker.server(server)));
      }
    }
  }
}
