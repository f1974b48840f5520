import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AresError } from '../core/errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** One CLI command: its words (`['central', 'create-admin']`), help text, options and action. */
export interface Command {
  words: string[];
  summary: string;
  usage: string;
  options: Options;
  /** How many positional arguments the command takes (default 0); 'many': one or more. */
  positionals?: number | 'many';
  /** Returns the process exit code. */
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number>;
}

export const COMMON_OPTIONS: Options = {
  config: { type: 'string', short: 'c' },
  help: { type: 'boolean', short: 'h' },
};

export function helpText(cmd: Command): string {
  const opts = Object.entries({ ...cmd.options, ...COMMON_OPTIONS })
    .map(([name, o]) => `  --${name}${o.type === 'string' ? ' VALUE' : ''}${o.short ? `, -${o.short}` : ''}`)
    .join('\n');
  return `Usage: ares ${cmd.usage}\n\n${cmd.summary}\n\nOptions:\n${opts}\n`;
}

export function parseCommandArgs(cmd: Command, argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: { ...cmd.options, ...COMMON_OPTIONS },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    throw new AresError('ARES_ERR_USAGE', `${(err as Error).message}\n\n${helpText(cmd)}`);
  }
}
