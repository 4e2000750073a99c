// Public API of tsvirt's typed client.
export { Connection, type CloseReason, type ConnectionStatus, type ConnectionOptions, type ReconnectPolicy, type DomainEvent, type DomainEventsOptions, type NetworkEvent, type StoragePoolEvent, type QemuMonitorEventInfo, type QemuMonitorEventsOptions } from './connection.js';
export type { CallOptions as ApiCallOptions } from './core.js';
export { uuidFromString, uuidToString } from './core.js';
export { Domain } from './domain.js';
export { DomainSnapshot } from './snapshot.js';
export { Network } from './network.js';
export { StoragePool, StorageVol, type VolTransferOptions } from './storage.js';
export { Stream, type StreamOptions, type StreamSource, type TransferProgress } from './stream.js';
export { Interface } from './interface.js';
export * from './flags.js';
export * from './info.js';
export {
  DomainEventID,
  DomainEventType,
  NetworkEventID,
  NetworkEventType,
  StoragePoolEventID,
  StoragePoolEventType,
  EventStream,
  EventOverflowError,
  type EventStreamOptions,
  type OverflowPolicy,
} from './events.js';
export { DomainWatch, type DomainChange, type WatchedDomain } from './watch.js';
export { CredentialType, staticCredentials, type AuthOptions, type CredentialRequest } from './auth.js';
export {
  QEMU_MONITOR_COMMAND_HMP,
  QemuAgentCommandTimeout,
  QemuMonitorEventRegisterFlags,
  type QemuMonitorCommandOptions,
} from './qemu.js';
