/**
 * Events as async iterables. Each subscription registers exactly what it asks for (one event id,
 * optionally one object) and queues what arrives in a bounded queue; leaving the `for await`
 * loop (break, return, throw) or calling close() unsubscribes.
 *
 * Overflow policy: when a consumer falls `queueSize` events behind, `'drop-oldest'` (default)
 * discards the oldest queued event, `'drop-newest'` discards the arriving one, and `'fail'` ends
 * the iteration with EventOverflowError once the queued events are consumed. `dropped` counts
 * discarded events either way.
 */
import type { DriverConnection, DriverEvent, DriverEventFamily, DriverEventTarget } from './driver.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../rpc/errors.js';

/** VIR_DOMAIN_EVENT_ID_* */
export enum DomainEventID {
  LIFECYCLE = 0,
  REBOOT = 1,
  RTC_CHANGE = 2,
  WATCHDOG = 3,
  IO_ERROR = 4,
  GRAPHICS = 5,
  IO_ERROR_REASON = 6,
  CONTROL_ERROR = 7,
  BLOCK_JOB = 8,
  DISK_CHANGE = 9,
  TRAY_CHANGE = 10,
  PMWAKEUP = 11,
  PMSUSPEND = 12,
  BALLOON_CHANGE = 13,
  PMSUSPEND_DISK = 14,
  DEVICE_REMOVED = 15,
  BLOCK_JOB_2 = 16,
  TUNABLE = 17,
  AGENT_LIFECYCLE = 18,
  DEVICE_ADDED = 19,
  MIGRATION_ITERATION = 20,
  JOB_COMPLETED = 21,
  DEVICE_REMOVAL_FAILED = 22,
  METADATA_CHANGE = 23,
  BLOCK_THRESHOLD = 24,
  MEMORY_FAILURE = 25,
  MEMORY_DEVICE_SIZE_CHANGE = 26,
}

/** VIR_DOMAIN_EVENT_* (lifecycle event types). */
export enum DomainEventType {
  DEFINED = 0,
  UNDEFINED = 1,
  STARTED = 2,
  SUSPENDED = 3,
  RESUMED = 4,
  STOPPED = 5,
  SHUTDOWN = 6,
  PMSUSPENDED = 7,
  CRASHED = 8,
}

/** VIR_NETWORK_EVENT_ID_* and VIR_NETWORK_EVENT_* */
export enum NetworkEventID {
  LIFECYCLE = 0,
}
export enum NetworkEventType {
  DEFINED = 0,
  UNDEFINED = 1,
  STARTED = 2,
  STOPPED = 3,
}

/** VIR_STORAGE_POOL_EVENT_ID_* and VIR_STORAGE_POOL_EVENT_* */
export enum StoragePoolEventID {
  LIFECYCLE = 0,
  REFRESH = 1,
}
export enum StoragePoolEventType {
  DEFINED = 0,
  UNDEFINED = 1,
  STARTED = 2,
  STOPPED = 3,
  CREATED = 4,
  DELETED = 5,
}

export type OverflowPolicy = 'drop-oldest' | 'drop-newest' | 'fail';

export interface EventStreamOptions {
  /** Events kept for a slow consumer; default 1000. */
  readonly queueSize?: number;
  /** Default 'drop-oldest'. */
  readonly overflow?: OverflowPolicy;
  /** Ends the iteration (and unsubscribes) when it fires. */
  readonly signal?: AbortSignal;
}

export class EventOverflowError extends VirError {
  override name = 'EventOverflowError';
  constructor(size: number) {
    super({ code: VirErrorNumber.OPERATION_FAILED, domain: VirErrorDomain.NONE, message: `event queue overflow: consumer fell ${size} events behind` });
  }
}

