// Writes one simulated radar sequence as JSON lines, one /events body per line — what the ESP32 would
// have POSTed, and what `ares fall replay` reads:
//   node --import @tapjs/typescript/import models/train/radar-jsonl.ts --seed 2000002 [--scenario fall_still] [--out F]
// Without --out it goes to stdout; a one-line summary (scenario, fall onset) goes to stderr.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { RADAR_SCENARIOS, simulateSequence, toJsonl, type RadarScenario } from './radar-sim.js';

const { values } = parseArgs({
  options: { seed: { type: 'string', default: '2000000' }, scenario: { type: 'string' }, out: { type: 'string' } },
});
const seed = Number(values.seed);
if (!Number.isSafeInteger(seed)) throw new Error(`--seed: an integer, got ${values.seed}`);
const scenario = values.scenario as RadarScenario | undefined;
if (scenario !== undefined && !(RADAR_SCENARIOS as readonly string[]).includes(scenario))
  throw new Error(`--scenario: one of ${RADAR_SCENARIOS.join(', ')}`);
const seq = simulateSequence(seed, scenario);
if (values.out) writeFileSync(values.out, toJsonl(seq.frames));
else process.stdout.write(toJsonl(seq.frames));
process.stderr.write(
  `${seq.scenario}: ${seq.frames.length} frames over ${seq.durationS} s` +
    `${seq.fall ? `, fall at ${seq.fallAtS} s` : ', no fall'}\n`,
);
