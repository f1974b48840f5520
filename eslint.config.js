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
    files: ['scripts/**/*.mjs', 'eslint.config.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
