import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full garbage collection, whether or not node was started with --expose-gc.
 * Without it, heapUsed counts whatever garbage the last minor GC left behind,
 * and a "memory stays bounded" check passes or fails on GC timing (CI once saw
 * 114 MB of garbage for 20,000 frames whose live state is a few kilobytes).
 */
function fullGc(): () => void {
  const exposed = global.gc;
  if (typeof exposed === 'function') return () => void exposed();
  setFlagsFromString('--expose-gc');
  // A new context reads the flag at creation, so its global has gc().
  return runInNewContext('gc') as () => void;
}

/**
 * Heap still reachable after `work`, compared with before it: what it retains, not what it allocated.
 * Call it at a test file's top level, before any t.test(): inside a subtest, tap's async-hook-domain
 * holds on to every promise the subtest creates (about 300 bytes each) until the subtest ends, which
 * reads as a leak of the code under test.
 */
export async function retainedHeapGrowth(work: () => Promise<void> | void): Promise<number> {
  const gc = fullGc();
  gc();
  const before = process.memoryUsage().heapUsed;
  await work();
  gc();
  return process.memoryUsage().heapUsed - before;
}
