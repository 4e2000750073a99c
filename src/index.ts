// Public entry point of the tsvirt package.
export * from './xdr/index.js';
export * from './rpc/index.js';
export * from './transport/index.js';
