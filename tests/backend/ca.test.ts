import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { randomBytes, webcrypto } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import t from 'tap';
import { CsrError, loadOrCreateCa } from '../../backend/ca/ca.js';

const DEVICE_UUID = '3f2b8c1e-9d4a-4e6b-8f0a-1c2d3e4f5a6b';
const DAY_MS = 24 * 60 * 60 * 1000;

const opensslSkip: string | false = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'pipe' });
    return false;
  } catch {
    return 'openssl is not installed';
  }
})();

function makeTempDir(tt: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ares-ca-'));
  tt.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
}

async function makeCsr(opts: { cn?: string; rsa?: boolean; curve?: string } = {}): Promise<string> {
  const alg = opts.rsa
    ? { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }
    : { name: 'ECDSA', namedCurve: opts.curve ?? 'P-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, false, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    {
      name: `CN=${opts.cn ?? 'device-asked-for-this'}`,
      keys,
      signingAlgorithm: opts.rsa ? { name: 'RSASSA-PKCS1-v1_5' } : { name: 'ECDSA', hash: 'SHA-256' },
    },
    webcrypto,
  );
  return csr.toString('pem');
}

function csrDer(pem: string): Buffer {
  return Buffer.from(x509.PemConverter.decodeFirst(pem));
}

function armour(der: Buffer): string {
  return x509.PemConverter.encode(der, 'CERTIFICATE REQUEST');
}

t.test('creates the CA once and reloads the same one', async (t) => {
  const dir = makeTempDir(t);
  const now = new Date();
  const ca = await loadOrCreateCa(dir, now);

  const keyPath = path.join(dir, 'ca', 'ca.key');
  const certPath = path.join(dir, 'ca', 'ca.crt');
  t.ok(fs.existsSync(keyPath), 'ca.key exists');
  t.ok(fs.existsSync(certPath), 'ca.crt exists');
  t.equal(fs.statSync(keyPath).mode & 0o777, 0o600, 'key is 0600');
  t.equal(fs.statSync(path.join(dir, 'ca')).mode & 0o777, 0o700, 'ca dir is 0700');
  t.match(fs.readFileSync(keyPath, 'utf8'), /^-----BEGIN PRIVATE KEY-----/, 'key is PKCS#8 PEM');
  t.equal(fs.readFileSync(certPath, 'utf8'), ca.certificatePem, 'ca.crt holds certificatePem');

  const cert = new x509.X509Certificate(ca.certificatePem);
  t.equal(cert.subject, 'CN=Ares Device CA', 'CA subject');
  t.equal(cert.issuer, 'CN=Ares Device CA', 'self-issued');
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  t.ok(bc?.ca, 'CA:true');
  t.equal(bc?.pathLength, 0, 'pathLen 0');
  t.ok(bc?.critical, 'basicConstraints critical');
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  t.equal(ku?.usages, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, 'keyCertSign+cRLSign');
  t.ok(ku?.critical, 'keyUsage critical');
  t.ok(cert.getExtension(x509.SubjectKeyIdentifierExtension), 'has SKI');
  const years = (cert.notAfter.getTime() - cert.notBefore.getTime()) / (365.25 * DAY_MS);
  t.ok(Math.abs(years - 10) < 0.01, `10-year validity (got ${years})`);
  t.ok(await cert.verify({ signatureOnly: true }, webcrypto), 'self-signature verifies');

  const again = await loadOrCreateCa(dir, new Date(now.getTime() + DAY_MS));
  t.equal(again.certificatePem, ca.certificatePem, 'second start returns the same CA');
  // The reloaded key must actually be the CA key: its issued certs must chain to the original cert.
  const issued = await again.signDeviceCsr(await makeCsr(), DEVICE_UUID, new Date());
  const reissued = new x509.X509Certificate(issued.pem);
  t.ok(
    await reissued.verify({ publicKey: cert.publicKey, signatureOnly: true }, webcrypto),
    'reloaded key signs as the CA',
  );
});

t.test('concurrent first starts agree on one CA', async (t) => {
  const dir = makeTempDir(t);
  const cas = await Promise.all([1, 2, 3].map(() => loadOrCreateCa(dir, new Date())));
  t.equal(new Set(cas.map((c) => c.certificatePem)).size, 1, 'one CA certificate');
  t.same(fs.readdirSync(dir), ['ca'], 'no staging directories left behind');
});

