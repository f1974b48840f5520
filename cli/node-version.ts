// No imports: cli/ares.ts runs this before anything else loads, on whatever Node started it.

/** The oldest Node.js major `ares` runs on (package.json "engines"); hubs ship Node 24 LTS. */
export const MIN_NODE_MAJOR = 22;

/**
 * What is wrong with running on Node `version` (process.versions.node, e.g. "20.20.2"), as one line, or
 * undefined when it is new enough.
 */
export function nodeVersionProblem(version: string): string | undefined {
  const major = Number(/^(\d+)\./.exec(version)?.[1]);
  if (major >= MIN_NODE_MAJOR) return undefined;
  return `Node.js >= ${MIN_NODE_MAJOR} is required (this is v${version}); hubs ship Node 24 LTS — see README "Install"`;
}
