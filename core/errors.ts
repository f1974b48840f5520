/**
 * Every error the project raises on purpose has a stable code (ARES_ERR_*) and says whether
 * retrying can help (`transient`). The HTTP mapping lives in backend/http/errors.ts; the CLI maps
 * `exitCode`. Remote input is turned into one of these at the edge, never thrown raw into a loop.
 */
export type AresErrorCode =
  | 'ARES_ERR_CONFIG'
  | 'ARES_ERR_USAGE'
  | 'ARES_ERR_START'
  | 'ARES_ERR_STOPPED'
  | 'ARES_ERR_BAD_REQUEST'
  | 'ARES_ERR_UNAUTHORIZED'
  | 'ARES_ERR_FORBIDDEN'
  | 'ARES_ERR_NOT_FOUND'
  | 'ARES_ERR_CONFLICT'
  | 'ARES_ERR_UNPROCESSABLE'
  | 'ARES_ERR_NOT_CLAIMED'
  | 'ARES_ERR_RATE_LIMITED'
  | 'ARES_ERR_PAYLOAD_TOO_LARGE'
  | 'ARES_ERR_UNAVAILABLE'
  | 'ARES_ERR_DATABASE'
  | 'ARES_ERR_CRYPTO'
  | 'ARES_ERR_MAIL'
  | 'ARES_ERR_MODEL'
  /** A device-supplied CSR that cannot be signed (backend/ca/ca.ts `CsrError`). */
  | 'ARES_ERR_CSR'
  /** A device request signature that is missing or malformed (sync/device-signing.ts `SignatureError`). */
  | 'ARES_ERR_SIGNATURE'
  /** GPIO trouble: bad pin, pin busy, no GPIO on this machine (drivers/gpio/port.ts `GpioError`). */
  | 'ARES_ERR_GPIO'
  /** A host sensor read that failed; `transient` says whether the next read may succeed (`SensorError`). */
  | 'ARES_ERR_SENSOR';

export interface AresErrorOptions {
  transient?: boolean;
  details?: unknown;
  cause?: unknown;
  /** For rate limiting: seconds until a retry may succeed. */
  retryAfterS?: number;
}

export class AresError extends Error {
  readonly code: AresErrorCode;
  readonly transient: boolean;
  readonly details: unknown;
  readonly retryAfterS: number | undefined;

  constructor(code: AresErrorCode, message: string, opts: AresErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AresError';
    this.code = code;
    this.transient = opts.transient ?? false;
    this.details = opts.details;
    this.retryAfterS = opts.retryAfterS;
  }
}

export const badRequest = (message: string, details?: unknown): AresError =>
  new AresError('ARES_ERR_BAD_REQUEST', message, { details });
export const unauthorized = (message = 'authentication required'): AresError =>
  new AresError('ARES_ERR_UNAUTHORIZED', message);
export const forbidden = (message = 'not allowed'): AresError => new AresError('ARES_ERR_FORBIDDEN', message);
export const notFound = (what: string): AresError => new AresError('ARES_ERR_NOT_FOUND', `${what} not found`);
export const conflict = (message: string, details?: unknown): AresError =>
  new AresError('ARES_ERR_CONFLICT', message, { details });
export const unprocessable = (message: string, details?: unknown): AresError =>
  new AresError('ARES_ERR_UNPROCESSABLE', message, { details });
export const rateLimited = (message: string, retryAfterS: number): AresError =>
  new AresError('ARES_ERR_RATE_LIMITED', message, { transient: true, retryAfterS });

export function isAresError(err: unknown): err is AresError {
  return err instanceof AresError;
}
