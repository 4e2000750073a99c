/** Keepalive settings as libvirt names them; intervalMs is libvirt's interval in milliseconds. */
export interface KeepaliveOptions {
  /** Idle time before a PING is sent (libvirt: keepalive_interval, 5 s by default). */
  intervalMs: number;
  /** PINGs that may go unanswered; the connection is dead on the next tick after that (libvirt: keepalive_count, 5). */
  count: number;
}

export const DEFAULT_KEEPALIVE: KeepaliveOptions = { intervalMs: 5000, count: 5 };

/**
 * libvirt's keepalive state machine, shared by client and server.
 *
 * Whenever `intervalMs` passes with nothing received, a PING goes out and the remaining count
 * drops by one; any received packet (not only a PONG) restores it. When the count is spent and
 * another interval passes in silence, the peer is declared dead. With 5 s and 5 this gives
 * libvirtd's observed pattern: PINGs at 5, 10, 15, 20 and 25 s of silence, close at 30 s.
 */
export class Keepalive {
  private lastReceived = Date.now();
  private countToDeath: number;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly opts: KeepaliveOptions,
    private readonly sendPing: () => void,
    private readonly onDead: () => void,
  ) {
    if (!(opts.intervalMs > 0) || !(opts.count >= 0)) throw new RangeError('keepalive interval must be > 0 and count >= 0');
    this.countToDeath = opts.count;
  }

  get running(): boolean {
    return this.timer !== null;
  }

  start(): void {
    if (this.timer) return;
    this.lastReceived = Date.now();
    this.countToDeath = this.opts.count;
    this.schedule(this.opts.intervalMs);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Call on every packet received from the peer. */
  received(): void {
    this.lastReceived = Date.now();
    this.countToDeath = this.opts.count;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => this.tick(), ms);
    // Keepalive alone must never keep a process alive.
    this.timer.unref();
  }

  private tick(): void {
    const idle = Date.now() - this.lastReceived;
    if (idle < this.opts.intervalMs) {
      this.schedule(this.opts.intervalMs - idle);
      return;
    }
    if (this.countToDeath === 0) {
      this.timer = null;
      this.onDead();
      return;
    }
    this.countToDeath--;
    this.schedule(this.opts.intervalMs);
    this.sendPing();
  }
}
