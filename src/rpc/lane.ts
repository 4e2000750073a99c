/**
 * A concurrency limit: at most `limit` tasks run at once, the rest wait in FIFO order.
 * The server keeps two, so that high-priority procedures never queue behind slow ones
 * (libvirt's max_workers and prio_workers).
 */
export class Lane {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError('a lane needs a limit of at least 1');
  }

  get running(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `task` when a slot is free; the slot is released when its promise settles. */
  run(task: () => Promise<void>): void {
    if (this.active < this.limit) this.start(task);
    else this.waiting.push(() => this.start(task));
  }

  private start(task: () => Promise<void>): void {
    this.active++;
    const done = () => {
      this.active--;
      const next = this.waiting.shift();
      if (next) next();
    };
    // Tasks report their own failures; a rejection here must not become an unhandled one.
    task().then(done, done);
  }
}
