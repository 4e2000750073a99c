// Errors the command-line builder raises, worded and numbered as libvirt's QEMU driver does.
import { VirError, VirErrorDomain, VirErrorNumber } from '../../../rpc/errors.js';

/** VIR_ERR_CONFIG_UNSUPPORTED from the QEMU driver: "unsupported configuration: ...". */
export const unsupportedConfig = (msg: string): VirError =>
  VirError.format(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.QEMU, 'unsupported configuration: %s', msg);

/** An element, attribute value or device kind this builder does not translate. */
export const unsupportedElement = (what: string): VirError => unsupportedConfig(`${what} is not supported by tsvirt's QEMU driver`);
