/**
 * QMP client errors. Every class carries a stable string `code` so callers can branch without
 * instanceof (which breaks across duplicate copies of the module).
 */
import type { QmpState } from './state.js';

export class QmpClientError extends Error {
  override name = 'QmpClientError';
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** connect() failed; `cause` says why (socket error, timeout, abort, bad greeting, negotiation). */
export class ConnectError extends QmpClientError {
  override name = 'ConnectError';
  constructor(message: string, cause: unknown) {
    super('QMP_CONNECT', `QMP connect failed: ${message}`, { cause });
  }
}

/** A method was called in a state that does not allow it. */
export class StateError extends QmpClientError {
  override name = 'StateError';
  constructor(
    readonly operation: string,
    readonly state: QmpState,
    readonly required: readonly QmpState[],
    cause?: unknown,
  ) {
    super('QMP_STATE', `${operation} needs state ${required.join(' or ')}, but the client is ${state}`, { cause });
  }
}

/** An operation outlived its timeoutMs. */
export class QmpTimeoutError extends QmpClientError {
  override name = 'QmpTimeoutError';
  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
  ) {
    super('QMP_TIMEOUT', `${operation} timed out after ${timeoutMs} ms`);
  }
}

/** An operation was cancelled through its AbortSignal; `cause` is the signal's reason. */
export class QmpAbortError extends QmpClientError {
  override name = 'QmpAbortError';
  constructor(
    readonly operation: string,
    reason: unknown,
  ) {
    super('QMP_ABORTED', `${operation} was aborted`, { cause: reason });
  }
}

/** The connection ended: the value `closed` resolves with when nothing worse happened. */
export class ConnectionClosedError extends QmpClientError {
  override name = 'ConnectionClosedError';
  constructor(
    /** true when the peer hung up or the socket failed, false for a local close(). */
    readonly byPeer: boolean,
    cause?: unknown,
  ) {
    super('QMP_CLOSED', byPeer ? 'QMP connection closed by peer' : 'QMP connection closed by client', { cause });
  }
}

/** The peer broke the protocol (bad JSON, oversized line, id-less error, bad greeting ...). Fatal. */
export class ProtocolError extends QmpClientError {
  override name = 'ProtocolError';
  constructor(
    message: string,
    /** The offending line, truncated, when there is one. */
    readonly raw?: string,
    cause?: unknown,
  ) {
    super('QMP_PROTOCOL', message, { cause });
  }
}

/** The peer sent a line longer than the configured limit without a newline. */
export class MessageTooLongError extends ProtocolError {
  override name = 'MessageTooLongError';
  constructor(readonly limit: number) {
    super(`QMP message exceeds ${limit} bytes without a newline`);
  }
}

/** What a command failure remembers about the command that was sent. */
export interface SentCommand {
  command: string;
  args: object | undefined;
  id: string;
}

/** The server answered a command with {"error": {...}}. */
export class QmpError extends QmpClientError {
  override name = 'QmpError';
  /** QMP's error class, e.g. CommandNotFound, GenericError, DeviceNotActive. */
  readonly class: string;
  readonly desc: string;
  readonly command: string;
  readonly args: object | undefined;
  readonly id: string;
  /** The reply as received. */
  readonly reply: Record<string, unknown>;
  constructor(errorClass: string, desc: string, sent: SentCommand, reply: Record<string, unknown>) {
    super('QMP_COMMAND', `${sent.command}: ${errorClass}: ${desc}`);
    this.class = errorClass;
    this.desc = desc;
    this.command = sent.command;
    this.args = sent.args;
    this.id = sent.id;
    this.reply = reply;
  }
}

/** The connection ended while a command was waiting; `cause` is why it ended. */
export class ExecInterruptedError extends QmpClientError {
  override name = 'ExecInterruptedError';
  readonly command: string;
  readonly args: object | undefined;
  readonly id: string;
  constructor(sent: SentCommand, cause: Error) {
    super('QMP_INTERRUPTED', `${sent.command} interrupted: ${cause.message}`, { cause });
    this.command = sent.command;
    this.args = sent.args;
    this.id = sent.id;
  }
}
