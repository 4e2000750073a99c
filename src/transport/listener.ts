import type { Socket } from 'node:net';

/** A listening socket that hands each accepted connection, with a printable peer name, to `onConnection`. */
export interface Listener {
  /** Where it listens: a socket path or `host:port`. */
  readonly address: string;
  /** The TCP port actually bound (useful when asked for port 0). */
  readonly port?: number;
  /** Stops accepting and releases the address (a unix socket file is removed). */
  close(): Promise<void>;
}

export type OnConnection = (socket: Socket, peer: string) => void;
