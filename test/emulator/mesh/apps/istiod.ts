// The emulated istiod's monitoring port, 15014: `/debug/syncz` from the control plane's push state, served
// as istio/istio 1.24.2 serves it. pilot/pkg/xds/debug.go addDebugHandler wraps every debug handler on this
// port in allowAuthenticatedOrLocalhost: a request from a loopback address inside the pod (`pilot-discovery
// request`, `kubectl exec ... curl localhost:15014`, a port-forward) is served; any other needs a bearer
// token or client certificate istiod authenticates, else a bare 401. The API server's service proxy
// removes the caller's Authorization header (apiserver pkg/endpoints/filters/authentication.go) and dials
// the pod IP, so through it istiod always answers 401. Hence two listeners: one that only the pod's own
// localhost reaches, one on the pod IP.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Mesh, PodNet } from '../mesh.js';
import { listen } from '../net-util.js';
import { syncz } from '../xds.js';

export const MONITORING_PORT = 15014;

function handler(mesh: Mesh, local: boolean) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://istiod');
    const date = new Date().toUTCString();
    if (url.pathname !== '/debug/syncz') {
      // Go's http.NotFound. The other debug endpoints of 1.24.2 are not emulated.
      const body = '404 page not found\n';
      res.writeHead(404, {
        'Content-Type': 'text/plain; charset=utf-8',
        'X-Content-Type-Options': 'nosniff',
        Date: date,
        'Content-Length': Buffer.byteLength(body),
      });
      res.end(body);
      return;
    }
    if (!local) {
      // No authenticator accepts the request (no token istiod can verify reaches it here): WriteHeader(401).
      res.writeHead(401, { Date: date, 'Content-Length': 0 });
      res.end();
      return;
    }
    const body = syncz(mesh.cp.syncz(), url.searchParams);
    res.writeHead(200, { 'Content-Type': 'application/json', Date: date, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
}

/** Starts istiod's monitoring port for an istiod pod: on the pod network (401) and on its localhost. */
export async function startIstiodMonitor(mesh: Mesh, net: PodNet): Promise<void> {
  const remote = net.tracker.server(createServer(handler(mesh, false)));
  const local = net.tracker.server(createServer(handler(mesh, true)));
  net.apps.set(MONITORING_PORT, await listen(remote));
  net.localOnly.set(MONITORING_PORT, await listen(local));
}
