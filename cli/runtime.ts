import { destination } from 'pino';
import { loadConfig, type AresConfig } from '../core/config.js';
import { createLogger, type Logger } from '../core/logger.js';

export function loadCliConfig(
  values: Record<string, string | boolean | undefined>,
  overrides?: Record<string, unknown>,
): AresConfig {
  const file = typeof values['config'] === 'string' ? values['config'] : undefined;
  return loadConfig({ ...(file !== undefined ? { file } : {}), ...(overrides ? { overrides } : {}) });
}

/** Services log JSON to stdout (journald keeps it). */
export function serviceLogger(config: AresConfig): Logger {
  return createLogger(config.log.level);
}

/** One-shot commands print their result on stdout, so their logs go to stderr. */
export function oneShotLogger(config: AresConfig): Logger {
  return createLogger(config.log.level === 'info' ? 'warn' : config.log.level, destination({ fd: 2, sync: true }));
}

/** Runs until SIGTERM/SIGINT, then stops gracefully; a second signal forces exit. */
export function runUntilSignal(log: Logger, stop: () => Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      stopping = true;
      log.info({ signal }, 'stopping');
      stop().then(
        () => resolve(0),
        (err: unknown) => {
          log.error({ err }, 'error while stopping');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
