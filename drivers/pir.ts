import { digitalInDriver } from './digital-in.js';

/** A PIR motion sensor: drives its pin high on motion. Its output chatters, hence a longer debounce. */
export default digitalInDriver({
  type: 'pir',
  active: 'MOTION',
  inactive: 'CLEAR',
  defaultDebounceMs: 200,
  defaultActiveLow: false,
});
