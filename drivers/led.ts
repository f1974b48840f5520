import { digitalOutDriver } from './digital-out.js';

/** An LED on one pin: on / off / toggle, no cut-off (an LED left on harms nothing). */
export default digitalOutDriver('led');
