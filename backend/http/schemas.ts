/** JSON-schema fragments shared by routes. Bounds everywhere: remote input never reaches the DB unbounded. */
export const INT32_MAX = 2147483647;

export const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const;

/** Printable text without control characters (names, nicknames, descriptions). */
export const text = (maxLength: number, minLength = 1) =>
  ({ type: 'string', minLength, maxLength, pattern: '^[^\\u0000-\\u001f\\u007f]*$' }) as const;

export const email = { type: 'string', format: 'email', minLength: 3, maxLength: 254 } as const;
export const password = { type: 'string', minLength: 8, maxLength: 256 } as const;
export const id = { type: 'integer', minimum: 1, maximum: INT32_MAX } as const;
/** Raspberry Pi CPU serials are hex; other boards use alphanumerics. */
export const cpuSerial = { type: 'string', minLength: 4, maxLength: 64, pattern: '^[0-9A-Za-z]+$' } as const;
export const uuid = { type: 'string', format: 'uuid', maxLength: 36 } as const;
/** component_type / hardware names: identifiers, not free text. */
export const ident = (maxLength = 64) =>
  ({ type: 'string', minLength: 1, maxLength, pattern: '^[A-Za-z0-9][A-Za-z0-9_.+-]*$' }) as const;

export function params<K extends string>(...names: K[]) {
  return {
    type: 'object',
    properties: Object.fromEntries(names.map((n) => [n, id])) as Record<K, typeof id>,
    required: names,
  } as const;
}

/** Standard error responses for the OpenAPI document. */
export function errors(...statuses: number[]) {
  return Object.fromEntries(statuses.map((s) => [s, errorSchema]));
}

export function iso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}
