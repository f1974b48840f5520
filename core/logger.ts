import {
  pino,
  destination as pinoDestination,
  stdSerializers,
  stdTimeFunctions,
  type Logger,
  type DestinationStream,
} from 'pino';

/**
 * pino JSON to stdout (journald keeps it; no log files on the SD card). Every path that can carry a
 * secret is redacted here, once, so a component cannot forget to.
 */
export const REDACT_PATHS = [
  'password',
  'new_password',
  '*.password',
  '*.new_password',
  'code',
  '*.code',
  'claim_code',
  '*.claim_code',
  'shared_secret',
  '*.shared_secret',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'access_token',
  '*.access_token',
  'req.headers.authorization',
  'req.headers["x-ares-signature"]',
  'req.headers.cookie',
  'headers.authorization',
  'smtp_url',
  '*.smtp_url',
  'private_key',
  '*.private_key',
];

export type { Logger };

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // `*.code` is redacted (claim and reset codes), which hides an error's own code too: it is copied
      // to `err.error_code` (ARES_ERR_*, or Node's errno code), which is never a secret.
      serializers: { err: serializeError },
      timestamp: stdTimeFunctions.isoTime,
    },
    destination ?? pinoDestination({ fd: 1, sync: false }),
  );
}

function serializeError(err: unknown): unknown {
  const out = stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? { ...out, error_code: code } : out;
}

/** A logger that drops everything: for tests that do not assert on logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
