// How Envoy reports upstream failures to the downstream client (source/common/router/router.cc and
// stream_info's reset-reason strings), in the shape Istio users see them.
import type { ServerResponse } from 'node:http';

export type ResetReason =
  | { kind: 'connection-failure'; transport?: string }
  | { kind: 'connection-termination' }
  | { kind: 'no-healthy-upstream' };

export function resetBody(reason: ResetReason, retried: boolean): string {
  if (reason.kind === 'no-healthy-upstream') return 'no healthy upstream';
  const r =
    reason.kind === 'connection-termination'
      ? 'connection termination'
      : `connection failure${reason.transport ? `, transport failure reason: ${reason.transport}` : ''}`;
  return retried
    ? `upstream connect error or disconnect/reset before headers. retried and the latest reset reason: ${r}`
    : `upstream connect error or disconnect/reset before headers. reset reason: ${r}`;
}

const BORINGSSL_CODES: Record<string, number> = {
  WRONG_VERSION_NUMBER: 268435703,
  CERTIFICATE_VERIFY_FAILED: 268435581,
  SSLV3_ALERT_CERTIFICATE_UNKNOWN: 268436502,
  TLSV1_ALERT_UNKNOWN_CA: 268436528,
  SSLV3_ALERT_HANDSHAKE_FAILURE: 268436496,
  TLSV13_ALERT_CERTIFICATE_REQUIRED: 268436652,
};

/** Envoy's "TLS_error:|<code>:SSL routines:OPENSSL_internal:<REASON>:TLS_error_end" from a Node TLS error. */
export function transportFailure(err: NodeJS.ErrnoException): string {
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED') return 'delayed connect error: 111';
  if (code === 'ECONNRESET' || code === 'EPIPE')
    return 'TLS_error:|SSL routines:OPENSSL_internal:Connection reset by peer:TLS_error_end';
  let reason = code.startsWith('ERR_SSL_') ? code.slice('ERR_SSL_'.length) : '';
  if (!reason && /certificate|self.signed|unable to verify|SAN/i.test(err.message))
    reason = 'CERTIFICATE_VERIFY_FAILED';
  if (!reason) reason = code || 'UNKNOWN_ERROR';
  const num = BORINGSSL_CODES[reason];
  return `TLS_error:|${num !== undefined ? `${num}:` : ''}SSL routines:OPENSSL_internal:${reason}:TLS_error_end`;
}

export function sendEnvoyError(res: ServerResponse, status: number, body: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.removeHeader('connection');
  res.writeHead(status, {
    'content-length': Buffer.byteLength(body),
    'content-type': 'text/plain',
    date: new Date().toUTCString(),
    server: 'envoy',
  });
  res.end(body);
}
