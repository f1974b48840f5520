import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BuildError } from './errors.js';

interface Setting {
  type: string;
  default?: string | number | boolean;
  enum?: readonly string[];
  doc: string;
  secret?: boolean;
}
type SchemaNode = { [key: string]: SchemaNode | Setting };

const isSetting = (n: SchemaNode | Setting): n is Setting =>
  typeof (n as Setting).type === 'string' && typeof (n as Setting).doc === 'string';

/** The configuration schema of the bundled release (core/config-schema.ts, compiled). */
export async function loadSchema(appDir: string): Promise<SchemaNode> {
  const file = join(appDir, 'dist', 'core', 'config-schema.js');
  const mod = (await import(pathToFileURL(file).href)) as { CONFIG_SCHEMA?: SchemaNode };
  if (!mod.CONFIG_SCHEMA) throw new BuildError(`${file} exports no CONFIG_SCHEMA`);
  return mod.CONFIG_SCHEMA;
}

function section(schema: SchemaNode, name: string, env: string, lines: string[]): void {
  const node = schema[name];
  if (!node || isSetting(node)) throw new BuildError(`the configuration schema has no ${name}: section`);
  lines.push(`${name}:`);
  const width = Math.max(...Object.keys(node).map((k) => k.length)) + 2;
  for (const [key, spec] of Object.entries(node)) {
    if (!isSetting(spec)) continue;
    // Strings double-quoted (JSON is valid YAML): "ares:" or "Ares <…>" would not survive as plain scalars.
    const shown = typeof spec.default === 'string' ? JSON.stringify(spec.default) : String(spec.default);
    const value = spec.secret || spec.default === undefined ? '' : ` ${shown}`;
    const choices = spec.enum ? ` (${spec.enum.join(' | ')})` : '';
    lines.push(`  # ${`${key}:${value}`.padEnd(width + 12)} # ${spec.doc}${choices}; ${env}_${key.toUpperCase()}`);
  }
}

/**
 * /etc/ares/<role>.yaml as shipped: every setting of the role's sections, commented out, with its
 * default and documentation taken from the schema of the same release, so the file cannot drift from
 * what the daemon accepts. Empty sections are valid: the file as shipped means "all defaults".
 */
export function configTemplate(schema: SchemaNode, role: 'hub' | 'central', unitNotes: string[]): string {
  const lines = [
    `# /etc/ares/${role}.yaml: settings of ares ${role} (ares-${role}.service runs \`ares ${role} --config /etc/ares/${role}.yaml\`).`,
    '# Every setting is listed with its default, commented out; uncomment and edit what you change, then',
    `# \`sudo systemctl restart ares-${role}\`. Environment variables override this file (the name is on each`,
    `# line; put them in /etc/default/ares-${role}). Unknown keys are refused at start-up.`,
    ...unitNotes.map((n) => `# ${n}`),
    '',
  ];
  section(schema, 'log', 'ARES_LOG', lines);
  lines.push('');
  section(schema, role, `ARES_${role.toUpperCase()}`, lines);
  return lines.join('\n') + '\n';
}
