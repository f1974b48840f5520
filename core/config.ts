import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CONFIG_SCHEMA, isSetting, type SchemaNode, type SettingSpec } from './config-schema.js';
import { suggest } from './did-you-mean.js';
import { AresError } from './errors.js';

type Leaf<S> = S extends { type: 'boolean' }
  ? boolean
  : S extends { type: 'string'; enum: readonly (infer E)[] }
    ? E
    : S extends { type: 'string' }
      ? string
      : number;
type Resolve<N> = {
  readonly [K in keyof N]: N[K] extends { type: string; doc: string }
    ? N[K] extends { default: unknown }
      ? Leaf<N[K]>
      : Leaf<N[K]> | undefined
    : Resolve<N[K]>;
};

/** The validated, frozen configuration. `central.database` always has a value after loading. */
export type AresConfig = Resolve<typeof CONFIG_SCHEMA> & { readonly central: { readonly database: string } };

/**
 * The YAML parser is loaded only when a file is given: it costs ~9 MB of memory, which a hub
 * configured through its environment (systemd EnvironmentFile) does not need to carry.
 */
function yaml(): { parse(text: string): unknown } {
  return createRequire(import.meta.url)('yaml') as { parse(text: string): unknown };
}

export interface LeafInfo {
  path: string;
  env: string;
  spec: SettingSpec;
}

/** Every setting with its dotted path and environment name, in schema order. */
export function listSettings(node: SchemaNode = CONFIG_SCHEMA, prefix = ''): LeafInfo[] {
  const out: LeafInfo[] = [];
  for (const [key, child] of Object.entries(node)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isSetting(child)) out.push({ path, env: envName(path), spec: child });
    else out.push(...listSettings(child, path));
  }
  return out;
}

export function envName(path: string): string {
  return 'ARES_' + path.replace(/\./g, '_').toUpperCase();
}

export interface LoadOptions {
  /** YAML file path (`--config`). */
  file?: string;
  /** Environment to read ARES_* from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Values that override both (tests, the demo). */
  overrides?: Record<string, unknown>;
}

/**
 * Reads YAML, then environment, then overrides; validates everything at once; fills defaults;
 * returns a deep-frozen object. Any problem raises one ARES_ERR_CONFIG listing every bad setting.
 */
export function loadConfig(opts: LoadOptions = {}): AresConfig {
  const problems: string[] = [];
  const settings = listSettings();
  const byPath = new Map(settings.map((s) => [s.path, s]));
  const values = new Map<string, unknown>();

  if (opts.file !== undefined) {
    let doc: unknown;
    try {
      doc = yaml().parse(readFileSync(opts.file, 'utf8'));
    } catch (err) {
      throw new AresError('ARES_ERR_CONFIG', `config file ${opts.file}: ${(err as Error).message}`, { cause: err });
    }
    if (doc !== null && doc !== undefined) {
      if (typeof doc !== 'object' || Array.isArray(doc)) {
        problems.push(`${opts.file}: must be a mapping of sections (central:, hub:, log:)`);
      } else {
        walkFile(doc as Record<string, unknown>, CONFIG_SCHEMA, '', values, problems, opts.file);
      }
    }
  }

  const env = opts.env ?? process.env;
  const envNames = new Map(settings.map((s) => [s.env, s]));
  for (const [name, raw] of Object.entries(env)) {
    if (!/^ARES_(CENTRAL|HUB|LOG)_/.test(name) || raw === undefined) continue;
    const leaf = envNames.get(name);
    if (!leaf) {
      const hint = suggest(name, envNames.keys());
      problems.push(`${name}: unknown setting${hint ? ` (did you mean ${hint}?)` : ''}`);
      continue;
    }
    values.set(leaf.path, coerceEnv(raw, leaf, problems));
  }

  for (const [path, value] of Object.entries(opts.overrides ?? {})) {
    if (!byPath.has(path)) {
      const hint = suggest(path, byPath.keys());
      problems.push(`${path}: unknown setting${hint ? ` (did you mean ${hint}?)` : ''}`);
      continue;
    }
    if (value !== undefined) values.set(path, value);
  }

  const out: Record<string, Record<string, unknown>> = {};
  for (const leaf of settings) {
    const value = values.has(leaf.path) ? values.get(leaf.path) : leaf.spec.default;
    if (value !== undefined) checkValue(leaf, value, problems);
    const [section, key] = splitPath(leaf.path);
    (out[section] ??= {})[key] = value;
  }
  const central = out['central']!;
  if (central['database'] === undefined) central['database'] = `sqlite:${String(central['data_dir'])}/central.db`;

  if (problems.length > 0) {
    throw new AresError('ARES_ERR_CONFIG', `invalid configuration:\n  ${problems.join('\n  ')}`, {
      details: problems,
    });
  }
  return deepFreeze(out) as unknown as AresConfig;
}

