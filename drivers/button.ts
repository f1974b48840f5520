import { digitalInDriver } from './digital-in.js';

/**
 * A push button to ground with a pull-up, so pressed reads 0 (active_low true by default). Holding it
 * for long_press_ms (5 s) reports `long_press`, which starts BLE provisioning.
 */
export default digitalInDriver({
  type: 'button',
  active: 'PRESSED',
  inactive: 'RELEASED',
  defaultDebounceMs: 50,
  defaultActiveLow: true,
  defaultLongPressMs: 5000,
});
