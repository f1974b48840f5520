import { AresError } from '../core/errors.js';
import type { Hub } from '../daemon/hub.js';
import type { Command } from './command.js';
import { loadCliConfig, oneShotLogger, runService, serviceLogger } from './runtime.js';

/** The node registry and hub.db, imported when a `nodes` command runs. */
async function nodeModules() {
  const [{ NodeRegistry }, { openHubDb }] = await Promise.all([
    import('../daemon/broker/nodes.js'),
    import('../daemon/state/hub-db.js'),
  ]);
  return { NodeRegistry, openHubDb };
}

/** The hub's line in `systemctl status`: what a person checks first, cheap enough to poll. */
function hubStatusLine(hub: Hub): string {
  const s = hub.status();
  const ports = hub.ports();
  const ok = s.runtime.filter((c) => c.health === 'ok').length;
  const tls = ports.mqttTls === undefined ? '' : ` (tls :${ports.mqttTls})`;
  return (
    `hub ${s.deviceUuid ?? '?'}: mqtt :${ports.mqtt}${tls}, http :${ports.http}, ` +
    `provisioned=${s.provisioned ? 'yes' : 'no'}, central=${s.central.reachable ? 'reachable' : 'unreachable'}, ` +
    `components=${ok}/${s.runtime.length} ok, fall=${s.fall}`
  );
}

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
      const { Hub } = await import('../daemon/hub.js');
      const hub = new Hub(config, log);
      // A failed start exits before READY=1: systemd sees the start fail.
      return runService(log, {
        name: 'hub',
        start: () => hub.start(),
        stop: () => hub.stop(),
        status: () => hubStatusLine(hub),
      });
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
      const { HostRoot } = await import('../core/host-root.js');
      const { readBoardIdentity } = await import('../daemon/identity/board.js');
      const { enrollmentRecord, loadOrCreateIdentity } = await import('../daemon/identity/identity.js');
      const board = await readBoardIdentity(new HostRoot(config.hub.host_root));
      const { identity, created } = loadOrCreateIdentity(config.hub.state_dir, board, config.hub.hardware_variant);
      if (created) log.info({ state_dir: config.hub.state_dir }, 'identity created');
      process.stdout.write(JSON.stringify(enrollmentRecord(identity)) + '\n');
      return 0;
    },
  },
  {
    words: ['hub', 'nodes', 'add'],
    summary:
      'Allow a LAN sensor node on the hub: prints {"node_id","password"} once (only a hash is kept). --legacy-http: a CareDian ESP32 that POSTs /events without credentials, optionally pinned to --source ADDR. A running hub sees the change at once.',
    usage: 'hub nodes add NAME [--legacy-http] [--source ADDR] [--config FILE]',
    options: { 'legacy-http': { type: 'boolean' }, source: { type: 'string' } },
    positionals: 1,
    async run(values, positionals) {
      const config = loadCliConfig(values);
      const source = values['source'];
      if (source !== undefined && !values['legacy-http'])
        throw new AresError('ARES_ERR_USAGE', '--source pins a --legacy-http node to an address; use both');
      if (typeof source === 'string' && !/^[0-9a-fA-F:.]{2,45}$/.test(source))
        throw new AresError('ARES_ERR_USAGE', `--source: not an IP address: ${JSON.stringify(source)}`);
      const { NodeRegistry, openHubDb } = await nodeModules();
      const db = openHubDb(config.hub.state_dir);
      try {
        const added = await new NodeRegistry(db).add(positionals[0]!, {
          legacyHttp: values['legacy-http'] === true,
          ...(typeof source === 'string' ? { sourceAddr: source } : {}),
        });
        process.stdout.write(JSON.stringify(added) + '\n');
      } finally {
        db.close();
      }
      return 0;
    },
  },
  {
    words: ['hub', 'nodes', 'list'],
    summary: 'List the LAN nodes allowed on this hub, one JSON object per line.',
    usage: 'hub nodes list [--config FILE]',
    options: {},
    async run(values) {
      const { NodeRegistry, openHubDb } = await nodeModules();
      const db = openHubDb(loadCliConfig(values).hub.state_dir);
      try {
        for (const n of new NodeRegistry(db).list()) process.stdout.write(JSON.stringify(n) + '\n');
      } finally {
        db.close();
      }
      return 0;
    },
  },
  {
    words: ['hub', 'nodes', 'remove'],
    summary: 'Remove a LAN node; a running hub disconnects it within a few seconds.',
    usage: 'hub nodes remove NAME [--config FILE]',
    options: {},
    positionals: 1,
    async run(values, positionals) {
      const { NodeRegistry, openHubDb } = await nodeModules();
      const db = openHubDb(loadCliConfig(values).hub.state_dir);
      try {
        if (!new NodeRegistry(db).remove(positionals[0]!))
          throw new AresError('ARES_ERR_USAGE', `no node named ${JSON.stringify(positionals[0])}`);
      } finally {
        db.close();
      }
      return 0;
    },
  },
];
