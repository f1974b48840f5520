// Types for scripts/tally.mjs (plain JS, so `node scripts/test.mjs` runs without a TypeScript loader), for its tests.
export interface Tally {
  total: number;
  pass?: number;
  fail?: number;
  skip?: number;
  todo?: number;
  [key: string]: number | undefined;
}
export interface Counts {
  pass: number;
  fail: number;
  skip: number;
}
export function parseTallyLine(line: string): Tally | undefined;
export function runCounts(r: { tally: Tally | undefined; code: number | null; failedSteps?: number }): Counts;
export function formatCounts(c: Counts): string;
