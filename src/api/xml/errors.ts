// Parse failures carry libvirt's error code / domain numbers and message text, so a
// daemon can put them on the wire unchanged. Kept local: src/rpc's VirError is separate.

/** virErrorNumber values used by XML parsing (virterror.h). */
export const ErrCode = {
  internalError: 1,
  invalidArg: 8,
  operationFailed: 9,
  noTarget: 20,
  noName: 21,
  xmlError: 27,
  xmlDetail: 35,
  configUnsupported: 67,
} as const;

/** virErrorDomain values used by XML parsing. */
export const ErrDomain = {
  none: 0,
  xml: 5,
  storage: 18,
  network: 19,
  domain: 20,
  interface: 26,
} as const;

export class XmlModelError extends Error {
  override readonly name = 'XmlModelError';
  constructor(
    readonly code: number,
    readonly domain: number,
    message: string,
  ) {
    super(message);
  }
}

// Message prefixes libvirt's error catalogue adds per code.
export const xmlError = (domain: number, msg: string): XmlModelError =>
  new XmlModelError(ErrCode.xmlError, domain, `XML error: ${msg}`);
export const internalError = (domain: number, msg: string): XmlModelError =>
  new XmlModelError(ErrCode.internalError, domain, `internal error: ${msg}`);
export const unsupported = (domain: number, msg: string): XmlModelError =>
  new XmlModelError(ErrCode.configUnsupported, domain, `unsupported configuration: ${msg}`);

/** libvirt's generic enum-attribute errors are reported from the XML domain (5). */
export const missingAttr = (attr: string, el: string): XmlModelError =>
  xmlError(ErrDomain.xml, `Missing required attribute '${attr}' in element '${el}'`);
export const invalidAttr = (attr: string, el: string, value: string): XmlModelError =>
  xmlError(ErrDomain.xml, `Invalid value for attribute '${attr}' in element '${el}': '${value}'.`);
