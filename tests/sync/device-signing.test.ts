import t from 'tap';
import { createHash, createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  HEADER_DEVICE,
  HEADER_SIGNATURE,
  HEADER_TIMESTAMP,
  SignatureError,
  canonicalString,
  deviceHeaders,
  parseSignatureHeaders,
  sha256Hex,
  signEs256,
  signHmac,
  verifyEs256,
  verifyHmac,
} from '../../sync/device-signing.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function p256(): { publicKey: string; privateKey: string } {
  return generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

const UUID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const GOOD_MAC = 'v1=' + 'ab'.repeat(32);

t.test('known answer', async (t) => {
  const body = enc('{"a":1}');
  const bodyHash = createHash('sha256').update('{"a":1}').digest('hex');
  const canonical = canonicalString('POST', '/api/sync/batches?x=1', '1700000000', body);
  t.equal(canonical, `POST\n/api/sync/batches?x=1\n1700000000\n${bodyHash}`);
  t.equal(canonicalString('post', '/api/sync/batches?x=1', '1700000000', body), canonical, 'method upper-cased');
  t.equal(signHmac('secret', canonical), 'v1=' + createHmac('sha256', 'secret').update(canonical).digest('hex'));
  t.equal(sha256Hex(new Uint8Array(0)), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  t.match(
    canonicalString('GET', '/x', '1', new Uint8Array(0)),
    /\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855$/,
  );
  t.throws(() => canonicalString('GET', '/x\nPOST', '1', new Uint8Array(0)), TypeError);
});

t.test('hmac round trip and tamper', async (t) => {
  const secret = randomBytes(32);
  const body = enc('{"readings":[1,2,3]}');
  const canonical = canonicalString('POST', '/api/sync/batches', '1700000000', body);
  const header = signHmac(secret, canonical);
  t.match(header, /^v1=[0-9a-f]{64}$/);
  const mac = Buffer.from(header.slice(3), 'hex');
  t.ok(verifyHmac(secret, canonical, mac));

  const flipped = Uint8Array.from(body);
  flipped[0] = flipped[0]! ^ 1;
  t.notOk(verifyHmac(secret, canonicalString('POST', '/api/sync/batches', '1700000000', flipped), mac), 'body');
  t.notOk(verifyHmac(secret, canonicalString('POST', '/api/sync/batch', '1700000000', body), mac), 'path');
  t.notOk(verifyHmac(secret, canonicalString('PUT', '/api/sync/batches', '1700000000', body), mac), 'method');
  t.notOk(verifyHmac(secret, canonicalString('POST', '/api/sync/batches', '1700000001', body), mac), 'timestamp');
  t.notOk(verifyHmac(randomBytes(32), canonical, mac), 'secret');
  t.notOk(verifyHmac('', canonical, mac), 'empty secret');
  t.throws(() => signHmac('', canonical), TypeError);
});

t.test('verifyHmac with wrong-length mac returns false', async (t) => {
  const canonical = canonicalString('GET', '/', '1', new Uint8Array(0));
  const mac = Buffer.from(signHmac('s', canonical).slice(3), 'hex');
  t.notOk(verifyHmac('s', canonical, mac.subarray(0, 31)));
  t.notOk(verifyHmac('s', canonical, Buffer.concat([mac, Buffer.from([0])])));
  t.notOk(verifyHmac('s', canonical, Buffer.alloc(0)));
});

t.test('es256 round trip and tamper', async (t) => {
  const { publicKey, privateKey } = p256();
  const other = p256();
  const body = enc('{"csr":"..."}');
  const canonical = canonicalString('POST', '/api/devices/credentials', '1700000000', body);
  const header = signEs256(privateKey, canonical);
  t.match(header, /^es256=[A-Za-z0-9+/]+=*$/);
  const der = Buffer.from(header.slice(6), 'base64');
  t.ok(verifyEs256(publicKey, canonical, der));

  const flipped = Uint8Array.from(body);
  flipped[3] = flipped[3]! ^ 0x80;
  t.notOk(verifyEs256(publicKey, canonicalString('POST', '/api/devices/credentials', '1700000000', flipped), der));
  t.notOk(verifyEs256(publicKey, canonicalString('POST', '/api/devices/credential', '1700000000', body), der));
  t.notOk(verifyEs256(publicKey, canonicalString('PUT', '/api/devices/credentials', '1700000000', body), der));
  t.notOk(verifyEs256(publicKey, canonicalString('POST', '/api/devices/credentials', '1700000009', body), der));
  t.notOk(verifyEs256(other.publicKey, canonical, der), 'different key');
});

t.test('verifyEs256 never throws', async (t) => {
  const { publicKey } = p256();
  const canonical = canonicalString('GET', '/', '1', new Uint8Array(0));
  t.equal(verifyEs256(publicKey, canonical, randomBytes(64)), false);
  t.equal(verifyEs256(publicKey, canonical, randomBytes(72)), false);
  t.equal(verifyEs256(publicKey, canonical, Buffer.alloc(0)), false);
  t.equal(verifyEs256('not a pem', canonical, randomBytes(70)), false);
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  t.equal(verifyEs256(rsa.publicKey, canonical, randomBytes(70)), false, 'non-P-256 key');
});

t.test('deviceHeaders -> parseSignatureHeaders -> verify', async (t) => {
  const secret = 'shared-secret';
  const body = enc('{"x":true}');
  const h = deviceHeaders({
    deviceUuid: UUID,
    method: 'post',
    pathAndQuery: '/api/sync?a=b',
    body,
    nowS: 1700000000.7,
    secret,
  });
  t.same(Object.keys(h).sort(), [HEADER_DEVICE, HEADER_SIGNATURE, HEADER_TIMESTAMP].sort());
  const p = parseSignatureHeaders(h);
  t.equal(p.deviceUuid, UUID);
  t.equal(p.timestamp, 1700000000);
  t.equal(p.timestampRaw, '1700000000');
  t.equal(p.signature.scheme, 'v1');
  if (p.signature.scheme !== 'v1') throw new Error('unreachable');
  t.ok(verifyHmac(secret, canonicalString('POST', '/api/sync?a=b', p.timestampRaw, body), p.signature.mac));

  const { publicKey, privateKey } = p256();
  const e = parseSignatureHeaders(
    deviceHeaders({
      deviceUuid: UUID.toUpperCase(),
      method: 'POST',
      pathAndQuery: '/api/creds',
      nowS: 5,
      privateKeyPem: privateKey,
    }),
  );
  t.equal(e.deviceUuid, UUID, 'lower-cased');
  if (e.signature.scheme !== 'es256') throw new Error('expected es256');
  t.ok(
    verifyEs256(publicKey, canonicalString('POST', '/api/creds', e.timestampRaw, new Uint8Array(0)), e.signature.der),
  );

  t.throws(() => deviceHeaders({ deviceUuid: UUID, method: 'GET', pathAndQuery: '/', nowS: 1 }), TypeError);
  t.throws(
    () =>
      deviceHeaders({ deviceUuid: UUID, method: 'GET', pathAndQuery: '/', nowS: 1, secret, privateKeyPem: privateKey }),
    TypeError,
  );
  t.throws(() => deviceHeaders({ deviceUuid: 'nope', method: 'GET', pathAndQuery: '/', nowS: 1, secret }), TypeError);
});

t.test('gzip: signature covers bytes as sent', async (t) => {
  const json = enc(JSON.stringify({ readings: Array.from({ length: 50 }, (_, i) => i) }));
  const gz = gzipSync(json);
  const secret = randomBytes(32);
  const canonical = canonicalString('POST', '/api/sync/batches', '42', gz);
  const mac = Buffer.from(signHmac(secret, canonical).slice(3), 'hex');
  t.ok(verifyHmac(secret, canonicalString('POST', '/api/sync/batches', '42', gz), mac));
  t.notOk(verifyHmac(secret, canonicalString('POST', '/api/sync/batches', '42', gunzipSync(gz)), mac));
  t.notOk(verifyHmac(secret, canonicalString('POST', '/api/sync/batches', '42', json), mac));
});

t.test('hostile headers', async (t) => {
  const good = (): Record<string, string | string[] | undefined> => ({
    [HEADER_DEVICE]: UUID,
    [HEADER_TIMESTAMP]: '1700000000',
    [HEADER_SIGNATURE]: GOOD_MAC,
  });
  const expectReason = (h: Record<string, string | string[] | undefined>, reason: string, name: string): void => {
    try {
      parseSignatureHeaders(h);
      t.fail(`${name}: expected SignatureError(${reason})`);
    } catch (err) {
      t.type(err, SignatureError, name);
      t.equal((err as SignatureError).reason, reason, name);
    }
  };

  t.ok(parseSignatureHeaders(good()), 'baseline parses');

  for (const name of [HEADER_DEVICE, HEADER_TIMESTAMP, HEADER_SIGNATURE]) {
    const missing = Object.fromEntries(Object.entries(good()).filter(([k]) => k !== name));
    expectReason(missing, 'missing_header', `missing ${name}`);
    expectReason({ ...good(), [name]: undefined }, 'missing_header', `undefined ${name}`);
    expectReason({ ...good(), [name]: '' }, 'missing_header', `empty ${name}`);
    const v = good()[name] as string;
    expectReason({ ...good(), [name]: [v, v] }, 'duplicate_header', `array ${name}`);
  }
  // Upper-case keys are not looked up: Node lower-cases incoming header names.
  expectReason(
    { 'X-Ares-Device': UUID, [HEADER_TIMESTAMP]: '1', [HEADER_SIGNATURE]: GOOD_MAC },
    'missing_header',
    'case',
  );
  // Inherited values must not count.
  const proto = Object.create({ [HEADER_DEVICE]: UUID }) as Record<string, string>;
  proto[HEADER_TIMESTAMP] = '1';
  proto[HEADER_SIGNATURE] = GOOD_MAC;
  expectReason(proto, 'missing_header', 'prototype value');

  for (const id of [
    "1' OR '1'='1",
    'x'.repeat(10_000),
    '3f2504e0-4f89-41d3-9a0c-0305e82c330é',
    '３f2504e0-4f89-41d3-9a0c-0305e82c3301',
    '3f2504e04f8941d39a0c0305e82c3301',
    `{${UUID}}`,
    ` ${UUID}`,
    `${UUID}\n`,
    `${UUID}0`,
    '3f2504e0-4f89-41d3-9a0c-0305e82c330g',
  ]) {
    expectReason({ ...good(), [HEADER_DEVICE]: id }, 'bad_device_id', `device ${JSON.stringify(id.slice(0, 40))}`);
  }

  for (const ts of [
    '-1',
    '1e9',
    ' 123',
    '123 ',
    '+123',
    '1234567890123',
    '9'.repeat(20),
    'abc',
    '1.5',
    '0x10',
    '１２３',
  ]) {
    expectReason({ ...good(), [HEADER_TIMESTAMP]: ts }, 'bad_timestamp', `timestamp ${JSON.stringify(ts)}`);
  }
  t.equal(
    parseSignatureHeaders({ ...good(), [HEADER_TIMESTAMP]: '999999999999' }).timestamp,
    999999999999,
    '12 digits ok',
  );
  t.equal(
    parseSignatureHeaders({ ...good(), [HEADER_TIMESTAMP]: '0' }).timestamp,
    0,
    'far past ok (skew is not a refusal)',
  );

  const validDer = Buffer.from(signEs256(p256().privateKey, 'x').slice(6), 'base64').toString('base64');
  t.equal(parseSignatureHeaders({ ...good(), [HEADER_SIGNATURE]: `es256=${validDer}` }).signature.scheme, 'es256');
  t.equal(parseSignatureHeaders({ ...good(), [HEADER_SIGNATURE]: 'v1=' + 'AB'.repeat(32) }).signature.scheme, 'v1');

  for (const sig of [
    'v2=' + 'ab'.repeat(32),
    'V1=' + 'ab'.repeat(32),
    'ab'.repeat(32),
    'v1=' + 'ab'.repeat(31),
    'v1=' + 'ab'.repeat(33),
    'v1=' + 'zz'.repeat(32),
    'v1= ' + 'ab'.repeat(32),
    'v1=',
    'es256=',
    'es256=!!!!',
    'es256=AAAA AAAA AAAA',
    'es256=QUJD',
    'es256=' + 'A'.repeat(120),
    'es256=AAAAAAAAAAB=',
    'es256=AAAAAAAAAAAA-_==',
    'v1=' + 'a'.repeat(597),
    'es256=' + 'A'.repeat(594),
  ]) {
    expectReason(
      { ...good(), [HEADER_SIGNATURE]: sig },
      'bad_signature_format',
      `signature ${JSON.stringify(sig.slice(0, 30))}`,
    );
  }
  t.equal(('v1=' + 'a'.repeat(597)).length, 600);
});
