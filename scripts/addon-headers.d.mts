// Types for scripts/addon-headers.mjs (plain JS, so `node scripts/test.mjs` runs on any Node).
export const OBJECTWRAP_PATCH_ID: string;
export function patchObjectWrapHeader(text: string): string | undefined;
export function addonHeaders(nodeDir: string, cacheDir: string, key: string): { dir: string; patched: boolean };
