import type { Transaction } from 'kysely';
import { conflict, unprocessable } from '../../core/errors.js';
import type { Database } from '../db/types.js';

export interface AttachRequest {
  component_type: string;
  pin_number?: number;
  pin_mode?: string;
  default_state?: string;
  config?: Record<string, unknown>;
}

/**
 * Decides whether a component may be attached to a device (seed §4.1 step 5, §5.6): its type is in
 * the catalog; LAN-node types name their node; internal modules take no pin; GPIO components use a
 * pin the rules allow for the device's board and variant, in the rule's mode; and no two components
 * share a pin unless both rules say the pin is shareable. Returns the pin mode and default state to
 * store (the rule's, when the request gives none).
 */
export async function checkAttachment(
  trx: Transaction<Database>,
  device: { id: number; hardware_version: string; hardware_variant: string },
  req: AttachRequest,
): Promise<{ pin_mode: string | null; default_state: string | null }> {
  const type = await trx
    .selectFrom('supported_components')
    .select(['category', 'component_metadata'])
    .where('component_type', '=', req.component_type)
    .executeTakeFirst();
  if (!type) throw unprocessable(`component_type: unknown type ${JSON.stringify(req.component_type)}`);
  const meta = type.component_metadata ? (JSON.parse(type.component_metadata) as { node?: boolean }) : {};

  if (meta.node === true || type.category === 'internal_module') {
    if (req.pin_number !== undefined)
      throw unprocessable(`pin_number: a ${req.component_type} component has no GPIO pin`);
    if (meta.node === true && typeof req.config?.['node_id'] !== 'string') {
      throw unprocessable(`config.node_id: a ${req.component_type} component must name its LAN node`);
    }
    return { pin_mode: null, default_state: req.default_state ?? null };
  }

  if (req.pin_number === undefined)
    throw unprocessable(`pin_number: a ${req.component_type} component needs a GPIO pin`);
  const rule = await trx
    .selectFrom('device_pin_configs')
    .select(['pin_mode', 'default_state', 'shareable'])
    .where('hardware_version', '=', device.hardware_version)
    .where('hardware_variant', '=', device.hardware_variant)
    .where('component_type', '=', req.component_type)
    .where('pin_number', '=', req.pin_number)
    .executeTakeFirst();
  if (!rule) {
    throw unprocessable(
      `pin_number: pin ${req.pin_number} is not allowed for ${req.component_type} on ${device.hardware_version}/${device.hardware_variant}`,
    );
  }
  if (req.pin_mode !== undefined && rule.pin_mode !== null && req.pin_mode !== rule.pin_mode) {
    throw unprocessable(
      `pin_mode: pin ${req.pin_number} is ${rule.pin_mode} for ${req.component_type}, not ${req.pin_mode}`,
    );
  }

  const occupants = await trx
    .selectFrom('attached_components')
    .select(['component_type'])
    .where('device_id', '=', device.id)
    .where('pin_number', '=', req.pin_number)
    .execute();
  if (occupants.length > 0) {
    const shareableTypes = await trx
      .selectFrom('device_pin_configs')
      .select('component_type')
      .where('hardware_version', '=', device.hardware_version)
      .where('hardware_variant', '=', device.hardware_variant)
      .where('pin_number', '=', req.pin_number)
      .where('shareable', '=', 1)
      .execute();
    const shareable = new Set(shareableTypes.map((r) => r.component_type));
    const allShare = rule.shareable === 1 && occupants.every((o) => shareable.has(o.component_type));
    if (!allShare)
      throw conflict(`pin ${req.pin_number} is already used by a ${occupants[0]!.component_type} component`);
  }
  return { pin_mode: req.pin_mode ?? rule.pin_mode, default_state: req.default_state ?? rule.default_state };
}
