import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import t from 'tap';

/*
 * The architecture as lint errors (eslint.config.js): fixture sources are linted as if they stood in the
 * tree at the given path, with the project's own configuration, and must be refused for the right rule.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// The fixtures exist only as text: the project service must accept them outside tsconfig's program.
const eslint = new ESLint({
  cwd: ROOT,
  overrideConfig: {
    files: ['**/__lint_fixture__.ts'],
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*/__lint_fixture__.ts', 'backend/db/migrations/__lint_fixture__.ts'] },
      },
    },
  },
});

async function ruleIds(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, path) });
  return (result?.messages ?? []).map((m) => m.ruleId ?? `fatal: ${m.message}`);
}

const FLOATING = `
async function save(): Promise<void> {}
export function onMessage(): void {
  save();
}
`;

t.test('a floating promise is an error', async (t) => {
  t.same(await ruleIds('daemon/__lint_fixture__.ts', FLOATING), ['@typescript-eslint/no-floating-promises']);
  t.same(
    await ruleIds('daemon/__lint_fixture__.ts', FLOATING.replace('  save();', '  void save();')),
    [],
    'void says it is meant',
  );
});

t.test('an async function where a callback is expected is an error', async (t) => {
  const misused = `
export function every(fn: () => void): void { fn(); }
every(async () => { await Promise.resolve(); });
`;
  t.same(await ruleIds('daemon/__lint_fixture__.ts', misused), ['@typescript-eslint/no-misused-promises']);
  const listener = `
import { EventEmitter } from 'node:events';
export function listen(e: EventEmitter): void {
  e.on('x', async () => {
    await Promise.resolve();
  });
}
`;
  t.same(
    await ruleIds('backend/__lint_fixture__.ts', listener),
    ['@typescript-eslint/no-misused-promises'],
    'nor as a listener',
  );
});

const boundaries: [string, string, boolean][] = [
  [
    'daemon/__lint_fixture__.ts',
    `import { Central } from '../backend/central.js';\nexport const c = Central;\n`,
    false,
  ],
  ['daemon/__lint_fixture__.ts', `import { main } from '../cli/main.js';\nexport const m = main;\n`, false],
  ['backend/__lint_fixture__.ts', `import { Hub } from '../daemon/hub.js';\nexport const h = Hub;\n`, false],
  ['sync/__lint_fixture__.ts', `import { Hub } from '../daemon/hub.js';\nexport const h = Hub;\n`, false],
  [
    'models/__lint_fixture__.ts',
    `import { Central } from '../backend/central.js';\nexport const c = Central;\n`,
    false,
  ],
  ['drivers/__lint_fixture__.ts', `import { Hub } from '../daemon/hub.js';\nexport const h = Hub;\n`, false],
  ['core/__lint_fixture__.ts', `import { Central } from '../backend/central.js';\nexport const c = Central;\n`, false],
  [
    'backend/db/migrations/__lint_fixture__.ts',
    `import { MIGRATION_NAMES } from '../migrate.js';\nexport const n = MIGRATION_NAMES;\n`,
    false,
  ],
  [
    'backend/db/migrations/__lint_fixture__.ts',
    `import type { CentralDb } from '../connect.js';\nexport type D = CentralDb;\n`,
    true,
  ],
  ['daemon/__lint_fixture__.ts', `import { AresError } from '../core/errors.js';\nexport const e = AresError;\n`, true],
  ['backend/__lint_fixture__.ts', `import { LANES } from '../sync/records.js';\nexport const p = LANES;\n`, true],
];

t.test('import boundaries (ARCHITECTURE §2)', async (t) => {
  for (const [path, code, allowed] of boundaries) {
    const ids = await ruleIds(path, code);
    if (allowed) t.same(ids, [], `${path}: ${code.split('\n')[0]} is allowed`);
    else t.same(ids, ['no-restricted-imports'], `${path}: ${code.split('\n')[0]} is refused`);
  }
});
