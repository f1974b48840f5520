#!/usr/bin/env node
// The `ares` entry (package.json "bin", the bundle's bin/ares launcher). It checks the Node version first:
// on an older Node the CLI's dependencies fail to load or misbehave (better-sqlite3 13 needs Node >= 22),
// so it exits 2 with one line saying what it needs instead. Static imports are evaluated before a module's
// body, so the CLI itself (cli/main.ts, with everything it imports) is loaded with import() after the check.
import { nodeVersionProblem } from './node-version.js';

const problem = nodeVersionProblem(process.versions.node);
if (problem) {
  process.stderr.write(`ares: ${problem}\n`);
  process.exitCode = 2;
} else {
  const { main } = await import('./main.js');
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`ares: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
