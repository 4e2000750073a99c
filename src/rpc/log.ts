/** The logging the RPC layer needs; the daemon maps it onto its configured outputs. */
export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

const nothing = () => {};

/** Discards everything: the default for library users who pass no logger. */
export const silentLogger: Logger = { debug: nothing, info: nothing, warn: nothing, error: nothing };
