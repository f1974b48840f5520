import type { Kysely } from 'kysely';
import type { Database } from '../types.js';

/*
 * FROZEN. This migration has already run on existing databases; what it inserts is spelled out here
 * as literal data and must never change, so a fresh database and an old one agree. Catalog changes
 * (new component types, variants, pin rules, roles) come as new migrations that insert, update or
 * delete rows. Migrations import nothing but kysely and types (tests/backend/migrations.test.ts
 * checks both).
 */

/** Roles and the catalog as central's first start has always seeded them. */
const ROLES: ReadonlyArray<[name: string, description: string]> = [
  ['prime_admin', 'everything, including granting roles'],
  ['general_admin', 'fleet administration: catalog, preregistration, alerts, audit'],
  ['developer', 'read access to the catalog and developer tooling'],
  ['owner', 'per-device: full control of a hub'],
  ['viewer', 'per-device: sees data and alerts, acknowledges alerts'],
];

const HARDWARE_VARIANTS: ReadonlyArray<[name: string, description: string]> = [
  ['Standard', 'base hub'],
  ['Pro', 'hub with the extended sensor kit'],
];

/** component_metadata is the JSON text stored, exactly. */
const SUPPORTED_COMPONENTS: ReadonlyArray<{
  component_type: string;
  display_name: string;
  category: 'sensor' | 'actuator' | 'internal_module';
  description: string;
  telemetry_category: string;
  component_metadata: string;
}> = [
  {
    component_type: 'led',
    display_name: 'LED',
    category: 'actuator',
    description: 'GPIO LED',
    telemetry_category: 'status',
    component_metadata: '{"states":["ON","OFF"]}',
  },
  {
    component_type: 'relay',
    display_name: 'Relay',
    category: 'actuator',
    description: 'GPIO relay',
    telemetry_category: 'status',
    component_metadata: '{"states":["ON","OFF"]}',
  },
  {
    component_type: 'pump',
    display_name: 'Water pump',
    category: 'actuator',
    description: 'pump on a relay, runs for a duration',
    telemetry_category: 'status',
    component_metadata: '{"states":["ON","OFF"],"max_duration_s":600}',
  },
  {
    component_type: 'button',
    display_name: 'Button',
    category: 'sensor',
    description: 'push button (long press starts BLE provisioning)',
    telemetry_category: 'status',
    component_metadata: '{"states":["PRESSED","RELEASED"]}',
  },
  {
    component_type: 'pir',
    display_name: 'Motion sensor',
    category: 'sensor',
    description: 'PIR motion sensor',
    telemetry_category: 'motion',
    component_metadata: '{"states":["MOTION","CLEAR"]}',
  },
  {
    component_type: 'dht22',
    display_name: 'Temperature & humidity',
    category: 'sensor',
    description: 'DHT22 one-wire sensor',
    telemetry_category: 'temperature',
    component_metadata: '{"units":{"temperature":"°C","humidity":"%"}}',
  },
  {
    component_type: 'cpu_temp',
    display_name: 'CPU temperature',
    category: 'internal_module',
    description: 'SoC temperature from the thermal zone',
    telemetry_category: 'temperature',
    component_metadata: '{"units":{"temperature":"°C"}}',
  },
  {
    component_type: 'system',
    display_name: 'System',
    category: 'internal_module',
    description: 'hub health: load, memory, disk, uptime',
    telemetry_category: 'system',
    component_metadata: '{}',
  },
  {
    component_type: 'radar',
    display_name: 'mmWave radar',
    category: 'sensor',
    description: '60 GHz radar node (ESP32 + DFRobot C1001) on the LAN',
    telemetry_category: 'presence',
    component_metadata: '{"node":true}',
  },
  {
    component_type: 'imu',
    display_name: 'Wearable IMU',
    category: 'sensor',
    description: 'accelerometer/gyroscope node on the LAN',
    telemetry_category: 'motion',
    component_metadata: '{"node":true}',
  },
];

