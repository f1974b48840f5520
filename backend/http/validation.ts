import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

// ajv-formats is CommonJS; its typings describe the ESM interop shape, not the function it exports.
type AddFormats = (ajv: Ajv) => Ajv;
const formatsExport = addFormatsModule as unknown as { default?: AddFormats };
const addFormats: AddFormats = formatsExport.default ?? (formatsExport as unknown as AddFormats);

/**
 * Two validators: query strings, params and headers arrive as text and are coerced to the schema's
 * types; JSON bodies are not — `{"username": 42}` is a client bug and gets a 400, not a silent "42".
 */
export function registerValidators(app: FastifyInstance): void {
  const common: Options = { allErrors: false, removeAdditional: false, useDefaults: true, strict: false };
  const strictBody = addFormats(new Ajv({ ...common, coerceTypes: false }));
  const coercing = addFormats(new Ajv({ ...common, coerceTypes: 'array' }));
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strictBody : coercing).compile(schema));
}