/** A bounded queue read as an async iterable; one consumer. */
export class EventStream<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiter: { resolve(r: IteratorResult<T>): void; reject(e: unknown): void } | null = null;
  private ended = false;
  private failure: unknown = null;
  private droppedCount = 0;
  private readonly size: number;
  private readonly policy: OverflowPolicy;
  /** Set by the owner: undoes the subscription. */
  onClose: (() => Promise<void>) | null = null;

  constructor(opts: EventStreamOptions = {}) {
    this.size = Math.max(1, opts.queueSize ?? 1000);
    this.policy = opts.overflow ?? 'drop-oldest';
    opts.signal?.addEventListener('abort', () => void this.close(), { once: true });
  }

  /** Events discarded by the overflow policy so far. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Queued, not yet consumed. */
  get pending(): number {
    return this.items.length;
  }

  /** Called by the producer. */
  push(item: T): void {
    if (this.ended || this.failure) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve({ value: item, done: false });
      return;
    }
    if (this.items.length >= this.size) {
      this.droppedCount++;
      if (this.policy === 'drop-newest') return;
      if (this.policy === 'fail') {
        this.fail(new EventOverflowError(this.size));
        return;
      }
      this.items.shift();
    }
    this.items.push(item);
  }

  /** Ends the stream with an error once queued items are consumed; unsubscribes. */
  fail(err: unknown): void {
    if (this.ended || this.failure) return;
    this.failure = err;
    void this.release();
    if (this.waiter && this.items.length === 0) {
      const w = this.waiter;
      this.waiter = null;
      w.reject(err);
    }
  }

  /** Ends the stream; queued items are discarded; unsubscribes. */
  async close(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      this.items.length = 0;
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        w.resolve({ value: undefined, done: true });
      }
    }
    await this.release();
  }

  private released: Promise<void> | null = null;
  private release(): Promise<void> {
    this.released ??= (this.onClose?.() ?? Promise.resolve()).catch(() => undefined);
    return this.released;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    if (this.failure) {
      const err = this.failure;
      this.ended = true;
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.next(),
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }
}

/** One wanted registration; survives reconnects (re-registered on the new connection). */
interface HubEntry {
  readonly family: DriverEventFamily;
  readonly eventID: number;
  readonly target: DriverEventTarget | null;
  readonly listener: (ev: DriverEvent) => void;
  undo: (() => Promise<void>) | null;
}

/** Keeps the connection's event registrations, so they can be replayed after a reconnect. */
export class EventHub {
  private readonly entries = new Set<HubEntry>();

  get size(): number {
    return this.entries.size;
  }

  async add(
    driver: DriverConnection,
    family: DriverEventFamily,
    eventID: number,
    target: DriverEventTarget | null,
    listener: (ev: DriverEvent) => void,
    opts: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<() => Promise<void>> {
    const entry: HubEntry = { family, eventID, target, listener, undo: null };
    entry.undo = await attach(driver, entry, opts);
    this.entries.add(entry);
    return async () => {
      if (!this.entries.delete(entry)) return;
      const undo = entry.undo;
      entry.undo = null;
      await undo?.();
    };
  }

  /** Registers everything again on a fresh connection; returns the failures. */
  async replay(driver: DriverConnection): Promise<unknown[]> {
    const failures: unknown[] = [];
    await Promise.all(
      [...this.entries].map(async (e) => {
        try {
          e.undo = await attach(driver, e, {});
        } catch (err) {
          e.undo = null;
          failures.push(err);
        }
      }),
    );
    return failures;
  }
}

async function attach(driver: DriverConnection, e: HubEntry, opts: { signal?: AbortSignal; timeoutMs?: number }): Promise<() => Promise<void>> {
  if (driver.subscribe) return driver.subscribe(e.family, e.eventID, e.target, e.listener, opts);
  // In-process drivers raise every event to every listener: filter here.
  const off = driver.onEvent((ev) => {
    if (ev.family !== e.family || ev.eventID !== e.eventID) return;
    if (e.target && !sameBytes(e.target.uuid, ev.target)) return;
    e.listener(ev);
  });
  return async () => off();
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
