// Types for scripts/node24.mjs (plain JS, so `node scripts/test.mjs` runs on any Node), for its tests.
export const NODE24_VERSION: string;
export const SKIP_MESSAGE: string;
export function node24Enabled(env: Record<string, string | undefined>): boolean;
export function prepareNode24(o: { root: string; log: (line: string) => void }): {
  node: string;
  dir: string;
  env: Record<string, string | undefined>;
};
