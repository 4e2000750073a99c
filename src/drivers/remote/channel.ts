/**
 * Opens the byte stream a RemoteTarget describes: UNIX socket, TCP, TLS (with libvirt's PKI files and
 * status byte), ssh (the system binary) or an external command. Failures keep libvirt's code and
 * wording and add which URI, transport and place were tried.
 */
import type { Duplex } from 'node:stream';
import { CallTimeoutError, VirError } from '../../rpc/errors.js';
import { connectTcp, connectUnix } from '../../transport/index.js';
import { connectExternal } from '../../transport/ext.js';
import { connectSsh } from '../../transport/ssh.js';
import { connectTls, locateClientCredentials } from '../../transport/tls.js';
import type { RemoteTarget } from './uri.js';

export interface RemoteChannel {
  channel: Duplex;
  /** e.g. "unix:/var/run/libvirt/libvirt-sock", "tls:host:16514", "ssh:host". */
  description: string;
  /** libvirt's is_secure: every transport but tcp and ext. */
  secure: boolean;
  /** Encrypted by the transport itself (TLS); ssh is secure but libvirt does not count it as encrypted. */
  encrypted: boolean;
}

export interface OpenChannelOptions {
  signal?: AbortSignal;
  /** Deadline for establishing the channel (connect, handshake, status byte). */
  timeoutMs?: number;
}

/** Where a target goes, for messages. */
export function describeTarget(t: RemoteTarget): string {
  switch (t.transport) {
    case 'unix':
      return `unix:${t.socketPath ?? '?'}`;
    case 'tcp':
    case 'tls':
      return `${t.transport}:${t.host ?? 'localhost'}:${t.port ?? '?'}`;
    case 'ext':
      return `ext:${t.command?.[0] ?? '?'}`;
    default:
      return `${t.transport}:${t.user !== undefined ? `${t.user}@` : ''}${t.host ?? 'localhost'}${t.port !== undefined ? `:${t.port}` : ''}` +
        (t.socketPath !== undefined ? ` (remote socket ${t.socketPath})` : '');
  }
}

/**
 * The same error with the attempt appended, so that a failure says which URI, transport and place it
 * concerns. `libvirtMessage` keeps libvirt's exact text.
 */
export class RemoteOpenError extends VirError {
  override name = 'RemoteOpenError';
  readonly libvirtMessage: string;
  constructor(
    err: VirError,
    readonly target: RemoteTarget,
  ) {
    const uri = target.displayUri === '' ? '(none: daemon picks)' : target.displayUri;
    super({
      code: err.code,
      domain: err.domain,
      level: err.level,
      message: `${err.message} [URI '${uri}', transport ${target.transport}, ${describeTarget(target)}]`,
      str1: err.str1,
      str2: err.str2,
      str3: err.str3,
      int1: err.int1,
      int2: err.int2,
      cause: err,
    });
    this.libvirtMessage = err.message;
  }
}

function withDeadline(signal: AbortSignal | undefined, timeoutMs: number | undefined): AbortSignal | undefined {
  if (timeoutMs === undefined) return signal;
  const t = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([signal, t]) : t;
}

export async function openRemoteChannel(target: RemoteTarget, opts: OpenChannelOptions = {}): Promise<RemoteChannel> {
  const signal = withDeadline(opts.signal, opts.timeoutMs);
  const description = describeTarget(target);
  try {
    switch (target.transport) {
      case 'unix':
        return { channel: await connectUnix(need(target.socketPath, 'socket path'), signal), description, secure: true, encrypted: false };
      case 'tcp':
        return { channel: await connectTcp(need(target.host, 'host'), need(target.port, 'port'), signal), description, secure: false, encrypted: false };
      case 'tls': {
        const uid = process.geteuid?.() ?? 0;
        const channel = await connectTls({
          host: need(target.host, 'host'),
          port: need(target.port, 'port'),
          credentials: locateClientCredentials(target.pkipath, uid !== 0),
          noVerify: target.noVerify,
          ...(signal ? { signal } : {}),
        });
        return { channel, description, secure: true, encrypted: true };
      }
      case 'ssh':
      case 'libssh':
      case 'libssh2':
        return { channel: await connectSsh(need(target.command, 'ssh command'), target.host ?? 'localhost', signal), description, secure: true, encrypted: false };
      case 'ext':
        return { channel: await connectExternal(need(target.command, 'command'), signal), description, secure: false, encrypted: false };
    }
  } catch (err) {
    let e = err;
    // AbortSignal.timeout reports as an abort; say it was the deadline.
    if (opts.timeoutMs !== undefined && !opts.signal?.aborted && signal?.aborted) e = new CallTimeoutError(`connect to ${description}`, opts.timeoutMs);
    if (e instanceof VirError) throw new RemoteOpenError(e, target);
    throw e;
  }
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`RemoteTarget lacks its ${what}`);
  return v;
}
