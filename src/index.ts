/** densekit public API. */
export { DensekitError, InputError, UsageError } from './errors.js';
