import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import { AresError } from '../../core/errors.js';
import { readCaFiles, writeCaFilesAtomically } from './ca-store.js';

export interface IssuedCertificate {
  pem: string;
  /** Lowercase hex, no colons. */
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

export interface CertificateAuthority {
  /** The CA certificate (PEM). */
  readonly certificatePem: string;
  signDeviceCsr(csrPem: string, deviceUuid: string, now: Date): Promise<IssuedCertificate>;
  /**
   * A TLS server certificate (with its new private key) for central's own listeners, such as the
   * embedded MQTT broker: devices already trust this CA, so they can verify the broker with it.
   */
  issueServerCertificate(hostnames: readonly string[], now: Date): Promise<{ certPem: string; keyPem: string }>;
}

/**
 * Every way a device-supplied CSR can be unacceptable (ARES_ERR_CSR: 422 over HTTP, never transient);
 * anything else thrown while signing is a 500.
 */
export class CsrError extends AresError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ARES_ERR_CSR', message, { cause: options?.cause });
    this.name = 'CsrError';
  }
}

// Passed explicitly to every @peculiar/x509 call so this module never depends on (or mutates) the
// library's global crypto provider, which other code in the process may configure differently.
const crypto = webcrypto;

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;
const CA_SUBJECT = 'CN=Ares Device CA';
const CA_VALIDITY_YEARS = 10;
const DEVICE_VALIDITY_MS = 365 * 24 * 60 * 60 * 1000;
// Tolerates devices whose clocks run a little behind ours (Pis without an RTC, pre-NTP).
const DEVICE_BACKDATE_MS = 5 * 60 * 1000;
// A P-256 CSR is a few hundred bytes; anything huge is hostile and not worth base64-decoding.
const MAX_CSR_PEM_CHARS = 16 * 1024;
// RFC 5280 ub-common-name.
const MAX_CN_LENGTH = 64;

const CSR_PEM_RE =
  /^\s*-----BEGIN (NEW )?CERTIFICATE REQUEST-----\r?\n([\s\S]*?)-----END \1CERTIFICATE REQUEST-----\s*$/;

/** 16 random bytes with the top bit cleared (DER INTEGERs are signed) and the next bit set so the
 * encoding is never shortened by leading-zero stripping, keeping the serial exactly 16 bytes. */
function randomSerialHex(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return Buffer.from(bytes).toString('hex');
}

function pemToDer(pem: string, label: string): ArrayBuffer {
  const body = pem.replace(new RegExp(`-----(BEGIN|END) ${label}-----`, 'g'), '').replace(/\s+/g, '');
  const buf = Buffer.from(body, 'base64');
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
}

/** Length of the outermost DER TLV, or null if the header itself is malformed. Lets us report
 * truncation and trailing junk precisely instead of surfacing an opaque ASN.1 parser error. */
function derOuterLength(der: Uint8Array): number | null {
  if (der.length < 2 || der[0] !== 0x30) return null;
  const first = der[1]!;
  if (first < 0x80) return 2 + first;
  const n = first & 0x7f;
  if (n === 0 || n > 4 || der.length < 2 + n) return null;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + der[2 + i]!;
  return 2 + n + len;
}

function decodeCsrPem(csrPem: string): Uint8Array {
  if (typeof csrPem !== 'string' || csrPem.trim() === '') throw new CsrError('CSR is empty');
  if (csrPem.length > MAX_CSR_PEM_CHARS) throw new CsrError(`CSR is larger than ${MAX_CSR_PEM_CHARS} characters`);
  const m = CSR_PEM_RE.exec(csrPem);
  if (!m) throw new CsrError('CSR is not a PEM "CERTIFICATE REQUEST" block');
  const b64 = m[2]!.replace(/\s+/g, '');
  if (b64.length === 0 || b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
    throw new CsrError('CSR PEM body is not valid base64');
  }
  const der = new Uint8Array(Buffer.from(b64, 'base64'));
  const expected = derOuterLength(der);
  if (expected === null) throw new CsrError('CSR is not DER: missing or malformed outer SEQUENCE');
  if (der.length < expected) throw new CsrError(`CSR is truncated (declares ${expected} bytes, got ${der.length})`);
  if (der.length > expected) throw new CsrError(`CSR has ${der.length - expected} bytes of trailing data`);
  return der;
}

async function parseAndCheckCsr(csrPem: string): Promise<webcrypto.CryptoKey> {
  const der = decodeCsrPem(csrPem);
  let csr: x509.Pkcs10CertificateRequest;
  let keyAlg: { name?: string; namedCurve?: string };
  try {
    csr = new x509.Pkcs10CertificateRequest(der);
    keyAlg = csr.publicKey.algorithm as typeof keyAlg;
  } catch (err) {
    throw new CsrError(`CSR is not a valid PKCS#10 structure: ${(err as Error).message}`, { cause: err });
  }
  // Checked before verify() so an exotic key yields "wrong key type" rather than an import failure.
  if (keyAlg.name !== 'ECDSA' || keyAlg.namedCurve !== 'P-256') {
    const got = keyAlg.namedCurve ? `${keyAlg.name} ${keyAlg.namedCurve}` : (keyAlg.name ?? 'unknown');
    throw new CsrError(`CSR public key must be EC P-256, got ${got}`);
  }
  let ok: boolean;
  try {
    ok = await csr.verify(crypto);
  } catch (err) {
    throw new CsrError(`CSR signature could not be checked: ${(err as Error).message}`, { cause: err });
  }
  if (!ok) throw new CsrError('CSR signature is invalid (proof of key possession failed)');
  try {
    // Re-importing validates the point is on the curve and lets the certificate carry a canonical SPKI
    // rather than whatever encoding the device chose.
    return (await csr.publicKey.export(EC_P256, ['verify'], crypto)) as webcrypto.CryptoKey;
  } catch (err) {
    throw new CsrError(`CSR public key is not a usable P-256 key: ${(err as Error).message}`, { cause: err });
  }
}

