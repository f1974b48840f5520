import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IMU_FEATURE_COUNT } from '../runtime/imu-features.js';
import { IMU_HOP, IMU_WINDOW, recordingFeatures } from '../runtime/imu-windows.js';
import { IMU_CHANNELS, parseSisFallName, readSisFall, type SisFallName } from '../runtime/sisfall.js';

/**
 * Subjects held out for validation, chosen before training and never seen by it: four young adults
 * (ADLs and falls) and two elderly (ADLs). Validation is by subject, never by window: windows of one
 * recording are near-copies of each other.
 */
export const VALIDATION_SUBJECTS = ['SA04', 'SA09', 'SA14', 'SA17', 'SE03', 'SE08'] as const;

/**
 * Where the SisFall recordings are: `ARES_SISFALL_DIR`, else `shared/data/sisfall-50hz` beside the
 * checkout, else in this workplace's shared folder (CI runs from a clone elsewhere).
 */
export function sisfallDir(): string {
  const env = process.env['ARES_SISFALL_DIR'];
  if (env) return env;
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const candidates = [join(root, '../shared/data/sisfall-50hz'), '/work/shared/data/sisfall-50hz'];
  return candidates.find((d) => existsSync(d)) ?? candidates[0]!;
}

export interface Recording extends SisFallName {
  path: string;
  seconds: number;
  features: Float32Array;
  /** First sample of each window. */
  starts: number[];
  /** Sample index of the fall's impact (peak |a|); -1 for ADLs. */
  impact: number;
}

export function listRecordings(dataDir: string): { path: string; name: SisFallName }[] {
  const out: { path: string; name: SisFallName }[] = [];
  for (const subject of readdirSync(dataDir).sort()) {
    if (!/^S[AE]\d{2}$/.test(subject)) continue;
    for (const file of readdirSync(join(dataDir, subject)).sort()) {
      const name = parseSisFallName(file);
      if (name) out.push({ path: join(dataDir, subject, file), name });
    }
  }
  return out;
}

export function loadRecording(path: string, name: SisFallName): Recording {
  const samples = readSisFall(path);
  const n = samples.length / IMU_CHANNELS;
  const { features, starts } = recordingFeatures(samples);
  let impact = -1;
  if (name.fall) {
    let best = -1;
    for (let i = 0; i < n; i++) {
      const o = i * IMU_CHANNELS;
      const m = Math.hypot(samples[o]!, samples[o + 1]!, samples[o + 2]!);
      if (m > best) {
        best = m;
        impact = i;
      }
    }
  }
  return { ...name, path, seconds: n / 50, features, starts, impact };
}

/**
 * Training label of each window: 1 when the fall's impact lies in the window's first 20–70 % (so it
 * holds the impact and at least 0.9 s of what follows), 0 for every ADL window and for fall-file
 * windows well before the impact, undefined (left out) for the ambiguous ones: partly over the impact,
 * or just after it (the person lying there is the fall's aftermath, not a new one).
 */
export function windowLabel(rec: Recording, start: number): 0 | 1 | undefined {
  if (rec.impact < 0) return 0;
  const at = rec.impact - start;
  if (at >= 0.2 * IMU_WINDOW && at <= 0.7 * IMU_WINDOW) return 1;
  if (start + IMU_WINDOW + IMU_HOP <= rec.impact) return 0;
  return undefined;
}

/** Rows of features with labels, ambiguous windows left out. */
export function labelled(recs: Recording[]): { x: Float32Array; y: Float32Array } {
  const rows: number[] = [];
  const ys: number[] = [];
  recs.forEach((rec, r) =>
    rec.starts.forEach((s, i) => {
      const y = windowLabel(rec, s);
      if (y === undefined) return;
      rows.push(r, i);
      ys.push(y);
    }),
  );
  const x = new Float32Array(ys.length * IMU_FEATURE_COUNT);
  for (let k = 0; k < ys.length; k++) {
    const rec = recs[rows[2 * k]!]!;
    const i = rows[2 * k + 1]!;
    x.set(rec.features.subarray(i * IMU_FEATURE_COUNT, (i + 1) * IMU_FEATURE_COUNT), k * IMU_FEATURE_COUNT);
  }
  return { x, y: Float32Array.from(ys) };
}
