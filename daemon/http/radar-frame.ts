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
