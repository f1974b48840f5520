import t from 'tap';
import { encodeImuBatch, parseImuBatch, type ImuBatch } from '../../daemon/fall/imu-payload.js';

const samples = [
  [0.012, -0.998, 0.05, 1.5, -2.25, 0],
  [3.5, -4.7, 1.2, 549.3, 244.1, -12.7],
];

t.test('JSON batches: the fields checked, each problem named', async (t) => {
  const ok = parseImuBatch(Buffer.from(JSON.stringify({ seq: 3, ts: 1795430000000, rate_hz: 50, samples })));
  t.match(ok, { seq: 3, ts: 1795430000000, rateHz: 50 });
  t.same(
    Array.from((ok as ImuBatch).samples),
    samples.flat().map((v) => Math.fround(v)),
  );
  const cases: [string, RegExp][] = [
    ['nope', /not JSON/],
    ['[1]', /not a JSON object/],
    ['{"seq":1,"rate_hz":50}', /samples must hold 1–500/],
    ['{"seq":1.5,"rate_hz":50,"samples":[[0,0,0,0,0,0]]}', /seq must be a non-negative integer/],
    ['{"seq":1,"ts":-4,"rate_hz":50,"samples":[[0,0,0,0,0,0]]}', /ts must be epoch milliseconds/],
    ['{"seq":1,"rate_hz":4000,"samples":[[0,0,0,0,0,0]]}', /rate_hz must be between 5 and 1000/],
    ['{"seq":1,"rate_hz":50,"samples":[[0,0,0,0,0,null]]}', /sample 0: angular rate must be a number within ±5000/],
    ['{"seq":1,"rate_hz":50,"samples":[[0,0,0,0,0,0],[65,0,0,0,0,0]]}', /sample 1: acceleration .* ±64/],
    ['{"seq":1,"rate_hz":50,"samples":[[1e300,0,0,0,0,0]]}', /sample 0: acceleration/],
  ];
  for (const [payload, why] of cases) t.match(parseImuBatch(Buffer.from(payload)), why, payload);
});

t.test('binary batches: float32 and int16 decode to what the JSON form says', async (t) => {
  const f32 = parseImuBatch(encodeImuBatch({ seq: 7, ts: 1795430000000, rateHz: 50, samples })) as ImuBatch;
  t.match(f32, { seq: 7, ts: 1795430000000, rateHz: 50 });
  t.same(
    Array.from(f32.samples),
    samples.flat().map((v) => Math.fround(v)),
  );
  const i16 = parseImuBatch(encodeImuBatch({ seq: 8, rateHz: 100, samples }, 'int16')) as ImuBatch;
  t.match(i16, { seq: 8, ts: undefined, rateHz: 100 });
  for (const [i, v] of samples.flat().entries())
    t.ok(Math.abs(i16.samples[i]! - v) <= (i % 6 < 3 ? 0.0005 : 0.05), `value ${i} within the int16 resolution`);
  t.equal(encodeImuBatch({ seq: 1, rateHz: 50, samples: Array(50).fill(samples[0]) }, 'int16').length, 624);
});

t.test('hostile binary batches are refused, naming what is wrong', async (t) => {
  const good = encodeImuBatch({ seq: 1, rateHz: 50, samples });
  const mutate = (f: (b: Buffer) => void) => {
    const b = Buffer.from(good);
    f(b);
    return b;
  };
  const cases: [Buffer, RegExp][] = [
    [good.subarray(0, 10), /shorter than its 24-byte header/],
    [good.subarray(0, good.length - 1), /must be 72 bytes, not 71/],
    [Buffer.concat([good, Buffer.alloc(4)]), /must be 72 bytes, not 76/],
    [mutate((b) => b.writeUInt8(2, 2)), /version 2/],
    [mutate((b) => b.writeUInt8(9, 3)), /encoding 9/],
    [mutate((b) => b.writeUInt16LE(0, 20)), /samples must hold 1–500/],
    [mutate((b) => b.writeUInt16LE(60000, 20)), /samples must hold 1–500/],
    [mutate((b) => b.writeFloatLE(Number.NaN, 24)), /sample 0: acceleration/],
    [mutate((b) => b.writeFloatLE(Number.POSITIVE_INFINITY, 24 + 4 * 9)), /sample 1: angular rate/],
    [mutate((b) => b.writeFloatLE(0, 16)), /rate_hz must be between 5 and 1000/],
    [mutate((b) => b.writeDoubleLE(1.5, 8)), /ts must be epoch milliseconds/],
    [mutate((b) => b.writeDoubleLE(Number.NaN, 8)), /ts must be epoch milliseconds/],
    [Buffer.alloc(70_000, 0x41), /over 64 KiB/],
  ];
  for (const [payload, why] of cases) t.match(parseImuBatch(payload), why, why.source);
});