t.test('issues a device certificate that openssl accepts for client auth', { skip: opensslSkip }, async (t) => {
  const dir = makeTempDir(t);
  const ca = await loadOrCreateCa(dir, new Date());
  const now = new Date();
  const issued = await ca.signDeviceCsr(await makeCsr({ cn: 'evil-admin' }), DEVICE_UUID, now);

  const caFile = path.join(dir, 'ca.crt');
  const devFile = path.join(dir, 'device.crt');
  fs.writeFileSync(caFile, ca.certificatePem);
  fs.writeFileSync(devFile, issued.pem);
  const out = openssl(['verify', '-purpose', 'sslclient', '-CAfile', caFile, devFile]);
  t.match(out, /: OK/, 'openssl verify OK');

  const info = openssl(['x509', '-in', devFile, '-noout', '-subject', '-ext', 'extendedKeyUsage']);
  t.match(info, new RegExp(`subject=CN ?= ?${DEVICE_UUID}\\s*\\n`), 'CN is the device uuid, not the CSR CN');
  t.notMatch(info, /evil-admin/, 'requested CN ignored');
  t.match(info, /TLS Web Client Authentication/, 'EKU clientAuth');
  t.notMatch(info, /Server Authentication/, 'no serverAuth');

  const cert = new x509.X509Certificate(issued.pem);
  t.equal(cert.subject, `CN=${DEVICE_UUID}`, 'subject');
  t.equal(cert.issuer, 'CN=Ares Device CA', 'issuer');
  t.equal(cert.serialNumber.toLowerCase(), issued.serial, 'reported serial matches the certificate');
  t.match(issued.serial, /^[0-7][0-9a-f]{31}$/, '16-byte positive serial, lowercase hex');
  t.equal(issued.notBefore.getTime(), now.getTime() - 5 * 60 * 1000, 'notBefore = now - 5 min');
  t.equal(issued.notAfter.getTime(), now.getTime() + 365 * DAY_MS, 'notAfter = now + 365 d');
  // X.509 times have one-second resolution.
  t.ok(Math.abs(cert.notAfter.getTime() - (now.getTime() + 365 * DAY_MS)) < 1000, 'notAfter ~ now + 365d');
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  t.equal(bc?.ca, false, 'CA:false');
  t.ok(bc?.critical, 'basicConstraints critical');
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  t.equal(
    ku?.usages,
    x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement,
    'digitalSignature+keyAgreement',
  );
  t.ok(ku?.critical, 'keyUsage critical');
  const caSki = new x509.X509Certificate(ca.certificatePem).getExtension(x509.SubjectKeyIdentifierExtension);
  t.equal(cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId, caSki?.keyId, 'AKI matches CA SKI');
  t.ok(cert.getExtension(x509.SubjectKeyIdentifierExtension), 'has SKI');

  const second = await ca.signDeviceCsr(await makeCsr(), DEVICE_UUID, now);
  t.not(second.serial, issued.serial, 'serials are random');
});

t.test('a certificate from a different CA does not verify against ours', { skip: opensslSkip }, async (t) => {
  const dir = makeTempDir(t);
  const ours = await loadOrCreateCa(path.join(dir, 'ours'), new Date());
  const theirs = await loadOrCreateCa(path.join(dir, 'theirs'), new Date());
  t.not(theirs.certificatePem, ours.certificatePem, 'two distinct CAs');
  const foreign = await theirs.signDeviceCsr(await makeCsr(), DEVICE_UUID, new Date());

  const caFile = path.join(dir, 'ca.crt');
  const devFile = path.join(dir, 'foreign.crt');
  fs.writeFileSync(caFile, ours.certificatePem);
  fs.writeFileSync(devFile, foreign.pem);
  t.throws(() => openssl(['verify', '-purpose', 'sslclient', '-CAfile', caFile, devFile]), 'openssl exits non-zero');
});

