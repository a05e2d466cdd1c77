import { createPublicKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import {
  bitString,
  booleanTrue,
  explicit,
  octetString,
  oid,
  sequence,
  set,
  tlv,
  time,
  unsignedInteger,
  utf8String,
  smallInteger,
} from './der.js';

export interface DistinguishedName {
  commonName?: string;
  organization?: string;
}

export interface SubjectAltNames {
  dns?: string[];
  uri?: string[];
  ip?: string[];
}

export interface CertificateRequest {
  subject?: DistinguishedName;
  altNames?: SubjectAltNames;
  notBefore: Date;
  notAfter: Date;
  /** `ca` signs other certificates; `leaf` is a TLS server and client certificate, as Istio issues. */
  role: 'ca' | 'leaf';
  /** Signs with this issuer; self-signed when absent. */
  issuer?: Issuer;
  /** A fresh EC P-256 key is generated when absent. */
  key?: KeyObject;
}

export interface Issuer {
  certPem: string;
  key: KeyObject;
}

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  key: KeyObject;
  serialHex: string;
}

const ECDSA_WITH_SHA256 = sequence(oid('1.2.840.10045.4.3.2'));

export function generateKey(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
}

export function issueCertificate(req: CertificateRequest): IssuedCertificate {
  const key = req.key ?? generateKey();
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const subject = encodeName(req.subject ?? {});
  const issuerName = req.issuer ? Buffer.from(issuerSubjectDer(req.issuer.certPem)) : subject;
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });

  const tbs = sequence(
    explicit(0, smallInteger(2)),
    unsignedInteger(serial),
    ECDSA_WITH_SHA256,
    issuerName,
    sequence(time(req.notBefore), time(req.notAfter)),
    subject,
    spki,
    explicit(3, sequence(...extensions(req, subject))),
  );
  const signature = sign('sha256', tbs, { key: req.issuer?.key ?? key, dsaEncoding: 'der' });
  const der = sequence(tbs, ECDSA_WITH_SHA256, bitString(signature));
  return {
    certPem: toPem('CERTIFICATE', der),
    keyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    key,
    serialHex: serial.toString('hex'),
  };
}

function extensions(req: CertificateRequest, subject: Buffer): Buffer[] {
  const out: Buffer[] = [];
  if (req.role === 'ca') {
    out.push(extension('2.5.29.19', true, sequence(booleanTrue())));
    out.push(extension('2.5.29.15', true, bitString(Buffer.from([0x06]), true))); // keyCertSign, cRLSign
  } else {
    out.push(extension('2.5.29.19', true, sequence()));
    out.push(extension('2.5.29.15', true, bitString(Buffer.from([0xa0]), true))); // digitalSignature, keyEncipherment
    out.push(extension('2.5.29.37', false, sequence(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2'))));
  }
  const names = generalNames(req.altNames ?? {});
  // RFC 5280 §4.2.1.6: with an empty subject the SAN extension must be critical (Istio's certs do this).
  const emptySubject = subject.length === 2;
  if (names.length > 0) out.push(extension('2.5.29.17', emptySubject, sequence(...names)));
  return out;
}

function generalNames(alt: SubjectAltNames): Buffer[] {
  return [
    ...(alt.dns ?? []).map((d) => tlv(0x82, Buffer.from(d, 'ascii'))),
    ...(alt.uri ?? []).map((u) => tlv(0x86, Buffer.from(u, 'ascii'))),
    ...(alt.ip ?? []).map((ip) => tlv(0x87, ipBytes(ip))),
  ];
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  throw new Error(`only IPv4 addresses are supported in certificates, got ${ip}`);
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(oid(id), booleanTrue(), octetString(value)) : sequence(oid(id), octetString(value));
}

function encodeName(dn: DistinguishedName): Buffer {
  const rdns: Buffer[] = [];
  if (dn.organization) rdns.push(set(sequence(oid('2.5.4.10'), utf8String(dn.organization))));
  if (dn.commonName) rdns.push(set(sequence(oid('2.5.4.3'), utf8String(dn.commonName))));
  return sequence(...rdns);
}

/** The issuer's subject Name, byte for byte, so chain building matches it exactly. */
function issuerSubjectDer(certPem: string): Buffer {
  const der = new X509Certificate(certPem).raw;
  // Certificate ::= SEQUENCE { tbs SEQUENCE { [0] version, serial, sigAlg, issuer, validity, subject, ... } }
  let pos = headerLength(der, 0); // into Certificate
  pos += headerLength(der, pos); // into TBSCertificate
  for (let field = 0; field < 5; field++) pos = skip(der, pos); // version, serial, sigAlg, issuer, validity
  return der.subarray(pos, skip(der, pos));
}

function headerLength(der: Buffer, pos: number): number {
  const first = der[pos + 1] ?? 0;
  return first < 0x80 ? 2 : 2 + (first & 0x7f);
}

function skip(der: Buffer, pos: number): number {
  const first = der[pos + 1] ?? 0;
  let len = first;
  if (first >= 0x80) {
    len = 0;
    for (let i = 0; i < (first & 0x7f); i++) len = len * 256 + (der[pos + 2 + i] ?? 0);
  }
  return pos + headerLength(der, pos) + len;
}

function toPem(label: string, der: Buffer): string {
  const b64 = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
