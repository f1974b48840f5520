import { loadConfig, type AresConfig } from '../../core/config.js';
import { newUser, provisionedHub, startTestCentral, type TestCentral } from './central.js';
import { freePort } from './ports.js';

export { freePort } from './ports.js';

type Teardown = { teardown(fn: () => unknown): void };

/**
 * A provisioned hub's credentials, and the configuration of a real central on one fixed port over
 * the same database: tests start, stop and restart that central (`startCentral(config, …)`) while
 * a hub keeps the same address.
 */
export async function syncCentral(
  t: Teardown,
): Promise<{ c: TestCentral; dev: Awaited<ReturnType<typeof provisionedHub>>; port: number; config: AresConfig }> {
  const c = await startTestCentral(t);
  const owner = await newUser(c.app);
  const dev = await provisionedHub(c, owner.auth);
  const port = await freePort();
  const config = loadConfig({
    env: {},
    overrides: {
      'central.data_dir': c.dataDir,
      'central.database': `sqlite:${c.dataDir}/central.db`,
      'central.port': port,
      'central.mqtt_port': 0,
      'log.level': 'silent',
    },
  });
  return { c, dev, port, config };
}
