import type { Command } from './command.js';

export const demoCommands: Command[] = [
  {
    words: ['demo'],
    summary:
      'Run central and one simulated hub on loopback (free ports, fresh data directory): the hub is enrolled, preregistered, claimed and provisioned automatically, with simulated sensors. Prints URLs, logins and a mosquitto_sub line.',
    usage: 'demo [--config FILE]',
    options: {},
    async run(values) {
      // Imported when run, like every command's implementation: `ares hub` on a Pi loads only the hub.
      const { runDemo } = await import('./demo.js');
      return runDemo(values);
    },
  },
];
