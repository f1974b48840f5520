// The Node 24 headers native addons are compiled against, shared by the Node 24 test pass
// (scripts/node24.mjs) and the release bundle (cross-build/lib/node-headers.ts), so the tests run the
// addons exactly as the Pi does. Plain JS: `node scripts/test.mjs` runs without a TypeScript loader.
import { cpSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Bumped when the patch changes, so cached headers (and addon builds keyed by the id) are redone. */
export const OBJECTWRAP_PATCH_ID = 'objectwrap-no-cleanup-hook-1';

/**
 * node::ObjectWrap without the environment cleanup hook Node 24.19 added to it: the constructor's
 * AddCleanupHook() and the destructor's RemoveCleanupHook() calls are removed; nothing else changes.
 * Returns undefined when the header has no such calls (Node before 24.19, or one that fixed it).
 *
 * Why: ObjectWrap is inline code compiled into each addon that uses it (better-sqlite3 12 does). Its
 * destructor runs from V8's weak callbacks during garbage collection, where Node may find no
 * Environment, and node::RemoveEnvironmentCleanupHook then aborts the process on CHECK(env != nullptr)
 * (nodejs/node#65446): the hub died seconds after start, and 11 test files crashed under Node 24.21.
 * Addons compiled without the two calls — as against 24.18 and earlier — run cleanly on 24.19+, whose
 * ABI is the same (NODE_MODULE_VERSION 137); Node core never touches an addon's ObjectWrap. Drop this
 * once Node fixes it or the addons stop using node::ObjectWrap (better-sqlite3 13 uses Node-API, but
 * needs Node >= 22 and crashes on Node 20, which the development machines still run).
 */
export function patchObjectWrapHeader(text) {
  if (!/AddEnvironmentCleanupHook|RemoveEnvironmentCleanupHook/.test(text)) return undefined;
  // Exactly the two calls, or the header is not the one this was written against.
  if ((text.match(/^[ \t]*(Add|Remove)CleanupHook\(\);/gm) ?? []).length !== 2)
    throw new Error(
      'include/node/node_object_wrap.h has changed shape: review the ObjectWrap workaround in scripts/addon-headers.mjs',
    );
  return text.replace(/^[ \t]*(Add|Remove)CleanupHook\(\);[ \t]*\n/gm, '');
}

/**
 * node-gyp's --nodedir for addons built for the Node package unpacked at `nodeDir` (it holds
 * include/node): `nodeDir` itself when its headers need no repair, else a repaired copy of its include/
 * under `cacheDir/<key>`, made once. `key` names the copy (version and integrity of the package).
 */
export function addonHeaders(nodeDir, cacheDir, key) {
  const header = join(nodeDir, 'include', 'node', 'node_object_wrap.h');
  const patched = patchObjectWrapHeader(existsSync(header) ? readFileSync(header, 'utf8') : '');
  if (patched === undefined) return { dir: nodeDir, patched: false };
  const dir = join(cacheDir, `headers-${key}-${OBJECTWRAP_PATCH_ID}`);
  if (!existsSync(join(dir, '.complete'))) {
    const tmp = `${dir}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
    cpSync(join(nodeDir, 'include'), join(tmp, 'include'), { recursive: true });
    writeFileSync(join(tmp, 'include', 'node', 'node_object_wrap.h'), patched);
    writeFileSync(join(tmp, '.complete'), `${key} ${OBJECTWRAP_PATCH_ID}\n`);
    renameSync(tmp, dir);
  }
  return { dir, patched: true };
}
