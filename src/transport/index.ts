export { connectUnix, listenUnix, type UnixListenOptions } from './unix.js';
export { connectTcp, listenTcp, DEFAULT_TCP_PORT } from './tcp.js';
export type { Listener, OnConnection } from './listener.js';
export { socketError, describeSysError } from './errors.js';
