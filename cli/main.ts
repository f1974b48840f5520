// The `ares` command line: finds the command named by the leading words and runs it. Started through
// cli/ares.ts, which checks the Node version before this module and its dependencies load.
import { AresError } from '../core/errors.js';
import { helpText, parseCommandArgs, type Command } from './command.js';
import { centralCommands } from './central-commands.js';
import { demoCommands } from './demo-command.js';
import { fallCommands } from './fall-commands.js';
import { hubCommands } from './hub-commands.js';

const COMMANDS: Command[] = [...centralCommands, ...hubCommands, ...fallCommands, ...demoCommands];

function topHelp(): string {
  const lines = COMMANDS.map((c) => `  ares ${c.usage.padEnd(62)} ${c.summary.split('.')[0]}`);
  return `Usage: ares <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nEvery command accepts --help. Exit codes: 0 ok, 1 runtime failure, 2 bad usage or configuration.\n`;
}

/** The longest run of leading words that names a command wins (`central create-admin` over `central`). */
function findCommand(argv: string[]): { cmd: Command; rest: string[] } | undefined {
  let best: Command | undefined;
  for (const c of COMMANDS) {
    if (c.words.every((w, i) => argv[i] === w) && (!best || c.words.length > best.words.length)) best = c;
  }
  return best ? { cmd: best, rest: argv.slice(best.words.length) } : undefined;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(topHelp());
    return argv.length === 0 ? 2 : 0;
  }
  const found = findCommand(argv);
  if (!found) {
    process.stderr.write(
      `ares: unknown command ${JSON.stringify(argv.filter((a) => !a.startsWith('-')).join(' '))}\n\n${topHelp()}`,
    );
    return 2;
  }
  try {
    const { values, positionals } = parseCommandArgs(found.cmd, found.rest);
    if (values['help']) {
      process.stdout.write(helpText(found.cmd));
      return 0;
    }
    const want = found.cmd.positionals ?? 0;
    if (want === 'many' && positionals.length === 0)
      throw new AresError('ARES_ERR_USAGE', `missing argument\n\n${helpText(found.cmd)}`);
    if (want !== 'many' && positionals.length !== want) {
      const what =
        positionals.length > want ? `unexpected argument ${JSON.stringify(positionals[want])}` : 'missing argument';
      throw new AresError('ARES_ERR_USAGE', `${what}\n\n${helpText(found.cmd)}`);
    }
    return await found.cmd.run(values as Record<string, string | boolean | undefined>, positionals);
  } catch (err) {
    if (err instanceof AresError && (err.code === 'ARES_ERR_CONFIG' || err.code === 'ARES_ERR_USAGE')) {
      process.stderr.write(`ares: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(
      `ares: ${err instanceof AresError ? `${err.code}: ${err.message}` : ((err as Error).stack ?? String(err))}\n`,
    );
    return 1;
  }
}
