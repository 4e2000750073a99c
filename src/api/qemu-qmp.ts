/**
 * A QMP session over libvirt's monitor passthrough, so `domain.qmp()` hands back the same
 * QmpClient as a direct monitor socket. The Duplex below plays a QMP server: it greets with
 * QEMU's version (query-version), answers qmp_capabilities itself (libvirt negotiated long ago),
 * forwards each `execute` as one monitor command with the caller's id swapped for libvirt's,
 * and turns the domain's monitor events into event lines.
 */
import { Duplex } from 'node:stream';
import type { CallOptions } from './core.js';
import type { QemuMonitorEvent } from './driver.js';
import { LineDecoder, QmpClient, type QmpClientOptions } from '../qmp/index.js';
import { VirError } from '../rpc/errors.js';

/** What the bridge needs from the API: one domain's monitor and events. */
export interface MonitorPassthrough {
  /** Runs one QMP command (JSON text) and resolves with QEMU's reply text. */
  command(json: string): Promise<string>;
  /** Subscribes to the domain's QMP events; resolves with the unsubscribe function. */
  subscribe(listener: (ev: QemuMonitorEvent) => void): Promise<() => Promise<void>>;
  /** Reports the connection under the API going away; returns the unsubscribe function. */
  onGone?(listener: () => void): () => void;
}

type Json = Record<string, unknown>;

const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const hasOwn = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

function errorReply(id: unknown, errorClass: string, desc: string): Json {
  const r: Json = { error: { class: errorClass, desc } };
  if (id !== undefined) r.id = id;
  return r;
}

export class MonitorPassthroughStream extends Duplex {
  private readonly decoder = new LineDecoder();
  private negotiated = false;
  private greeted = false;
  private early: string[] = [];
  private queue: Promise<void> = Promise.resolve();
  private unsubscribe: (() => Promise<void>) | null = null;
  private offGone: (() => void) | null = null;

  constructor(private readonly monitor: MonitorPassthrough) {
    super();
  }

  /**
   * Subscribes to events, asks QEMU its version and sends the greeting. Rejects with the
   * API's error (domain not running, read-only, not supported) before any QMP is spoken.
   */
  async start(): Promise<void> {
    this.unsubscribe = await this.monitor.subscribe((ev) => this.event(ev));
    try {
      const reply: unknown = JSON.parse(await this.monitor.command('{"execute":"query-version"}'));
      const version = isRecord(reply) && isRecord(reply.return) ? reply.return : null;
      if (!version) throw new Error(`query-version failed: ${JSON.stringify(reply)}`);
      this.offGone = this.monitor.onGone?.(() => this.destroy()) ?? null;
      this.line({ QMP: { version, capabilities: [] } });
    } catch (err) {
      this.destroy();
      throw err;
    }
    this.greeted = true;
    for (const l of this.early) this.push(l);
    this.early = [];
  }

  private line(msg: Json): void {
    if (!this.destroyed) this.push(`${JSON.stringify(msg)}\n`);
  }

  private event(ev: QemuMonitorEvent): void {
    // `details` is QEMU's own "data" text: passed through without reparsing.
    const data = ev.details === null ? '' : `,"data":${ev.details}`;
    const text = `{"event":${JSON.stringify(ev.event)}${data},"timestamp":{"seconds":${ev.seconds},"microseconds":${ev.micros}}}\n`;
    if (this.destroyed) return;
    if (this.greeted) this.push(text);
    else this.early.push(text);
  }

  override _read(): void {
    // Lines are pushed as they come; nothing to pull.
  }

  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    let lines: string[];
    try {
      lines = this.decoder.feed(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    } catch (err) {
      done(err as Error);
      return;
    }
    for (const l of lines) if (l.trim() !== '') this.request(l);
    done();
  }

  override _final(done: (err?: Error | null) => void): void {
    // The client hung up: so do we, once queued replies are out.
    void this.queue.then(() => {
      this.push(null);
      done();
    });
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.offGone?.();
    this.offGone = null;
    const undo = this.unsubscribe;
    this.unsubscribe = null;
    void (undo?.() ?? Promise.resolve()).catch(() => undefined);
    done(err);
  }

  /** One line from the client, answered in order as QEMU answers in-band commands. */
  private request(text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.line(errorReply(undefined, 'GenericError', 'JSON parse error'));
      return;
    }
    if (!isRecord(msg)) {
      this.line(errorReply(undefined, 'GenericError', 'QMP input must be a JSON object'));
      return;
    }
    const id = hasOwn(msg, 'id') ? msg.id : undefined;
    this.queue = this.queue.then(() => this.answer(msg as Json, id)).then(
      (reply) => this.line(reply),
      (err: unknown) => this.line(errorReply(id, 'GenericError', err instanceof Error ? err.message : String(err))),
    );
  }

  private async answer(msg: Json, id: unknown): Promise<Json> {
    if (hasOwn(msg, 'exec-oob')) return errorReply(id, 'GenericError', 'out-of-band execution is not available through the monitor passthrough');
    const command = msg.execute;
    if (typeof command !== 'string') return errorReply(id, 'GenericError', "QMP input member 'execute' must be a string");
    if (command === 'qmp_capabilities') {
      if (this.negotiated) return errorReply(id, 'CommandNotFound', 'Capabilities negotiation is already complete, command ignored');
      const enable = isRecord(msg.arguments) ? msg.arguments.enable : undefined;
      if (Array.isArray(enable) && enable.length > 0) return errorReply(id, 'GenericError', `Capability '${String(enable[0])}' not available`);
      this.negotiated = true;
      return withId({ return: {} }, id);
    }
    if (!this.negotiated) return errorReply(id, 'CommandNotFound', "Expecting capabilities negotiation with 'qmp_capabilities'");
    // libvirt adds its own id and refuses one of ours: strip it, and put it back on the reply.
    const forwarded: Json = { execute: command };
    if (msg.arguments !== undefined) forwarded.arguments = msg.arguments;
    let replyText: string;
    try {
      replyText = await this.monitor.command(JSON.stringify(forwarded));
    } catch (err) {
      if (err instanceof VirError) return errorReply(id, 'GenericError', err.message);
      throw err;
    }
    const reply: unknown = JSON.parse(replyText);
    if (!isRecord(reply)) return errorReply(id, 'GenericError', 'monitor reply is not a JSON object');
    const { id: _libvirtId, ...rest } = reply;
    return withId(rest, id);
  }
}

function withId(reply: Json, id: unknown): Json {
  return id === undefined ? reply : { ...reply, id };
}

/** Opens a QmpClient over the passthrough: greeting and negotiation as with a real socket. */
export async function openPassthroughQmp(monitor: MonitorPassthrough, o: CallOptions & QmpClientOptions = {}): Promise<QmpClient> {
  const { signal, timeoutMs, ...clientOptions } = o;
  const stream = new MonitorPassthroughStream(monitor);
  await stream.start();
  return new QmpClient(clientOptions).connect({ stream }, { signal, timeoutMs });
}
