#!/usr/bin/env node
// Prints the README's settings table from the configuration schema (run after `npm run build`);
// tests/core/readme.test.ts fails when the README misses a setting.
import { listSettings } from '../dist/core/config.js';

const rows = listSettings().map(({ path, env, spec }) => {
  const def =
    spec.default === undefined
      ? path === 'central.database'
        ? '`sqlite:<data_dir>/central.db`'
        : 'unset'
      : '`' + String(spec.default) + '`';
  const range = spec.enum ? ` (${spec.enum.join(' / ')})` : spec.min !== undefined ? ` (${spec.min}–${spec.max})` : '';
  return `| \`${path}\` | \`${env}\` | ${def} | ${spec.doc}${range} |`;
});
console.log('| setting | environment | default | what it does |\n|---|---|---|---|\n' + rows.join('\n'));
