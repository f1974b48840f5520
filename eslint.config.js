// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tap/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-extraneous-class': 'off',
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  {
    // Type-aware: a promise nobody awaits or catches loses its error (an unhandled rejection ends the
    // daemon), and an async function where a callback's result is ignored does the same.
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // tap queues subtests itself and awaits them before the parent ends.
          allowForKnownSafePromises: [{ from: 'package', name: 'PromiseWithSubtest', package: '@tapjs/core' }],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // Dependency direction (ARCHITECTURE §2): shared modules never reach into the hub or central.
    files: ['drivers/**/*.ts', 'sync/**/*.ts', 'models/**/*.ts', 'ble-provisioning/**/*.ts', 'core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/daemon/**', '**/backend/**', '**/cli/**'] }],
    },
  },
  {
    files: ['backend/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/daemon/**', '**/cli/**'] }] },
  },
  {
    // Migrations are frozen once released: what they insert is written in them, never imported from
    // code that can change (tests/backend/migrations.test.ts checks the same).
    files: ['backend/db/migrations/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['../**'], allowTypeImports: true, message: 'a migration imports only kysely and types' },
          ],
        },
      ],
    },
  },
  {
    // The hub never loads central's code (a Pi must not carry it), and neither side the CLI's.
    files: ['daemon/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/backend/**', '**/cli/**'] }] },
  },
  {
    files: ['scripts/**/*.mjs', 'eslint.config.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
