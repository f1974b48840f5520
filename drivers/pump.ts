import { digitalOutDriver } from './digital-out.js';

/** A pump on one pin (through a relay or MOSFET). A forgotten pump floods: ten minutes by default. */
export default digitalOutDriver('pump', 600);
