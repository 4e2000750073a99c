import { ProtocolError } from './errors.js';

/** QEMU's version triple, as in the greeting and query-version. */
export interface QmpVersion {
  qemu: { major: number; minor: number; micro: number };
  package: string;
}

export interface QmpGreeting {
  version: QmpVersion;
  capabilities: string[];
}

export interface QmpEvent {
  event: string;
  data: Record<string, unknown>;
  timestamp: { seconds: number; microseconds: number };
}

export type QmpMessage =
  | { kind: 'greeting'; greeting: QmpGreeting }
  | { kind: 'event'; event: QmpEvent }
  | { kind: 'return'; id: unknown; value: unknown; raw: Record<string, unknown> }
  | { kind: 'error'; id: unknown; errorClass: string; desc: string; raw: Record<string, unknown> };

const RAW_SHOWN = 200;

function excerpt(line: string): string {
  return line.length > RAW_SHOWN ? `${line.slice(0, RAW_SHOWN)}...` : line;
}

/**
 * `__proto__` is the one key that can reach an object's prototype when a parsed value is later
 * copied with assignment (Object.assign, naive merges); QAPI never uses it, so it is dropped.
 */
function reviver(key: string, value: unknown): unknown {
  return key === '__proto__' ? undefined : value;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

function parseGreeting(body: unknown, line: string): QmpGreeting {
  if (!isRecord(body) || !isRecord(body.version) || !Array.isArray(body.capabilities)) {
    throw new ProtocolError('malformed QMP greeting', excerpt(line));
  }
  const v = body.version;
  const q = v.qemu;
  if (!isRecord(q) || !isInt(q.major) || !isInt(q.minor) || !isInt(q.micro)) {
    throw new ProtocolError('QMP greeting without a QEMU version', excerpt(line));
  }
  const capabilities = body.capabilities.filter((c): c is string => typeof c === 'string');
  return {
    version: { qemu: { major: q.major, minor: q.minor, micro: q.micro }, package: typeof v.package === 'string' ? v.package : '' },
    capabilities,
  };
}

function parseEvent(o: Record<string, unknown>, line: string): QmpEvent {
  if (typeof o.event !== 'string') throw new ProtocolError('QMP event without a name', excerpt(line));
  const ts = o.timestamp;
  const timestamp = isRecord(ts) && isInt(ts.seconds) && isInt(ts.microseconds)
    ? { seconds: ts.seconds, microseconds: ts.microseconds }
    : { seconds: -1, microseconds: -1 };
  const data = isRecord(o.data) ? o.data : {};
  return { event: o.event, data, timestamp };
}

/** Parses and classifies one line from the server. Throws ProtocolError on anything else. */
export function parseMessage(line: string): QmpMessage {
  let value: unknown;
  try {
    value = JSON.parse(line, reviver);
  } catch (err) {
    throw new ProtocolError(`malformed JSON from QMP server: ${(err as Error).message}`, excerpt(line), err);
  }
  if (!isRecord(value)) throw new ProtocolError('QMP message is not a JSON object', excerpt(line));
  if (has(value, 'QMP')) return { kind: 'greeting', greeting: parseGreeting(value.QMP, line) };
  if (has(value, 'event')) return { kind: 'event', event: parseEvent(value, line) };
  if (has(value, 'return')) return { kind: 'return', id: value.id, value: value.return, raw: value };
  if (has(value, 'error')) {
    const e = value.error;
    if (!isRecord(e) || typeof e.class !== 'string') throw new ProtocolError('malformed QMP error reply', excerpt(line));
    return { kind: 'error', id: value.id, errorClass: e.class, desc: typeof e.desc === 'string' ? e.desc : '', raw: value };
  }
  throw new ProtocolError('unrecognised QMP message', excerpt(line));
}
