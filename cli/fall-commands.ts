import { AresError } from '../core/errors.js';
import type { Command } from './command.js';

export const fallCommands: Command[] = [
  {
    words: ['fall', 'replay'],
    summary:
      'Run the fall pipeline offline over recordings: SisFall text files (imu-fall, 50 Hz unless --rate) and radar JSON-lines files (radar-fall). Prints one JSON line per file: {"file","alerts":[{"t_s","prob"}]} or {"file","error"}; exit 1 if any file failed.',
    usage: 'fall replay [--model imu-fall|radar-fall] [--rate HZ] [--backend wasm|cpu|tfjs-node] FILE...',
    options: {
      model: { type: 'string' },
      rate: { type: 'string' },
      backend: { type: 'string' },
    },
    positionals: 'many',
    async run(values, files) {
      const { MODELS, replayFiles } = await import('../models/replay.js');
      const { BACKENDS } = await import('../models/runtime/engine.js');
      const model = values['model'] as string | undefined;
      if (model !== undefined && !(MODELS as readonly string[]).includes(model))
        throw new AresError('ARES_ERR_USAGE', `--model: expected one of ${MODELS.join(', ')}, got ${model}`);
      const backend = values['backend'] as string | undefined;
      if (backend !== undefined && !(BACKENDS as readonly string[]).includes(backend))
        throw new AresError('ARES_ERR_USAGE', `--backend: expected one of ${BACKENDS.join(', ')}, got ${backend}`);
      const rate = values['rate'] === undefined ? undefined : Number(values['rate']);
      if (rate !== undefined && !(Number.isFinite(rate) && rate >= 5 && rate <= 1000))
        throw new AresError(
          'ARES_ERR_USAGE',
          `--rate: expected a sample rate in Hz (5–1000), got ${String(values['rate'])}`,
        );
      return replayFiles(
        files,
        {
          ...(model ? { model: model as (typeof MODELS)[number] } : {}),
          ...(rate ? { rateHz: rate } : {}),
          ...(backend ? { backend: backend as (typeof BACKENDS)[number] } : {}),
        },
        (line) => process.stdout.write(`${JSON.stringify(line)}\n`),
      );
    },
  },
];
