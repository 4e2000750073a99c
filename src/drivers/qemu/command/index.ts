// Domain XML -> QEMU command line for the QEMU driver.
export { buildQemuCommand } from './build.js';
export type { QemuCommand, QemuHostFacts } from './types.js';
export { unsupportedConfig } from './errors.js';
