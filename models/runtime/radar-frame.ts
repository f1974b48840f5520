/**
 * The radar frame as fall detection reads it: the JSON the deployed CareDian ESP32 firmware POSTs to
 * /events once a second (a DFRobot C1001 60 GHz radar; `ts` is seconds since the ESP32 booted, not
 * epoch time).
 *
 * It lives here, not in daemon/, because models/ may not import daemon/ (ARCHITECTURE §2) and
 * `ares fall replay` must check frames exactly as the hub does; the hub's LAN paths (POST /events,
 * `local/{node}/radar`) use it through daemon/http/radar-frame.ts.
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

const INT01 = (v: unknown) => v === 0 || v === 1;

/** Every field present, in the firmware's ranges; unknown extra fields ignored. The frame, or what is wrong. */
export function checkRadarFrame(v: unknown): RadarFrame | string {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object';
  const f = v as Record<string, unknown>;
  if (typeof f['device_id'] !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(f['device_id']))
    return 'device_id: 1–64 letters, digits, - or _';
  if (!INT01(f['presence'])) return 'presence: 0 or 1';
  if (f['movement'] !== 0 && f['movement'] !== 1 && f['movement'] !== 2) return 'movement: 0, 1 or 2';
  const range = f['moving_range'];
  if (typeof range !== 'number' || !Number.isFinite(range) || range < 0 || range > 1000)
    return 'moving_range: a number in 0…1000';
  if (!INT01(f['fall_state'])) return 'fall_state: 0 or 1';
  if (!INT01(f['dwell_state'])) return 'dwell_state: 0 or 1';
  const ts = f['ts'];
  if (typeof ts !== 'number' || !Number.isFinite(ts) || ts < 0 || ts > 1e10) return 'ts: seconds since the node booted';
  return f as unknown as RadarFrame;
}
