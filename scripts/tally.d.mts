// Types for scripts/tally.mjs (plain JS, so `node scripts/test.mjs` runs on any Node), for its tests.
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
export interface Pass {
  version: string;
  counts: Counts;
  note?: string;
}
export function parseTallyLine(line: string): Tally | undefined;
export function passCounts(r: { tally: Tally | undefined; code: number | null; failedSteps?: number }): Counts;
export function sumCounts(counts: Counts[]): Counts;
export function formatCounts(c: Counts): string;
export function formatPasses(passes: Pass[]): string;