function checkDeviceUuid(deviceUuid: string): void {
  if (typeof deviceUuid !== 'string' || deviceUuid.length === 0 || deviceUuid.length > MAX_CN_LENGTH) {
    throw new Error(`deviceUuid must be a non-empty string of at most ${MAX_CN_LENGTH} characters`);
  }
}

class LoadedCa implements CertificateAuthority {
  constructor(
    readonly certificatePem: string,
    private readonly cert: x509.X509Certificate,
    private readonly signingKey: webcrypto.CryptoKey,
    private readonly authorityKeyId: string,
  ) {}

  async signDeviceCsr(csrPem: string, deviceUuid: string, now: Date): Promise<IssuedCertificate> {
    checkDeviceUuid(deviceUuid);
    const publicKey = await parseAndCheckCsr(csrPem);
    const notBefore = new Date(now.getTime() - DEVICE_BACKDATE_MS);
    const notAfter = new Date(now.getTime() + DEVICE_VALIDITY_MS);
    const cert = await x509.X509CertificateGenerator.create(
      {
        serialNumber: randomSerialHex(),
        // JSON form, not "CN=..." text, so a uuid containing ',' or '=' cannot inject extra RDNs.
        subject: [{ CN: [deviceUuid] }],
        issuer: this.cert.subjectName,
        notBefore,
        notAfter,
        publicKey: publicKey,
        signingKey: this.signingKey,
        signingAlgorithm: SIGNING_ALG,
        // CSR-requested extensions are deliberately ignored: the device does not get to choose its powers.
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
          new x509.AuthorityKeyIdentifierExtension(this.authorityKeyId),
          await x509.SubjectKeyIdentifierExtension.create(publicKey, false, crypto),
        ],
      },
      crypto,
    );
    return { pem: cert.toString('pem'), serial: cert.serialNumber.toLowerCase(), notBefore, notAfter };
  }

  async issueServerCertificate(hostnames: readonly string[], now: Date): Promise<{ certPem: string; keyPem: string }> {
    const keys = (await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const names = [...new Set(hostnames.filter((h) => h.length > 0))];
    const cert = await x509.X509CertificateGenerator.create(
      {
        serialNumber: randomSerialHex(),
        subject: [{ CN: [names[0] ?? 'ares-central'] }],
        issuer: this.cert.subjectName,
        notBefore: new Date(now.getTime() - DEVICE_BACKDATE_MS),
        notAfter: new Date(now.getTime() + DEVICE_VALIDITY_MS),
        publicKey: keys.publicKey,
        signingKey: this.signingKey,
        signingAlgorithm: SIGNING_ALG,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
          new x509.SubjectAlternativeNameExtension(
            names.map((n) => (isIP(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n })),
          ),
          new x509.AuthorityKeyIdentifierExtension(this.authorityKeyId),
        ],
      },
      crypto,
    );
    const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
    const keyPem = `-----BEGIN PRIVATE KEY-----\n${Buffer.from(pkcs8)
      .toString('base64')
      .replace(/(.{64})/g, '$1\n')
      .replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
    return { certPem: cert.toString('pem'), keyPem };
  }
}

async function createCaMaterial(now: Date): Promise<{ keyPem: string; certPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerialHex(),
      name: CA_SUBJECT,
      notBefore: now,
      notAfter,
      keys: keys,
      signingAlgorithm: SIGNING_ALG,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return {
    keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'),
    certPem: cert.toString('pem'),
  };
}

async function loadCa(keyPem: string, certPem: string): Promise<CertificateAuthority> {
  const cert = new x509.X509Certificate(certPem);
  // Non-extractable: once loaded, nothing in the process needs the raw key bytes again.
  const signingKey = await webcrypto.subtle.importKey('pkcs8', pemToDer(keyPem, 'PRIVATE KEY'), EC_P256, false, [
    'sign',
  ]);
  // A key/cert mismatch (e.g. a restored backup of only one file) would issue certificates that never
  // chain; fail at startup instead of at the first device enrollment.
  const probe = webcrypto.getRandomValues(new Uint8Array(32));
  const sig = await webcrypto.subtle.sign(SIGNING_ALG, signingKey, probe);
  const certKey = await cert.publicKey.export(EC_P256, ['verify'], crypto);
  if (!(await webcrypto.subtle.verify(SIGNING_ALG, certKey as webcrypto.CryptoKey, sig, probe))) {
    throw new Error('CA private key does not match the CA certificate');
  }
  // Device AKIs must equal whatever SKI the CA cert actually carries, so read it rather than recompute.
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const authorityKeyId = ski?.keyId ?? Buffer.from(await cert.publicKey.getKeyIdentifier(crypto)).toString('hex');
  return new LoadedCa(certPem, cert, signingKey, authorityKeyId);
}

export async function loadOrCreateCa(dataDir: string, now: Date): Promise<CertificateAuthority> {
  const existing = await readCaFiles(dataDir);
  if (existing) return loadCa(existing.keyPem, existing.certPem);
  const created = await createCaMaterial(now);
  if (await writeCaFilesAtomically(dataDir, created)) return loadCa(created.keyPem, created.certPem);
  // Lost a creation race to a concurrent start; the winner's CA is the one devices will trust.
  const winner = await readCaFiles(dataDir);
  if (!winner) throw new Error(`CA directory under ${dataDir} exists but contains neither ca.key nor ca.crt`);
  return loadCa(winner.keyPem, winner.certPem);
}
