// The frame and its check live with the models (replay reads the same JSON); the hub's LAN paths use them from here.
export { checkRadarFrame, type RadarFrame } from '../../models/runtime/radar-frame.js';

/** Numeric readings a frame becomes (the radar component's metrics). */
export const RADAR_METRICS = ['presence', 'movement', 'moving_range', 'fall_state', 'dwell_state'] as const;
