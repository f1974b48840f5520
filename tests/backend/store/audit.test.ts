import t from 'tap';
import { adminAlertPage, auditLogPage, raiseAdminAlert, recordAudit } from '../../../backend/store/audit.js';
import { dbTargets } from '../../helpers/databases.js';
import { migratedDb } from '../../helpers/store-db.js';

for (const target of await dbTargets()) {
  t.test(`store/audit on ${target.name}`, { skip: target.skip }, async (t) => {
    t.teardown(() => target.cleanup());

    t.test('the audit log by page: newest first, below an id, of one action', async (t) => {
      const db = await migratedDb(t, target);
      for (let i = 1; i <= 5; i++)
        await recordAudit(db, {
          ts: i,
          actor: null,
          action: i % 2 ? 'odd' : 'even',
          ...(i === 1 ? { target: 'user:1', details: { n: 1 }, ip: '10.0.0.1' } : {}),
        });
      const all = await auditLogPage(db, { limit: 10 });
      t.same(
        all.map((r) => r.ts),
        [5, 4, 3, 2, 1],
      );
      t.match(all[4], { actor_user_id: null, action: 'odd', target: 'user:1', details: '{"n":1}', ip: '10.0.0.1' });
      t.match(all[0], { target: null, details: null, ip: null }, 'what was not given is null');
      const first = await auditLogPage(db, { limit: 2 });
      const next = await auditLogPage(db, { limit: 2, beforeId: first.at(-1)!.id });
      t.same(
        [...first, ...next].map((r) => r.ts),
        [5, 4, 3, 2],
      );
      t.same(
        (await auditLogPage(db, { limit: 10, type: 'even' })).map((r) => r.ts),
        [4, 2],
      );
    });

    t.test('admin alerts: the same alert within an hour is recorded once', async (t) => {
      const db = await migratedDb(t, target);
      const swap = { type: 'swap_suspected', deviceUuid: 'u-1', cpuSerial: 's-1' };
      await raiseAdminAlert(db, { ...swap, ts: 1_000, details: { reason: 'x' } });
      await raiseAdminAlert(db, { ...swap, ts: 1_000 + 3_599_000 });
      await raiseAdminAlert(db, { ...swap, cpuSerial: 's-2', ts: 2_000 });
      await raiseAdminAlert(db, { type: 'clone_suspected', ts: 3_000 });
      await raiseAdminAlert(db, { type: 'clone_suspected', ts: 4_000 });
      t.same(
        (await adminAlertPage(db, { limit: 10 })).map((r) => [r.type, r.cpu_serial, r.ts]),
        [
          ['clone_suspected', null, 3_000],
          ['swap_suspected', 's-2', 2_000],
          ['swap_suspected', 's-1', 1_000],
        ],
        'a repeat, also of one without uuid and serial, is dropped; another serial is a new alert',
      );
      await raiseAdminAlert(db, { ...swap, ts: 1_000 + 3_600_000 });
      t.equal((await adminAlertPage(db, { limit: 10, type: 'swap_suspected' })).length, 3, 'an hour later: again');
      t.match(await adminAlertPage(db, { limit: 1, type: 'clone_suspected' }), [
        { device_id: null, device_uuid: null, details: null },
      ]);
    });
  });
}
