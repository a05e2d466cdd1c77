// An httpbin compatible with go-httpbin v2.15 (Istio's sample since 1.24) for the endpoints meshprobe and
// Istio's docs use: /headers (header values as arrays, Go-canonical names, Host included), /ip, /get,
// /status/CODE, /anything, /user-agent, /delay/N and the index page.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface HttpbinOptions {
  /** Where go-httpbin's structured request log lines go. */
  log?: (line: string) => void;
  /** Who is calling, given the connection's remote port (the mesh knows which of its proxies connected). */
  originOf?: (remotePort: number | undefined, remoteAddress: string | undefined) => string | undefined;
}

export function canonicalHeaderKey(k: string): string {
  return k
    .toLowerCase()
    .split('-')
    .map((p) => (p.length > 0 ? p[0]!.toUpperCase() + p.slice(1) : p))
    .join('-');
}

export function requestHeaders(req: IncomingMessage): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const key = canonicalHeaderKey(req.rawHeaders[i]!);
    if (key === 'Host') continue;
    (out[key] ??= []).push(req.rawHeaders[i + 1]!);
  }
  // go-httpbin's getRequestHeaders sets Host from r.Host, which Go keeps out of r.Header.
  if (req.headers.host) out.Host = [req.headers.host];
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function origin(req: IncomingMessage, opts: HttpbinOptions): string {
  const xff = req.headers['x-forwarded-for'];
  const first = (Array.isArray(xff) ? xff[0] : xff)?.split(',')[0]?.trim();
  if (first) return first;
  return (
    opts.originOf?.(req.socket.remotePort, req.socket.remoteAddress) ??
    req.socket.remoteAddress?.replace(/^::ffff:/, '') ??
    ''
  );
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

const STATUS_BODIES: Record<number, string> = {
  418: "I'm a teapot!",
};

export function httpbinHandler(opts: HttpbinOptions = {}) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    const path = url.pathname;
    const args: Record<string, string[]> = {};
    for (const [k, v] of url.searchParams) (args[k] ??= []).push(v);
    const fullUrl = `http://${req.headers.host ?? ''}${req.url ?? '/'}`;
    const chunks: Buffer[] = [];
    const started = Date.now();
    res.once('finish', () =>
      opts.log?.(
        `time="${new Date().toISOString()}" status=${res.statusCode} method="${req.method}" uri="${req.url}" size_bytes=${res.getHeader('content-length') ?? 0} duration_ms=${Date.now() - started} user_agent="${req.headers['user-agent'] ?? ''}" client_ip=${origin(req, opts)}`,
      ),
    );
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (path === '/headers') return json(res, 200, { headers: requestHeaders(req) });
      if (path === '/ip') return json(res, 200, { origin: origin(req, opts) });
      if (path === '/user-agent') return json(res, 200, { 'user-agent': req.headers['user-agent'] ?? '' });
      if (path === '/get') {
        if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res);
        return json(res, 200, {
          args,
          headers: requestHeaders(req),
          method: req.method,
          origin: origin(req, opts),
          url: fullUrl,
        });
      }
      if (path === '/anything' || path.startsWith('/anything/')) {
        const data = Buffer.concat(chunks).toString('utf8');
        return json(res, 200, {
          args,
          headers: requestHeaders(req),
          method: req.method,
          origin: origin(req, opts),
          url: fullUrl,
          data,
          files: {},
          form: {},
          json: null,
        });
      }
      const status = /^\/status\/([\d,]+)$/.exec(path);
      if (status) {
        const codes = status[1]!
          .split(',')
          .filter((c) => c.length > 0)
          .map(Number);
        const code = codes[Math.floor(Math.random() * codes.length)] ?? 0;
        if (!(code >= 100 && code <= 599)) return plain(res, 400, 'Invalid status code\n');
        const body = STATUS_BODIES[code] ?? '';
        const headers: Record<string, string | number> = { 'Content-Length': Buffer.byteLength(body) };
        if (code >= 300 && code < 400) headers.Location = '/redirect/1';
        if (body) headers['Content-Type'] = 'text/plain; charset=utf-8';
        res.writeHead(code, headers);
        return void res.end(body);
      }
      const delay = /^\/delay\/(\d+(?:\.\d+)?)$/.exec(path);
      if (delay) {
        const ms = Math.min(Number(delay[1]) * 1000, 10_000);
        const t = setTimeout(
          () =>
            json(res, 200, {
              args,
              headers: requestHeaders(req),
              method: req.method,
              origin: origin(req, opts),
              url: fullUrl,
            }),
          ms,
        );
        res.on('close', () => clearTimeout(t));
        return;
      }
      if (path === '/') {
        const html =
          '<!DOCTYPE html>\n<html>\n<head><title>go-httpbin</title></head>\n<body><h1>go-httpbin</h1><p>A reasonably complete and well-tested golang port of httpbin.</p></body>\n</html>\n';
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(html) });
        return void res.end(html);
      }
      plain(res, 404, '404 page not found\n');
    });
  };
}

function plain(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

function methodNotAllowed(res: ServerResponse): void {
  plain(res, 405, 'Method Not Allowed\n');
}

export function createHttpbin(opts: HttpbinOptions = {}): Server {
  const server = createServer(httpbinHandler(opts));
  server.keepAliveTimeout = 5_000;
  return server;
}
