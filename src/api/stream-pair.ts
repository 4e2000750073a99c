/**
 * Streams for in-process drivers (test:///default): the two ends of a stream joined in memory.
 * The driver gets the server end (DriverCallContext.stream), the caller the client end, with the
 * same rules as on the wire: end-of-data, then the client's finish confirmed by the driver;
 * abort from the client; writers wait while the other side has too much unread.
 */
import type { DriverClientStream, DriverStream, StreamChunk } from './driver.js';
import { CallAbortedError, rpcError, type VirError } from '../rpc/errors.js';

/** Writers wait above this much unread data and go on once it drops below LOW_WATER. */
const HIGH_WATER = 4 * 1024 * 1024;
const LOW_WATER = 1024 * 1024;

/** One direction: queued chunks, end-of-data, failure, and wake-ups for both sides. */
class Pipe {
  private queue: StreamChunk[] = [];
  private bytes = 0;
  private ended = false;
  private failure: VirError | null = null;
  private readers: Array<() => void> = [];
  private writers: Array<() => void> = [];

  async push(chunk: StreamChunk): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.ended) throw rpcError('stream is already finished');
    this.queue.push(chunk);
    this.bytes += chunk.kind === 'data' ? chunk.data.length : 0;
    this.wake(this.readers);
    while (this.bytes > HIGH_WATER && !this.failure) await new Promise<void>((r) => this.writers.push(r));
    if (this.failure) throw this.failure;
  }

  end(): void {
    this.ended = true;
    this.wake(this.readers);
  }

  fail(err: VirError): void {
    this.failure ??= err;
    this.queue = [];
    this.bytes = 0;
    this.wake(this.readers);
    this.wake(this.writers);
  }

  async *read(): AsyncGenerator<StreamChunk> {
    for (;;) {
      if (this.failure) throw this.failure;
      const next = this.queue.shift();
      if (next) {
        this.bytes -= next.kind === 'data' ? next.data.length : 0;
        if (this.bytes < LOW_WATER) this.wake(this.writers);
        yield next;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((r) => this.readers.push(r));
    }
  }

  private wake(list: Array<() => void>): void {
    for (const f of list.splice(0)) f();
  }
}

/** A connected pair: `server` for the driver method, `client` for the caller. */
export function streamPair(label: string): { client: DriverClientStream; server: DriverStream } {
  const down = new Pipe(); // driver -> caller
  const up = new Pipe(); // caller -> driver
  let over = false;
  let clientFinished = false;
  const finishWaiters: Array<() => void> = [];
  const confirmWaiters: Array<() => void> = [];
  const abortError = () => new CallAbortedError(`stream ${label} aborted by the client`);
  // Copies: the wire would not share buffers either, and callers may reuse theirs.
  const dataChunk = (data: Uint8Array): StreamChunk => ({ kind: 'data', data: data.slice() });

  const confirm = () => {
    if (over) return;
    over = true;
    for (const f of confirmWaiters.splice(0)) f();
  };

  const server: DriverStream = {
    [Symbol.asyncIterator]: () => up.read(),
    write: async (data) => {
      if (data.length > 0) await down.push(dataChunk(data));
    },
    sendHole: (length) => down.push({ kind: 'hole', length }),
    async end() {
      down.end();
      if (!clientFinished) {
        await new Promise<void>((resolve, reject) => {
          if (over) reject(abortError());
          else finishWaiters.push(() => (over ? reject(abortError()) : resolve()));
        });
      }
      confirm();
    },
    confirm,
  };

  const client: DriverClientStream = {
    [Symbol.asyncIterator]: () => down.read(),
    get finished() {
      return over;
    },
    write: async (data) => {
      if (over) throw rpcError(`stream ${label} is already finished`);
      if (data.length > 0) await up.push(dataChunk(data));
    },
    sendHole: async (length) => {
      if (over) throw rpcError(`stream ${label} is already finished`);
      await up.push({ kind: 'hole', length });
    },
    finish() {
      if (over) return Promise.resolve();
      const confirmed = new Promise<void>((r) => confirmWaiters.push(r));
      if (!clientFinished) {
        clientFinished = true;
        up.end();
        for (const f of finishWaiters.splice(0)) f();
      }
      return confirmed;
    },
    abort() {
      if (over) return Promise.resolve();
      over = true;
      const err = abortError();
      up.fail(err);
      down.fail(err);
      for (const f of finishWaiters.splice(0)) f();
      for (const f of confirmWaiters.splice(0)) f();
      return Promise.resolve();
    },
  };
  return { client, server };
}
