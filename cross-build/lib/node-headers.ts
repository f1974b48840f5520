import { addonHeaders as repairedHeaders, OBJECTWRAP_PATCH_ID } from '../../scripts/addon-headers.mjs';
import { BuildError } from './errors.js';
import type { NodeRuntime } from './node-runtime.js';

export { patchObjectWrapHeader } from '../../scripts/addon-headers.mjs';

export interface AddonHeaders {
  /** node-gyp's --nodedir: holds include/node/ (common.gypi, config.gypi, the headers). */
  dir: string;
  /** What the addons are compiled against, for the build cache key and the manifest. */
  id: string;
  /** Whether node_object_wrap.h was patched (see scripts/addon-headers.mjs). */
  patched: boolean;
}

/**
 * The headers native addons are compiled against: the bundled Node's own include/node, with
 * node_object_wrap.h repaired exactly as for the Node 24 test pass (scripts/addon-headers.mjs explains
 * why: better-sqlite3 12 aborted the hub seconds after start under qemu).
 */
export function addonHeaders(node: NodeRuntime, cacheDir: string): AddonHeaders {
  try {
    const key = `${node.version}-${node.integrity.slice(7, 19).replace(/[/+]/g, '_')}`;
    const { dir, patched } = repairedHeaders(node.dir, cacheDir, key);
    return { dir, id: patched ? `node-${node.version}+${OBJECTWRAP_PATCH_ID}` : `node-${node.version}`, patched };
  } catch (err) {
    throw new BuildError((err as Error).message);
  }
}
