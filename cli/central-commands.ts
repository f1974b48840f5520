import type { Command } from './command.js';
import { loadCliConfig, oneShotLogger, runService, serviceLogger } from './runtime.js';
import { AresError } from '../core/errors.js';

export const centralCommands: Command[] = [
  {
    words: ['central'],
    summary: 'Run central (the HTTP API). Stops cleanly on SIGTERM/SIGINT.',
    usage: 'central [--config FILE]',
    options: {},
    async run(values) {
      const config = loadCliConfig(values);
      const log = serviceLogger(config);
      // Imported when run: `ares hub` on a Pi must not load central's modules.
      const { Central } = await import('../backend/central.js');
      const central = new Central(config, log);
      return runService(log, {
        name: 'central',
        start: () => central.start(), // HTTP and MQTT listen once it resolves
        stop: () => central.stop(),
        status: () => {
          const { url, mqttPort } = central.handle;
          return `central ${url}, ${mqttPort === undefined ? 'external MQTT' : `mqtt :${mqttPort}`}`;
        },
      });
    },
  },
  {
    words: ['central', 'create-admin'],
    summary:
      'Create the prime_admin account (password read from standard input), or promote an existing account to prime_admin. There is no default account.',
    usage: 'central create-admin --email EMAIL --password-stdin [--config FILE]',
    options: { email: { type: 'string' }, 'password-stdin': { type: 'boolean' } },
    async run(values) {
      if (typeof values['email'] !== 'string') throw new AresError('ARES_ERR_USAGE', '--email is required');
      if (values['password-stdin'] !== true)
        throw new AresError('ARES_ERR_USAGE', '--password-stdin is required (passwords never go on the command line)');
      const config = loadCliConfig(values);
      const password = await readStdin();
      const { createAdmin } = await import('../backend/admin-bootstrap.js');
      const result = await createAdmin(config, oneShotLogger(config), values['email'], password);
      process.stdout.write(JSON.stringify(result) + '\n');
      return 0;
    },
  },
  {
    words: ['central', 'broker-cert'],
    summary:
      "Write a server certificate for an external Mosquitto, issued by central's CA, with that CA (for the broker's cafile, to check hub certificates): ca.crt, server.crt, server.key in --out. Valid one year; run again to renew.",
    usage: 'central broker-cert --host NAME[,NAME…] --out DIR [--config FILE]',
    options: { host: { type: 'string' }, out: { type: 'string' } },
    async run(values) {
      const host = values['host'];
      const out = values['out'];
      if (typeof host !== 'string' || host.trim() === '')
        throw new AresError('ARES_ERR_USAGE', '--host is required (the names hubs and apps use to reach the broker)');
      if (typeof out !== 'string') throw new AresError('ARES_ERR_USAGE', '--out is required');
      const config = loadCliConfig(values);
      const { writeBrokerCertificate } = await import('../backend/ca/broker-cert.js');
      const written = await writeBrokerCertificate(
        config,
        host.split(',').map((h) => h.trim()),
        out,
      );
      process.stdout.write(JSON.stringify(written) + '\n');
      return 0;
    },
  },
];

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('password: ');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > 4096) throw new AresError('ARES_ERR_USAGE', 'password on stdin is longer than 4096 bytes');
    chunks.push(chunk as Buffer);
  }
  // One trailing newline is how `echo` and password managers end a line; it is not part of the password.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
