import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AresError, type AresErrorCode } from '../../core/errors.js';
import { isDbUnavailable } from '../db/errors.js';

/** The contract's error codes (§4.3) and their HTTP statuses: the only place this mapping lives. */
const HTTP: Record<AresErrorCode, [number, string]> = {
  ARES_ERR_BAD_REQUEST: [400, 'bad_request'],
  ARES_ERR_USAGE: [400, 'bad_request'],
  ARES_ERR_UNAUTHORIZED: [401, 'unauthorized'],
  ARES_ERR_FORBIDDEN: [403, 'forbidden'],
  ARES_ERR_NOT_FOUND: [404, 'not_found'],
  ARES_ERR_CONFLICT: [409, 'conflict'],
  ARES_ERR_NOT_CLAIMED: [409, 'not_claimed'],
  ARES_ERR_PAYLOAD_TOO_LARGE: [413, 'payload_too_large'],
  ARES_ERR_UNPROCESSABLE: [422, 'unprocessable'],
  ARES_ERR_RATE_LIMITED: [429, 'rate_limited'],
  ARES_ERR_UNAVAILABLE: [503, 'unavailable'],
  ARES_ERR_DATABASE: [503, 'unavailable'],
  ARES_ERR_MAIL: [503, 'unavailable'],
  ARES_ERR_CONFIG: [500, 'internal'],
  ARES_ERR_CRYPTO: [500, 'internal'],
  ARES_ERR_MODEL: [500, 'internal'],
  ARES_ERR_START: [500, 'internal'],
  ARES_ERR_STOPPED: [503, 'unavailable'],
  // Device-supplied input refused at the edge: a CSR that cannot be signed, a malformed signature.
  ARES_ERR_CSR: [422, 'unprocessable'],
  ARES_ERR_SIGNATURE: [401, 'unauthorized'],
  // Hub hardware: central never drives it, so reaching HTTP is a bug (500, logged, message hidden).
  ARES_ERR_GPIO: [500, 'internal'],
  ARES_ERR_SENSOR: [500, 'internal'],
};

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export function errorBody(code: string, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/** Fastify's own error codes for malformed input, mapped to ours. */
function fromFastify(err: FastifyError): [number, string, string, unknown] | undefined {
  if (err.validation) {
    const details = err.validation.map((v) => ({
      field: `${err.validationContext ?? 'body'}${v.instancePath || ''}`,
      message: v.message,
      ...(v.params && 'additionalProperty' in v.params ? { property: v.params.additionalProperty } : {}),
    }));
    return [400, 'bad_request', `invalid ${err.validationContext ?? 'request'}: ${err.message}`, details];
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return [413, 'payload_too_large', 'request body too large', undefined];
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return [415, 'bad_request', 'unsupported content type: send application/json', undefined];
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return [400, 'bad_request', 'request body is empty', undefined];
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return [400, 'bad_request', 'content-length does not match the body', undefined];
    default:
      break;
  }
  if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return [400, 'bad_request', 'malformed JSON body', undefined];
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return [err.statusCode, err.statusCode === 404 ? 'not_found' : 'bad_request', err.message, undefined];
  }
  return undefined;
}

/**
 * Fastify's error handler. `dbClosed`: the database was closed (central stopping); an uncoded error
 * then is the driver refusing the query, answered 503 like an outage.
 */
export function errorHandler(
  err: FastifyError | AresError,
  request: FastifyRequest,
  reply: FastifyReply,
  dbClosed = false,
): void {
  if (err instanceof AresError) {
    const [status, code] = HTTP[err.code];
    if (status >= 500) request.log.error({ err }, 'request failed');
    if (err.retryAfterS !== undefined) void reply.header('retry-after', String(err.retryAfterS));
    void reply
      .status(status)
      .send(errorBody(code, status >= 500 && status !== 503 ? 'internal error' : err.message, err.details));
    return;
  }
  const mapped = fromFastify(err);
  if (mapped) {
    const [status, code, message, details] = mapped;
    void reply.status(status).send(errorBody(code, message, details));
    return;
  }
  if (isDbUnavailable(err) || dbClosed) {
    request.log.error({ err }, 'database unavailable');
    void reply.status(503).send(errorBody('unavailable', 'database unavailable, try again'));
    return;
  }
  request.log.error({ err }, 'unhandled error');
  void reply.status(500).send(errorBody('internal', 'internal error'));
}
