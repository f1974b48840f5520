import { createPublicKey, createSign, createVerify } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { HostRoot } from '../../core/host-root.js';
import { hardwareVersionOf, readBoardIdentity } from '../../daemon/identity/board.js';
import { boardChanged, enrollmentRecord, loadOrCreateIdentity } from '../../daemon/identity/identity.js';
import { isValidClaimCode } from '../../sync/enrollment.js';

const fixture = (name: string) => new HostRoot(new URL(`../fixtures/hosts/${name}`, import.meta.url).pathname);
const tempDir = (t: { teardown(fn: () => void): void }) => {
  const dir = mkdtempSync(join(tmpdir(), 'ares-hub-id-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

t.test('board identity from fixture host trees', async (t) => {
  t.same(
    await readBoardIdentity(fixture('pi4')),
    { cpuSerial: '10000000a1b2c3d4', model: 'Raspberry Pi 4 Model B Rev 1.4', hardwareVersion: '4B' },
    'Pi 4: cpuinfo Serial, device-tree model',
  );
  t.same(
    await readBoardIdentity(fixture('pi5')),
    { cpuSerial: 'e4d8a3b2c1f00001', model: 'Raspberry Pi 5 Model B Rev 1.0', hardwareVersion: '5' },
    'Pi 5: device-tree serial-number (NUL-terminated)',
  );
  t.same(
    await readBoardIdentity(fixture('z2w')),
    { cpuSerial: '00000000deadbeef', model: 'Raspberry Pi Zero 2 W Rev 1.0', hardwareVersion: 'Z2W' },
    'Zero 2 W: /sys/firmware model',
  );
  await t.rejects(
    readBoardIdentity(fixture('x86')),
    { code: 'ARES_ERR_CONFIG', message: /hub\.host_root: no CPU serial/ },
    'a PC has no serial: clear error naming the setting',
  );
  await t.rejects(readBoardIdentity(new HostRoot('/nonexistent-root')), { code: 'ARES_ERR_CONFIG' });
});

t.test('hardware_version from the device-tree model', async (t) => {
  const cases: [string, string][] = [
    ['Raspberry Pi 4 Model B Rev 1.5', '4B'],
    ['Raspberry Pi 5 Model B Rev 1.0', '5'],
    ['Raspberry Pi Zero 2 W Rev 1.0', 'Z2W'],
    ['Raspberry Pi 3 Model B Plus Rev 1.3', '3B+'],
    ['Raspberry Pi 3 Model B Rev 1.2', '3B'],
    ['Raspberry Pi Compute Module 4 Rev 1.0', 'CM4'],
    ['Some Other Board v2', 'Some-Other-Board-v2'],
    ['', 'unknown'],
  ];
  for (const [model, version] of cases) t.equal(hardwareVersionOf(model), version, model || '(empty)');
});

t.test('identity is created once, with a private key only the owner can read', async (t) => {
  const dir = tempDir(t);
  const board = await readBoardIdentity(fixture('pi4'));
  const first = loadOrCreateIdentity(dir, board, 'Pro');
  t.ok(first.created);
  t.equal(statSync(join(dir, 'device-key.pem')).mode & 0o777, 0o600, 'key file 0600');
  t.equal(statSync(join(dir, 'identity.json')).mode & 0o777, 0o600, 'identity file 0600 (holds the claim code)');
  const again = loadOrCreateIdentity(dir, board, 'Pro');
  t.notOk(again.created);
  t.equal(again.identity.deviceUuid, first.identity.deviceUuid, 'same uuid across restarts');
  t.equal(again.identity.claimCode, first.identity.claimCode);
  t.match(
    first.identity.deviceUuid,
    /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    'uuid v4',
  );
  t.ok(isValidClaimCode(first.identity.claimCode), 'claim code of ≥ 40 bits');

  const rec = enrollmentRecord(again.identity);
  t.same(Object.keys(rec).sort(), [
    'claim_code',
    'cpu_serial',
    'device_uuid',
    'hardware_variant',
    'hardware_version',
    'public_key',
  ]);
  t.match(rec, { cpu_serial: '10000000a1b2c3d4', hardware_version: '4B', hardware_variant: 'Pro' });
  t.notMatch(JSON.stringify(rec), /PRIVATE KEY/, 'the private key is not in the record');
  const key = createPublicKey(rec.public_key);
  t.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1', 'P-256');
  const sig = createSign('sha256').update('x').sign(again.identity.privateKey);
  t.ok(createVerify('sha256').update('x').verify(key, sig), 'record key matches the stored private key');
});

t.test('an SD card moved to another board is detected, not adopted', async (t) => {
  const dir = tempDir(t);
  loadOrCreateIdentity(dir, await readBoardIdentity(fixture('pi4')), 'Standard');
  const other = tempDir(t);
  cpSync(fixture('pi4').root, other, { recursive: true });
  writeFileSync(join(other, 'proc/cpuinfo'), 'Serial\t\t: 10000000ffff0000\n');
  const moved = loadOrCreateIdentity(dir, await readBoardIdentity(new HostRoot(other)), 'Standard');
  t.ok(boardChanged(moved.identity));
  t.equal(moved.identity.enrolledCpuSerial, '10000000a1b2c3d4');
  t.equal(moved.identity.cpuSerial, '10000000ffff0000', 'the hub reports the board it really runs on');
  const still = loadOrCreateIdentity(dir, await readBoardIdentity(fixture('pi4')), 'Standard');
  t.notOk(boardChanged(still.identity), 'the stored identity was not rewritten');
});

t.test('a corrupt identity file is a clear error', async (t) => {
  const dir = tempDir(t);
  loadOrCreateIdentity(dir, await readBoardIdentity(fixture('pi4')), 'Standard');
  writeFileSync(join(dir, 'identity.json'), '{"device_uuid": 12');
  t.throws(() => loadOrCreateIdentity(dir, { cpuSerial: 'abcd1234', model: 'x', hardwareVersion: '4B' }, 'Standard'), {
    code: 'ARES_ERR_CONFIG',
    message: /hub\.state_dir/,
  });
});
