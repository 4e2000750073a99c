// Public entry point of the tsvirt package.
export * from './xdr/index.js';
export * from './rpc/index.js';
export * from './transport/index.js';
export * from './api/index.js';
export { connect, type ConnectOptions } from './connect.js';
// QEMU's own protocol, usable with no daemon: a namespace, since its error names overlap libvirt's.
export * as qmp from './qmp/index.js';
