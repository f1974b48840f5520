import 'reflect-metadata';
import { createPublicKey, webcrypto, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A PKCS#10 request for the device key; central sets the subject (CN = device_uuid) itself. */
export async function createCsr(privateKey: KeyObject, deviceUuid: string): Promise<string> {
  const subtle = webcrypto.subtle;
  const priv = await subtle.importKey('pkcs8', privateKey.export({ type: 'pkcs8', format: 'der' }), ALG, false, [
    'sign',
  ]);
  const pub = await subtle.importKey(
    'spki',
    createPublicKey(privateKey).export({ type: 'spki', format: 'der' }),
    ALG,
    true,
    ['verify'],
  );
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    { name: `CN=${deviceUuid}`, keys: { privateKey: priv, publicKey: pub }, signingAlgorithm: ALG },
    webcrypto,
  );
  return csr.toString('pem');
}
