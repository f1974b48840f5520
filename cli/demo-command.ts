import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdmin } from '../backend/admin-bootstrap.js';
import { startCentral } from '../backend/central.js';
import type { Command } from './command.js';
import { loadCliConfig, runUntilSignal, serviceLogger } from './runtime.js';

export const demoCommands: Command[] = [
  {
    words: ['demo'],
    summary:
      'Run central on loopback on a free port with a fresh data directory, create a prime_admin with a random password, and print the URLs and credentials.',
    usage: 'demo [--config FILE]',
    options: {},
    async run(values) {
      const dataDir = mkdtempSync(join(tmpdir(), 'ares-demo-'));
      const config = loadCliConfig(values, {
        'central.host': '127.0.0.1',
        'central.port': 0,
        'central.data_dir': dataDir,
        'central.database': `sqlite:${dataDir}/central.db`,
      });
      const log = serviceLogger(config);
      const central = await startCentral(config, log);
      const email = 'admin@demo.ares.invalid';
      const password = randomBytes(12).toString('base64url');
      await createAdmin(config, log, email, password, central.ctx.db);
      const info = {
        central: central.url,
        docs: `${central.url}/docs`,
        data_dir: dataDir,
        admin: { email, password },
        try: `curl -s ${central.url}/auth/login -H 'content-type: application/json' -d '{"email":"${email}","password":"${password}"}'`,
      };
      process.stderr.write(`\nAres demo is running (Ctrl-C stops it):\n${JSON.stringify(info, null, 2)}\n\n`);
      return runUntilSignal(log, () => central.close());
    },
  },
];
