import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BuildError } from './errors.js';
import type { NodeRuntime } from './node-runtime.js';

export interface AddonHeaders {
  /** node-gyp's --nodedir: holds include/node/ (common.gypi, config.gypi, the headers). */
  dir: string;
  /** What the addons are compiled against, for the build cache key and the manifest. */
  id: string;
}

/** The headers native addons are compiled against: the bundled Node's own include/node, unchanged. */
export function addonHeaders(node: NodeRuntime): AddonHeaders {
  if (!existsSync(join(node.dir, 'include', 'node', 'common.gypi')))
    throw new BuildError(`${node.dir} has no include/node/common.gypi: node-gyp cannot build against it`);
  return { dir: node.dir, id: `node-${node.version}` };
}
