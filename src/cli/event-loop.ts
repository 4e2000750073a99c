// The wait loop shared by `event` and `qemu-monitor-event`: events until one was shown (or, with
// --loop, until --timeout or Ctrl-C), then the subscription is closed. Each command prints its own.

export interface EventSource<T> {
  next(): Promise<IteratorResult<T>>;
  close(): Promise<void>;
}

export interface PumpResult {
  /** Events shown. */
  count: number;
  /** --timeout ran out. */
  timedOut: boolean;
  /** Ctrl-C ended the wait. */
  interrupted: boolean;
}

/**
 * Feeds events to `show` (which returns false for one it skipped) until the first shown one, or
 * with `loop` until the timeout, SIGINT or the end of the stream.
 */
export async function pumpEvents<T>(
  stream: EventSource<T>,
  opts: { timeoutSec: number | undefined; loop: boolean },
  show: (ev: T) => boolean,
): Promise<PumpResult> {
  const result: PumpResult = { count: 0, timedOut: false, interrupted: false };
  const deadline = opts.timeoutSec === undefined ? null : Date.now() + opts.timeoutSec * 1000;
  const onSigint = () => {
    result.interrupted = true;
    void stream.close();
  };
  process.once('SIGINT', onSigint);
  try {
    for (;;) {
      const wait = deadline === null ? null : deadline - Date.now();
      if (wait !== null && wait <= 0) {
        result.timedOut = true;
        break;
      }
      let timer: NodeJS.Timeout | undefined;
      const r = await Promise.race([
        stream.next(),
        new Promise<'timeout'>((res) => {
          if (wait !== null) timer = setTimeout(() => res('timeout'), wait);
        }),
      ]);
      clearTimeout(timer);
      if (r === 'timeout') {
        result.timedOut = true;
        break;
      }
      if (r.done) break;
      if (!show(r.value)) continue;
      result.count++;
      if (!opts.loop) break;
    }
  } finally {
    process.off('SIGINT', onSigint);
    await stream.close().catch(() => undefined);
  }
  return result;
}

/** virTimeStringNowRaw's form plus virsh's ": " (local time with its UTC offset). */
export function stamp(): string {
  const t = new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const off = -t.getTimezoneOffset();
  const zone = `${off >= 0 ? '+' : '-'}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`;
  return `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())} ${p(t.getHours())}:${p(t.getMinutes())}:${p(t.getSeconds())}.${p(t.getMilliseconds(), 3)}${zone}: `;
}
