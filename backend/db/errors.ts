/** Dialect-blind recognition of the driver errors routes care about. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** The database is down or unreachable (as opposed to a bad query): answered with 503. */
export function isDbUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return (
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
      'ENOTFOUND',
      'EPIPE',
      'SQLITE_BUSY',
      'SQLITE_IOERR',
      'SQLITE_FULL',
      'SQLITE_CANTOPEN',
    ].includes(code) ||
    code.startsWith('08') || // PostgreSQL connection exceptions
    code === '57P01' || // admin shutdown
    code === '53300' // too many connections
  );
}
