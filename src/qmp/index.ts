/** A standalone QMP (QEMU Machine Protocol) client for unix or TCP monitor sockets. */
export {
  QmpClient,
  connect,
  type ConnectOptions,
  type ExecuteOptions,
  type ExecuteRest,
  type ExecuteResult,
  type QmpClientEvents,
  type QmpClientOptions,
} from './client.js';
export type * from './commands.js';
export {
  ConnectError,
  ConnectionClosedError,
  ExecInterruptedError,
  MessageTooLongError,
  ProtocolError,
  QmpAbortError,
  QmpClientError,
  QmpError,
  QmpTimeoutError,
  StateError,
  type SentCommand,
} from './errors.js';
export { DEFAULT_EVENT_QUEUE, EventIterator, type EventFilter } from './events.js';
export { DEFAULT_MAX_MESSAGE_BYTES, LineDecoder } from './lines.js';
export { silentQmpLogger, type QmpLogger } from './log.js';
export { parseMessage, type QmpEvent, type QmpGreeting, type QmpMessage, type QmpVersion } from './message.js';
export type { QmpState, QmpStateChange } from './state.js';
export { describeTarget, type QmpTarget } from './target.js';
