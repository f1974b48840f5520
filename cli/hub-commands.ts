import { HostRoot } from '../core/host-root.js';
import { Hub } from '../daemon/hub.js';
import { readBoardIdentity } from '../daemon/identity/board.js';
import { enrollmentRecord, loadOrCreateIdentity } from '../daemon/identity/identity.js';
import type { Command } from './command.js';
import { loadCliConfig, oneShotLogger, runUntilSignal, serviceLogger } from './runtime.js';

export const hubCommands: Command[] = [
  {
    words: ['hub'],
    summary:
      'Run the hub daemon: identity, credentials from central (waits until the owner claims the hub), and the attached-component list polled from central and cached. Stops on SIGTERM/SIGINT.',
    usage: 'hub [--config FILE]',
    options: {},
    async run(values) {
      const config = loadCliConfig(values);
      const log = serviceLogger(config);
      const hub = new Hub(config, log);
      await hub.start();
      return runUntilSignal(log, () => hub.stop());
    },
  },
  {
    words: ['hub', 'enroll'],
    summary:
      'Create the hub identity if missing (uuid, P-256 key, claim code in hub.state_dir) and print the enrollment record as JSON, for POST /api/devices/preregister.',
    usage: 'hub enroll [--config FILE]',
    options: {},
    async run(values) {
      const config = loadCliConfig(values);
      const log = oneShotLogger(config);
      const board = await readBoardIdentity(new HostRoot(config.hub.host_root));
      const { identity, created } = loadOrCreateIdentity(config.hub.state_dir, board, config.hub.hardware_variant);
      if (created) log.info({ state_dir: config.hub.state_dir }, 'identity created');
      process.stdout.write(JSON.stringify(enrollmentRecord(identity)) + '\n');
      return 0;
    },
  },
];
