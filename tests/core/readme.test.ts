import { readFileSync } from 'node:fs';
import t from 'tap';
import { listSettings } from '../../core/config.js';

// Every setting is documented in the README (ARCHITECTURE §4.2): adding one without docs fails here.
t.test('README documents every setting with its environment name', async (t) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const { path, env } of listSettings()) {
    t.ok(readme.includes(`| \`${path}\` | \`${env}\` |`), `${path} (${env})`);
  }
});
