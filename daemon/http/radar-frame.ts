/**
 * The JSON the deployed CareDian ESP32 firmware POSTs to /events once a second (seed README): a
 * DFRobot C1001 60 GHz radar frame. `ts` is seconds since the ESP32 booted, not epoch time. Accepted
 * unchanged; fields the firmware may add later are ignored.
 */
export interface RadarFrame {
  device_id: string;
  presence: number;
  movement: number;
  moving_range: number;
  fall_state: number;
  dwell_state: number;
  ts: number;
}

export const radarFrameSchema = {
  type: 'object',
  required: ['device_id', 'presence', 'movement', 'moving_range', 'fall_state', 'dwell_state', 'ts'],
  properties: {
    device_id: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$' },
    presence: { type: 'integer', minimum: 0, maximum: 1 },
    movement: { type: 'integer', minimum: 0, maximum: 2 },
    moving_range: { type: 'number', minimum: 0, maximum: 1000 },
    fall_state: { type: 'integer', minimum: 0, maximum: 1 },
    dwell_state: { type: 'integer', minimum: 0, maximum: 1 },
    ts: { type: 'number', minimum: 0, maximum: 1e10 },
  },
} as const;

/** Numeric readings a frame becomes (the radar component's metrics). */
export const RADAR_METRICS = ['presence', 'movement', 'moving_range', 'fall_state', 'dwell_state'] as const;

const INT01 = (v: unknown) => v === 0 || v === 1;

/**
 * The same rules as `radarFrameSchema`, hand-written for the MQTT path, where frames arrive many
 * times a second per node: returns the frame, or what is wrong with it.
 */
export function checkRadarFrame(v: unknown): RadarFrame | string {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object';
  const f = v as Record<string, unknown>;
  if (typeof f['device_id'] !== 'string' || f['device_id'].length === 0 || f['device_id'].length > 64) return 'device_id: a string of 1–64 characters';
  if (!INT01(f['presence'])) return 'presence: 0 or 1';
  if (f['movement'] !== 0 && f['movement'] !== 1 && f['movement'] !== 2) return 'movement: 0, 1 or 2';
  const range = f['moving_range'];
  if (typeof range !== 'number' || !Number.isFinite(range) || range < 0 || range > 1000) return 'moving_range: a number in 0…1000';
  if (!INT01(f['fall_state'])) return 'fall_state: 0 or 1';
  if (!INT01(f['dwell_state'])) return 'dwell_state: 0 or 1';
  const ts = f['ts'];
  if (typeof ts !== 'number' || !Number.isFinite(ts) || ts < 0 || ts > 1e10) return 'ts: seconds since the node booted';
  return f as unknown as RadarFrame;
}
