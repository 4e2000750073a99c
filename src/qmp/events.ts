import type { QmpEvent } from './message.js';

export interface EventFilter {
  /** Only these event names (exact, e.g. "STOP"); all events when omitted. */
  names?: readonly string[];
  /** Further narrowing; an exception thrown here counts as "no match". */
  predicate?: (event: QmpEvent) => boolean;
  /** Events held for a slow consumer before the oldest is dropped. Default 256. */
  maxQueue?: number;
}

export const DEFAULT_EVENT_QUEUE = 256;

type Waiter = (r: IteratorResult<QmpEvent, undefined>) => void;

/**
 * One subscriber's bounded FIFO, consumed with `for await`. Overflow policy: when the queue is
 * full the oldest event is discarded and `dropped` counts it, so a stalled consumer costs at most
 * maxQueue events of memory and always sees the newest state. Leaving the loop (break, return,
 * throw) unsubscribes; the iterator also ends once the connection has ended and the queue drained.
 */
export class EventIterator implements AsyncIterableIterator<QmpEvent, undefined> {
  private readonly queue: QmpEvent[] = [];
  private waiter: Waiter | null = null;
  private done = false;
  private readonly names: ReadonlySet<string> | null;
  readonly maxQueue: number;
  /** Events discarded because the queue was full. */
  dropped = 0;

  constructor(
    private readonly filter: EventFilter,
    private readonly onDone: (it: EventIterator) => void,
  ) {
    this.names = filter.names ? new Set(filter.names) : null;
    this.maxQueue = Math.max(1, filter.maxQueue ?? DEFAULT_EVENT_QUEUE);
  }

  /** Events waiting to be read. */
  get size(): number {
    return this.queue.length;
  }

  get closed(): boolean {
    return this.done;
  }

  /** Called by the client for every event; true when the event matched this subscriber. */
  push(event: QmpEvent): boolean {
    if (this.done) return false;
    if (this.names && !this.names.has(event.event)) return false;
    if (this.filter.predicate) {
      try {
        if (!this.filter.predicate(event)) return false;
      } catch {
        return false;
      }
    }
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w({ value: event, done: false });
      return true;
    }
    if (this.queue.length >= this.maxQueue) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(event);
    return true;
  }

  /** No more events will come (connection ended); queued ones are still delivered. */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.onDone(this);
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<QmpEvent, undefined>> {
    const head = this.queue.shift();
    if (head) return Promise.resolve({ value: head, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    if (this.waiter) return Promise.reject(new Error('EventIterator.next() called while a previous next() is pending'));
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Unsubscribes and discards anything queued; `for await` calls this on break. */
  return(): Promise<IteratorResult<QmpEvent, undefined>> {
    this.queue.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
