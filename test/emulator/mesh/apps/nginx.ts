// The HTTPS server of Istio's "Mutual TLS over HTTPS" task: nginx with `listen 443 ssl` and the certificate
// of its TLS Secret (mounted at /etc/nginx/ssl). Without a TLS secret it is plain nginx on port 80.
import type { IncomingMessage, ServerResponse } from 'node:http';

export const NGINX_VERSION = '1.27.5';

export const WELCOME = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
`;

const NOT_FOUND = `<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx/${NGINX_VERSION}</center>\r\n</body>\r\n</html>\r\n`;

export function nginxHandler(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  const found = path === '/' || path === '/index.html';
  const body = found ? WELCOME : NOT_FOUND;
  res.writeHead(found ? 200 : 404, {
    Server: `nginx/${NGINX_VERSION}`,
    Date: new Date().toUTCString(),
    'Content-Type': 'text/html',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
