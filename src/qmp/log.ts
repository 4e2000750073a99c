/** The logging the QMP client needs; kept local because src/qmp imports nothing else from src. */
export interface QmpLogger {
  debug(msg: string): void;
  warn(msg: string): void;
}

const nothing = () => {};

export const silentQmpLogger: QmpLogger = { debug: nothing, warn: nothing };