/** Pin rules (BCM numbering), in insertion order. */
const PIN_RULES: ReadonlyArray<
  [
    hardware_version: string,
    hardware_variant: string,
    component_type: string,
    pin_number: number,
    pin_mode: string,
    default_state: string | null,
    description: string,
    shareable: number,
  ]
> = [
  ['3B', 'Standard', 'led', 17, 'OUT', 'OFF', 'default led pin', 0],
  ['3B', 'Standard', 'relay', 27, 'OUT', 'OFF', 'default relay pin', 0],
  ['3B', 'Standard', 'pump', 22, 'OUT', 'OFF', 'default pump pin', 0],
  ['3B', 'Standard', 'button', 23, 'IN', null, 'default button pin', 0],
  ['3B', 'Standard', 'pir', 24, 'IN', null, 'default pir pin', 0],
  ['3B', 'Standard', 'dht22', 4, 'IN', null, 'default dht22 pin', 0],
  ['3B', 'Pro', 'led', 17, 'OUT', 'OFF', 'default led pin', 0],
  ['3B', 'Pro', 'relay', 27, 'OUT', 'OFF', 'default relay pin', 0],
  ['3B', 'Pro', 'pump', 22, 'OUT', 'OFF', 'default pump pin', 0],
  ['3B', 'Pro', 'button', 23, 'IN', null, 'default button pin', 0],
  ['3B', 'Pro', 'pir', 24, 'IN', null, 'default pir pin', 0],
  ['3B', 'Pro', 'dht22', 4, 'IN', null, 'default dht22 pin', 0],
  ['3B+', 'Standard', 'led', 17, 'OUT', 'OFF', 'default led pin', 0],
  ['3B+', 'Standard', 'relay', 27, 'OUT', 'OFF', 'default relay pin', 0],
  ['3B+', 'Standard', 'pump', 22, 'OUT', 'OFF', 'default pump pin', 0],
  ['3B+', 'Standard', 'button', 23, 'IN', null, 'default button pin', 0],
  ['3B+', 'Standard', 'pir', 24, 'IN', null, 'default pir pin', 0],
  ['3B+', 'Standard', 'dht22', 4, 'IN', null, 'default dht22 pin', 0],
  ['3B+', 'Pro', 'led', 17, 'OUT', 'OFF', 'default led pin', 0],
  ['3B+', 'Pro', 'relay', 27, 'OUT', 'OFF', 'default relay pin', 0],
  ['3B+', 'Pro', 'pump', 22, 'OUT', 'OFF', 'default pump pin', 0],
  ['3B+', 'Pro', 'button', 23, 'IN', null, 'default button pin', 0],
  ['3B+', 'Pro', 'pir', 24, 'IN', null, 'default pir pin', 0],
  ['3B+', 'Pro', 'dht22', 4, 'IN', null, 'default dht22 pin', 0],
  ['4B', 'Standard', 'led', 17, 'OUT', 'OFF', 'default led pin', 0],
  ['4B', 'Standard', 'relay', 27, 'OUT', 'OFF', 'default relay pin', 0],
  ['4B', 'Standard', 'pump', 22, 'OUT', 'OFF', 'default pump pin', 0],
  ['4B', 'Standard', 'button', 23, 'IN', null, 'default button pin', 0],
  ['4B', 'Standard', 'pir', 24, 'IN', null, 'default pir pin', 0],
  ['4B', 'Standard', 'dht22', 4, 'IN', null, 'default dht22 pin', 0],
  ['4B', 'Pro', 'led', 17, 'OUT', 'OFF', 'default led pin', 0],
  ['4B', 'Pro', 'relay', 27, 'OUT', 'OFF', 'default relay pin', 0],
  ['4B', 'Pro', 'pump', 22, 'OUT', 'OFF', 'default pump pin', 0],
  ['4B', 'Pro', 'button', 23, 'IN', null, 'default button pin', 0],
  ['4B', 'Pro', 'pir', 24, 'IN', null, 'default pir pin', 0],
  ['4B', 'Pro', 'dht22', 4, 'IN', null, 'default dht22 pin', 0],
  ['5', 'Standard', 'led', 17, 'OUT', 'OFF', 'default led pin', 0],
  ['5', 'Standard', 'relay', 27, 'OUT', 'OFF', 'default relay pin', 0],
  ['5', 'Standard', 'pump', 22, 'OUT', 'OFF', 'default pump pin', 0],
  ['5', 'Standard', 'button', 23, 'IN', null, 'default button pin', 0],
  ['5', 'Standard', 'pir', 24, 'IN', null, 'default pir pin', 0],
  ['5', 'Standard', 'dht22', 4, 'IN', null, 'default dht22 pin', 0],
  ['5', 'Pro', 'led', 17, 'OUT', 'OFF', 'default led pin', 0],
  ['5', 'Pro', 'relay', 27, 'OUT', 'OFF', 'default relay pin', 0],
  ['5', 'Pro', 'pump', 22, 'OUT', 'OFF', 'default pump pin', 0],
  ['5', 'Pro', 'button', 23, 'IN', null, 'default button pin', 0],
  ['5', 'Pro', 'pir', 24, 'IN', null, 'default pir pin', 0],
  ['5', 'Pro', 'dht22', 4, 'IN', null, 'default dht22 pin', 0],
  ['Z2W', 'Standard', 'led', 17, 'OUT', 'OFF', 'default led pin', 0],
  ['Z2W', 'Standard', 'relay', 27, 'OUT', 'OFF', 'default relay pin', 0],
  ['Z2W', 'Standard', 'pump', 22, 'OUT', 'OFF', 'default pump pin', 0],
  ['Z2W', 'Standard', 'button', 23, 'IN', null, 'default button pin', 0],
  ['Z2W', 'Standard', 'pir', 24, 'IN', null, 'default pir pin', 0],
  ['Z2W', 'Standard', 'dht22', 4, 'IN', null, 'default dht22 pin', 0],
  ['Z2W', 'Pro', 'led', 17, 'OUT', 'OFF', 'default led pin', 0],
  ['Z2W', 'Pro', 'relay', 27, 'OUT', 'OFF', 'default relay pin', 0],
  ['Z2W', 'Pro', 'pump', 22, 'OUT', 'OFF', 'default pump pin', 0],
  ['Z2W', 'Pro', 'button', 23, 'IN', null, 'default button pin', 0],
  ['Z2W', 'Pro', 'pir', 24, 'IN', null, 'default pir pin', 0],
  ['Z2W', 'Pro', 'dht22', 4, 'IN', null, 'default dht22 pin', 0],
];

/** Seeds roles and the catalog once, on central's first start. */
export function up() {
  return async (untyped: Kysely<unknown>): Promise<void> => {
    const db = untyped as Kysely<Database>;
    await db
      .insertInto('roles')
      .values(ROLES.map(([name, description]) => ({ name, description })))
      .execute();
    await db
      .insertInto('hardware_variants')
      .values(HARDWARE_VARIANTS.map(([name, description]) => ({ name, description })))
      .execute();
    await db
      .insertInto('supported_components')
      .values(SUPPORTED_COMPONENTS.map((c) => ({ ...c })))
      .execute();
    await db
      .insertInto('device_pin_configs')
      .values(
        PIN_RULES.map(
          ([
            hardware_version,
            hardware_variant,
            component_type,
            pin_number,
            pin_mode,
            default_state,
            description,
            shareable,
          ]) => ({
            hardware_version,
            hardware_variant,
            component_type,
            pin_number,
            pin_mode,
            default_state,
            description,
            shareable,
          }),
        ),
      )
      .execute();
  };
}