function splitPath(path: string): [string, string] {
  const i = path.indexOf('.');
  return [path.slice(0, i), path.slice(i + 1)];
}

function walkFile(
  obj: Record<string, unknown>,
  schema: SchemaNode,
  prefix: string,
  values: Map<string, unknown>,
  problems: string[],
  file: string,
): void {
  for (const [key, value] of Object.entries(obj)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const node = schema[key];
    if (node === undefined) {
      const hint = suggest(key, Object.keys(schema));
      problems.push(
        `${path}: unknown setting in ${file}${hint ? ` (did you mean ${prefix ? prefix + '.' : ''}${hint}?)` : ''}`,
      );
      continue;
    }
    if (isSetting(node)) {
      if (value !== null) values.set(path, value);
    } else if (value !== null && (typeof value !== 'object' || Array.isArray(value))) {
      problems.push(`${path}: must be a mapping`);
    } else if (value !== null) {
      walkFile(value as Record<string, unknown>, node, path, values, problems, file);
    }
  }
}

function coerceEnv(raw: string, leaf: LeafInfo, problems: string[]): unknown {
  switch (leaf.spec.type) {
    case 'boolean':
      if (/^(true|1|yes|on)$/i.test(raw)) return true;
      if (/^(false|0|no|off)$/i.test(raw)) return false;
      problems.push(`${leaf.path} (${leaf.env}): expected true or false, got ${JSON.stringify(raw)}`);
      return undefined;
    case 'integer':
    case 'number': {
      const n = raw.trim() === '' ? NaN : Number(raw);
      if (Number.isNaN(n)) {
        problems.push(`${leaf.path} (${leaf.env}): expected a number, got ${JSON.stringify(raw)}`);
        return undefined;
      }
      return n;
    }
    default:
      return raw;
  }
}

function checkValue(leaf: LeafInfo, value: unknown, problems: string[]): void {
  const { spec, path } = leaf;
  const shown = spec.secret ? '(hidden)' : JSON.stringify(value);
  switch (spec.type) {
    case 'boolean':
      if (typeof value !== 'boolean') problems.push(`${path}: expected true or false, got ${shown}`);
      return;
    case 'integer':
    case 'number':
      if (
        typeof value !== 'number' ||
        !Number.isFinite(value) ||
        (spec.type === 'integer' && !Number.isInteger(value))
      ) {
        problems.push(`${path}: expected ${spec.type === 'integer' ? 'an integer' : 'a number'}, got ${shown}`);
      } else if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
        problems.push(`${path}: ${value} is outside ${spec.min ?? '-∞'}…${spec.max ?? '∞'}`);
      }
      return;
    case 'string':
      if (typeof value !== 'string') {
        problems.push(`${path}: expected a string, got ${shown}`);
        return;
      }
      if (spec.enum && !spec.enum.includes(value)) {
        const hint = suggest(value, spec.enum);
        problems.push(
          `${path}: must be one of ${spec.enum.join(', ')}, got ${shown}${hint ? ` (did you mean ${hint}?)` : ''}`,
        );
      }
      if (spec.schemes) {
        let scheme: string | undefined;
        try {
          scheme = new URL(value).protocol.replace(/:$/, '');
        } catch {
          problems.push(`${path}: not a URL: ${shown}`);
          return;
        }
        if (!spec.schemes.includes(scheme))
          problems.push(`${path}: scheme must be ${spec.schemes.join(' or ')}, got ${scheme}:`);
      }
      return;
  }
}

function deepFreeze<T>(obj: T): T {
  if (obj && typeof obj === 'object') {
    for (const v of Object.values(obj)) deepFreeze(v);
    Object.freeze(obj);
  }
  return obj;
}
