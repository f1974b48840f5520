import { digitalOutDriver } from './digital-out.js';

/** A relay on one pin. It switches loads we cannot see, so it too has a cut-off: one hour by default. */
export default digitalOutDriver('relay', 3600);
