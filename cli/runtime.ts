import { destination } from 'pino';
import { loadConfig, type AresConfig } from '../core/config.js';
import { AresError, isAresError } from '../core/errors.js';
import { StartAbortedError, StartError } from '../core/lifecycle.js';
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
    onStopSignal(log, () => {
      notifier?.stopping('stopping');
      stop().then(
        () => resolve(0),
        (err: unknown) => {
          log.error({ err }, 'error while stopping');
          resolve(1);
        },
      );
    });
  });
}

/** Calls `stop` on the first SIGTERM/SIGINT; a second one exits at once. */
function onStopSignal(log: Logger, stop: (signal: NodeJS.Signals) => void): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'stopping');
    stop(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

export interface Service {
  /** `hub` or `central`: names the service in the one line a failed start prints. */
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** STATUS= for systemd once started, and polled afterwards. */
  status(): string;
}

/** How long the process may linger after a clean stop before it is made to exit (something left a handle). */
const EXIT_GRACE_MS = 1000;

/**
 * A daemon's whole run: signals are handled from the first moment (a SIGTERM during start-up stops what
 * had started and exits 0), a failed start prints one line naming the part and exits 1 (2 when the cause
 * is the configuration) with nothing left running, READY=1 goes to systemd only once every part started,
 * and after the stop the process exits even if a library left a timer or socket behind.
 */
export async function runService(log: Logger, service: Service): Promise<number> {
  const notifier = serviceNotifier(log);
  const stopping = new Promise<number>((resolve) =>
    onStopSignal(log, (signal) => {
      notifier.stopping(`stopping on ${signal}`);
      resolve(
        service.stop().then(
          () => 0,
          (err: unknown) => {
            log.error({ err }, 'error while stopping');
            return 1;
          },
        ),
      );
    }),
  );
  // A stop signal ends the wait for start(): a part that hangs in start has been given up on by then.
  const outcome = await Promise.race([
    service.start().then(
      () => ({ started: true as const }),
      (err: unknown) => ({ started: false as const, err }),
    ),
    stopping.then(() => ({ started: false as const, err: new StartAbortedError(undefined) })),
  ]);
  if (!outcome.started) {
    const { err } = outcome;
    if (err instanceof StartAbortedError) return exitAfter(log, await stopping);
    const cause = err instanceof StartError ? err.cause : err;
    const line = err instanceof AresError ? err.message : ((err as Error).stack ?? String(err));
    process.stderr.write(`ares: ${service.name} failed to start: ${line}\n`);
    return exitAfter(log, isAresError(cause) && cause.code === 'ARES_ERR_CONFIG' ? 2 : 1);
  }
  notifier.ready(service.status());
  notifier.start(() => service.status());
  return exitAfter(log, await stopping);
}

/**
 * Resolves to `code`; if the event loop is still busy EXIT_GRACE_MS later (a part that did not stop in
 * time, a library's reconnect timer), says what is left and exits: a daemon told to stop must not hang
 * until systemd's stop timeout and SIGKILL.
 */
function exitAfter(log: Logger, code: number): number {
  setTimeout(() => {
    log.warn({ resources: process.getActiveResourcesInfo() }, 'still busy after stopping: exiting');
    process.exit(code);
  }, EXIT_GRACE_MS).unref();
  return code;
}
