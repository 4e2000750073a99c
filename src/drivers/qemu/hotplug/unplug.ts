// Unplugging is a request: device_del asks the guest, QEMU reports DEVICE_DELETED once the guest
// let go. libvirt waits 5 s for it; a later event still finishes the removal (and its event).
import type { QemuDomain } from '../domain-obj.js';
import type { QemuDriverState } from '../state.js';

/** libvirt's unplug wait (qemuDomainGetUnplugTimeout); tests may shorten it. */
export const unplugTimeoutMs = (): number => {
  const v = process.env.TSVIRT_QEMU_UNPLUG_TIMEOUT_MS;
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : 5000;
};

type Finish = () => Promise<void>;

export class Unplugs {
  private readonly waiters = new WeakMap<QemuDomain, Map<string, () => void>>();
  /** Removals still pending, each bound to the QEMU process it was asked of. */
  private readonly late = new WeakMap<QemuDomain, Map<string, { proc: unknown; finish: Finish }>>();

  constructor(state: QemuDriverState) {
    state.deviceDeletedListeners.add((dom, alias) => this.deleted(dom, alias));
  }

  private deleted(dom: QemuDomain, alias: string): void {
    const wake = this.waiters.get(dom)?.get(alias);
    if (wake) return wake();
    const pending = this.late.get(dom)?.get(alias);
    if (!pending) return;
    this.late.get(dom)?.delete(alias);
    // A guest restarted since the request has other devices under the same alias.
    if (pending.proc !== dom.proc) return;
    void dom.withJob(pending.finish).catch(() => undefined);
  }

  /**
   * device_del for `alias`, then up to the unplug timeout for DEVICE_DELETED or `gone()` (polled,
   * for devices whose removal QEMU does not announce). True when the device went.
   */
  async request(dom: QemuDomain, alias: string, gone?: () => Promise<boolean>): Promise<boolean> {
    const proc = dom.proc;
    if (!proc) return false;
    let wake = (): void => undefined;
    const deleted = new Promise<void>((r) => (wake = r));
    const mine = this.waiters.get(dom) ?? new Map<string, () => void>();
    this.waiters.set(dom, mine);
    mine.set(alias, wake);
    try {
      await proc.command('device_del', { id: alias }, dom.name);
      const deadline = Date.now() + unplugTimeoutMs();
      let done = false;
      void deleted.then(() => (done = true));
      while (!done && Date.now() < deadline && !proc.isEnded) {
        await Promise.race([deleted, sleep(Math.min(200, Math.max(0, deadline - Date.now())))]);
        if (!done && gone && (await gone().catch(() => false))) done = true;
      }
      return done;
    } finally {
      mine.delete(alias);
    }
  }

  /**
   * The whole unplug: with `wait`, libvirt's 5 s for the guest, `finish` at once when it let go;
   * otherwise (and after a fruitless wait) `finish` runs when QEMU reports the removal.
   */
  async detach(dom: QemuDomain, alias: string, finish: Finish, wait: boolean): Promise<void> {
    if (wait) {
      if (await this.request(dom, alias)) await finish();
      else this.later(dom, alias, finish);
      return;
    }
    this.later(dom, alias, finish);
    try {
      await dom.proc?.command('device_del', { id: alias }, dom.name);
    } catch (e) {
      this.late.get(dom)?.delete(alias);
      throw e;
    }
  }

  /** Finishes a removal when QEMU reports it after the wait gave up. */
  later(dom: QemuDomain, alias: string, finish: Finish): void {
    const m = this.late.get(dom) ?? new Map<string, { proc: unknown; finish: Finish }>();
    this.late.set(dom, m);
    m.set(alias, { proc: dom.proc, finish });
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const registry = new WeakMap<QemuDriverState, Unplugs>();

/** One tracker per driver state, shared by device and vCPU unplugs. */
export function unplugsOf(state: QemuDriverState): Unplugs {
  let u = registry.get(state);
  if (!u) {
    u = new Unplugs(state);
    registry.set(state, u);
  }
  return u;
}
