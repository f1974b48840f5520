import { destination } from 'pino';
import { loadConfig, type AresConfig } from '../core/config.js';
import { createLogger, type Logger } from '../core/logger.js';
import { SdNotifier } from '../core/sd-notify.js';

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

/** systemd notifications for a service command (a no-op unless systemd set NOTIFY_SOCKET). */
export function serviceNotifier(log: Logger): SdNotifier {
  return new SdNotifier({ env: process.env, log: log.child({ part: 'systemd' }) });
}

/**
 * Runs until SIGTERM/SIGINT, then stops gracefully; a second signal forces exit. With a notifier, systemd
 * hears STOPPING=1 as the shutdown begins (and the watchdog pings end).
 */
export function runUntilSignal(log: Logger, stop: () => Promise<void>, notifier?: SdNotifier): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      stopping = true;
      log.info({ signal }, 'stopping');
      notifier?.stopping(`stopping on ${signal}`);
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