t.test('hostile CSRs are rejected with CsrError', async (t) => {
  const dir = makeTempDir(t);
  const ca = await loadOrCreateCa(dir, new Date());
  const now = new Date();
  const good = await makeCsr();
  const der = csrDer(good);

  const flipped = Buffer.from(der);
  flipped[flipped.length - 1]! ^= 0xff;
  const flippedMid = Buffer.from(der);
  flippedMid[flippedMid.length - 10]! ^= 0x01;

  // The message check proves each input is caught by the intended check, not by some incidental failure.
  const cases: [string, string | Promise<string>, RegExp][] = [
    ['empty string', '', /empty/],
    ['random text', 'hello, I am definitely a certificate request', /not a PEM/],
    [
      'PEM armour around invalid base64',
      '-----BEGIN CERTIFICATE REQUEST-----\n!!!not*base64???\n-----END CERTIFICATE REQUEST-----\n',
      /not valid base64/,
    ],
    ['PEM armour around random bytes', armour(Buffer.concat([Buffer.from([0x04]), randomBytes(200)])), /not DER/],
    ['PEM armour around a DER SEQUENCE of junk', armour(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05])), /PKCS#10/],
    ['truncated DER', armour(der.subarray(0, Math.floor(der.length / 2))), /truncated/],
    ['truncated PEM text', good.slice(0, Math.floor(good.length / 2)), /not a PEM/],
    ['trailing data after DER', armour(Buffer.concat([der, Buffer.from([0, 0, 0])])), /trailing data/],
    ['signature last byte flipped', armour(flipped), /signature/],
    ['signature inner byte flipped', armour(flippedMid), /signature/],
    ['a certificate in CSR armour', armour(csrDer(ca.certificatePem)), /PKCS#10/],
    ['RSA-2048 key', makeCsr({ rsa: true }), /must be EC P-256, got RSA/],
    ['P-384 key', makeCsr({ curve: 'P-384' }), /must be EC P-256, got ECDSA P-384/],
  ];
  for (const [name, input, message] of cases) {
    const pem = await input;
    await t.rejects(ca.signDeviceCsr(pem, DEVICE_UUID, now), CsrError, name);
    await t.rejects(ca.signDeviceCsr(pem, DEVICE_UUID, now), { message }, `${name}: says what was wrong`);
  }

  // Sanity: the unmodified CSR is accepted, so the rejections above are about the tampering.
  t.ok((await ca.signDeviceCsr(good, DEVICE_UUID, now)).pem, 'untampered CSR is accepted');
});

t.test('refuses to start when one file of the pair is missing', async (t) => {
  for (const missing of ['ca.key', 'ca.crt']) {
    const dir = makeTempDir(t);
    await loadOrCreateCa(dir, new Date());
    fs.rmSync(path.join(dir, 'ca', missing));
    await t.rejects(loadOrCreateCa(dir, new Date()), new RegExp(`${missing.replace('.', '\\.')} is missing`), missing);
    const other = missing === 'ca.key' ? 'ca.crt' : 'ca.key';
    t.ok(fs.existsSync(path.join(dir, 'ca', other)), `${other} left untouched`);
    t.notOk(fs.existsSync(path.join(dir, 'ca', missing)), `no new ${missing} was created`);
  }
});

t.test('device uuid goes into the CN verbatim and cannot inject extra name parts', async (t) => {
  const ca = await loadOrCreateCa(makeTempDir(t), new Date());
  const issued = await ca.signDeviceCsr(await makeCsr(), 'dev,O=Evil', new Date());
  const name = new x509.X509Certificate(issued.pem).subjectName.toJSON();
  t.same(name, [{ CN: ['dev,O=Evil'] }], 'single CN RDN');
  await t.rejects(ca.signDeviceCsr(await makeCsr(), '', new Date()), /deviceUuid/, 'empty uuid refused');
});

t.test('refuses a key that does not match the certificate', async (t) => {
  const a = makeTempDir(t);
  const b = makeTempDir(t);
  await loadOrCreateCa(a, new Date());
  await loadOrCreateCa(b, new Date());
  fs.copyFileSync(path.join(b, 'ca', 'ca.key'), path.join(a, 'ca', 'ca.key'));
  await t.rejects(loadOrCreateCa(a, new Date()), /does not match/);
});
