/**
 * What central's first start puts in the catalog (migration 0002). Admins change it through the API
 * afterwards; a deleted entry stays deleted.
 */
export const ROLES = [
  { name: 'prime_admin', description: 'everything, including granting roles' },
  { name: 'general_admin', description: 'fleet administration: catalog, preregistration, alerts, audit' },
  { name: 'developer', description: 'read access to the catalog and developer tooling' },
  { name: 'owner', description: 'per-device: full control of a hub' },
  { name: 'viewer', description: 'per-device: sees data and alerts, acknowledges alerts' },
] as const;

export const GLOBAL_ROLES = ['prime_admin', 'general_admin', 'developer'] as const;
export type GlobalRole = (typeof GLOBAL_ROLES)[number];

export const HARDWARE_VARIANTS = [
  { name: 'Standard', description: 'base hub' },
  { name: 'Pro', description: 'hub with the extended sensor kit' },
] as const;

type Category = 'sensor' | 'actuator' | 'internal_module';
export const SUPPORTED_COMPONENTS: ReadonlyArray<{
  component_type: string;
  display_name: string;
  category: Category;
  description: string;
  telemetry_category: string;
  component_metadata: Record<string, unknown>;
}> = [
  {
    component_type: 'led',
    display_name: 'LED',
    category: 'actuator',
    description: 'GPIO LED',
    telemetry_category: 'status',
    component_metadata: { states: ['ON', 'OFF'] },
  },
  {
    component_type: 'relay',
    display_name: 'Relay',
    category: 'actuator',
    description: 'GPIO relay',
    telemetry_category: 'status',
    component_metadata: { states: ['ON', 'OFF'] },
  },
  {
    component_type: 'pump',
    display_name: 'Water pump',
    category: 'actuator',
    description: 'pump on a relay, runs for a duration',
    telemetry_category: 'status',
    component_metadata: { states: ['ON', 'OFF'], max_duration_s: 600 },
  },
  {
    component_type: 'button',
    display_name: 'Button',
    category: 'sensor',
    description: 'push button (long press starts BLE provisioning)',
    telemetry_category: 'status',
    component_metadata: { states: ['PRESSED', 'RELEASED'] },
  },
  {
    component_type: 'pir',
    display_name: 'Motion sensor',
    category: 'sensor',
    description: 'PIR motion sensor',
    telemetry_category: 'motion',
    component_metadata: { states: ['MOTION', 'CLEAR'] },
  },
  {
    component_type: 'dht22',
    display_name: 'Temperature & humidity',
    category: 'sensor',
    description: 'DHT22 one-wire sensor',
    telemetry_category: 'temperature',
    component_metadata: { units: { temperature: '°C', humidity: '%' } },
  },
  {
    component_type: 'cpu_temp',
    display_name: 'CPU temperature',
    category: 'internal_module',
    description: 'SoC temperature from the thermal zone',
    telemetry_category: 'temperature',
    component_metadata: { units: { temperature: '°C' } },
  },
  {
    component_type: 'system',
    display_name: 'System',
    category: 'internal_module',
    description: 'hub health: load, memory, disk, uptime',
    telemetry_category: 'system',
    component_metadata: {},
  },
  {
    component_type: 'radar',
    display_name: 'mmWave radar',
    category: 'sensor',
    description: '60 GHz radar node (ESP32 + DFRobot C1001) on the LAN',
    telemetry_category: 'presence',
    component_metadata: { node: true },
  },
  {
    component_type: 'imu',
    display_name: 'Wearable IMU',
    category: 'sensor',
    description: 'accelerometer/gyroscope node on the LAN',
    telemetry_category: 'motion',
    component_metadata: { node: true },
  },
];

/** Default pin rules (BCM numbering) for every board we ship, Standard and Pro alike. */
const PINS: ReadonlyArray<[type: string, pin: number, mode: string, state: string | null]> = [
  ['led', 17, 'OUT', 'OFF'],
  ['relay', 27, 'OUT', 'OFF'],
  ['pump', 22, 'OUT', 'OFF'],
  ['button', 23, 'IN', null],
  ['pir', 24, 'IN', null],
  ['dht22', 4, 'IN', null],
];
const BOARDS = ['3B', '3B+', '4B', '5', 'Z2W'];
export const PIN_RULES = BOARDS.flatMap((hardware_version) =>
  HARDWARE_VARIANTS.flatMap(({ name: hardware_variant }) =>
    PINS.map(([component_type, pin_number, pin_mode, default_state]) => ({
      hardware_version,
      hardware_variant,
      component_type,
      pin_number,
      pin_mode,
      default_state,
      description: `default ${component_type} pin`,
      shareable: 0,
    })),
  ),
);
