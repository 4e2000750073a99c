/**
 * The QEMU program over the remote driver: its calls are forwarded as they are (by name, from
 * the generated table), and monitor event registrations become subscriptions whose
 * server-chosen callbackID routes DOMAIN_MONITOR_EVENT messages back to their listeners.
 *
 * libvirtd keeps at most one monitor event registration per domain (or for "all domains") per
 * connection, whatever the event filter ("event callback already tracked"). So subscriptions
 * for one domain share a registration: the first one's filter goes to the server (which
 * validates and applies it), identical filters join it, and a different filter widens it to an
 * unfiltered one; each listener also applies its own filter here.
 */
import type { DriverCallContext, QemuDriverMethods, QemuMonitorEventListener } from '../../api/driver.js';
import { monitorEventNameMatcher } from '../../api/qemu.js';
import { QEMU_PROGRAM, QemuProcedures, qemuProgram, type QemuDomainMonitorEventMsg } from '../../protocol/gen/qemu.js';
import type { RemoteNonnullDomain } from '../../protocol/gen/remote.js';
import type { RpcClient } from '../../rpc/client.js';
import type { Logger } from '../../rpc/log.js';
import type { Message } from '../../rpc/message.js';
import type { ProcedureSpec } from '../../rpc/program.js';
import { XdrReader } from '../../xdr/index.js';

/** The program's call procedures (its one message is the event). */
type QemuCallName = Exclude<keyof QemuProcedures, 'DOMAIN_MONITOR_EVENT'>;
type QArgs<K extends keyof QemuProcedures> = QemuProcedures[K] extends ProcedureSpec<infer A, unknown> ? A : never;
type QRet<K extends keyof QemuProcedures> = QemuProcedures[K] extends ProcedureSpec<unknown, infer R> ? R : never;

/** Events that arrived for a callbackID whose registration reply is still being processed. */
const EARLY_MAX = 64;

interface Sub {
  readonly match: (name: string) => boolean;
  readonly listener: QemuMonitorEventListener;
}

/** One server registration and the subscriptions sharing it. */
interface Shared {
  callbackID: number;
  /** The filter the server applies; null event and 0 flags once widened. */
  event: string | null;
  flags: number;
  readonly subs: Set<Sub>;
}

interface MonitorFilter {
  readonly dom: RemoteNonnullDomain | null;
  readonly event: string | null;
  readonly flags: number;
}

const keyOf = (dom: RemoteNonnullDomain | null) => (dom ? Array.from(dom.uuid, (b) => b.toString(16).padStart(2, '0')).join('') : '*');

export class RemoteQemu {
  private readonly byKey = new Map<string, Shared>();
  private readonly byId = new Map<number, Shared>();
  /** Registration changes per key run one at a time. */
  private readonly locks = new Map<string, Promise<unknown>>();
  private early: QemuDomainMonitorEventMsg[] = [];
  private registering = 0;
  readonly methods: QemuDriverMethods;

  constructor(
    private readonly client: RpcClient,
    private readonly log: Logger,
  ) {
    this.methods = {
      monitorCommand: async (dom, cmd, flags, ctx) => (await this.call('DOMAIN_MONITOR_COMMAND', { dom, cmd, flags }, ctx)).result,
      attach: async (pidValue, flags, ctx) => (await this.call('DOMAIN_ATTACH', { pidValue, flags }, ctx)).dom,
      agentCommand: async (dom, cmd, timeout, flags, ctx) => (await this.call('DOMAIN_AGENT_COMMAND', { dom, cmd, timeout, flags }, ctx)).result,
      registerMonitorEvents: (filter, listener, opts) => this.subscribe(filter, listener, opts),
    };
  }

  /** Any call procedure of the QEMU program, as the wire has it. */
  call<K extends QemuCallName>(name: K, args: QArgs<K>, ctx: Pick<DriverCallContext, 'signal' | 'timeoutMs'> = {}): Promise<QRet<K>> {
    const spec = QemuProcedures[name] as ProcedureSpec<QArgs<K>, QRet<K>>;
    return this.client.call(spec, args, { signal: ctx.signal, timeoutMs: ctx.timeoutMs });
  }

  /** Server registrations held. */
  get size(): number {
    return this.byId.size;
  }

  private locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.locks.get(key) ?? Promise.resolve()).then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(key, tail);
    void tail.then(() => {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    });
    return run;
  }

  private async register(f: MonitorFilter, opts: { signal?: AbortSignal; timeoutMs?: number }): Promise<number> {
    this.registering++;
    try {
      return (await this.call('CONNECT_DOMAIN_MONITOR_EVENT_REGISTER', { dom: f.dom, event: f.event, flags: f.flags }, opts)).callbackID;
    } finally {
      this.registering--;
    }
  }

  private adopt(shared: Shared): void {
    this.byId.set(shared.callbackID, shared);
    const mine = this.early.filter((e) => e.callbackID === shared.callbackID);
    this.early = this.registering > 0 ? this.early.filter((e) => e.callbackID !== shared.callbackID) : [];
    for (const m of mine) this.dispatch(shared, m);
  }

  private subscribe(filter: MonitorFilter, listener: QemuMonitorEventListener, opts: { signal?: AbortSignal; timeoutMs?: number }): Promise<() => Promise<void>> {
    const key = keyOf(filter.dom);
    return this.locked(key, async () => {
      let shared = this.byKey.get(key);
      let sub: Sub;
      if (!shared) {
        const callbackID = await this.register(filter, opts);
        // The server compiled and applies this filter; a pattern JS reads differently stays the server's business.
        sub = { match: safeMatcher(filter.event, filter.flags), listener };
        shared = { callbackID, event: filter.event, flags: filter.flags, subs: new Set([sub]) };
        this.byKey.set(key, shared);
        this.adopt(shared);
      } else {
        sub = { match: monitorEventNameMatcher(filter.event, filter.flags), listener };
        shared.subs.add(sub);
        const covered = shared.event === null || (shared.event === filter.event && shared.flags === filter.flags);
        if (!covered) {
          // Widen: the server refuses a second registration for the same domain, so the old one
          // goes first (events in between are lost) and an unfiltered one replaces it.
          const old = { callbackID: shared.callbackID, event: shared.event, flags: shared.flags };
          this.byId.delete(old.callbackID);
          await this.call('CONNECT_DOMAIN_MONITOR_EVENT_DEREGISTER', { callbackID: old.callbackID }).catch(() => undefined);
          let wide: MonitorFilter = { dom: filter.dom, event: null, flags: 0 };
          try {
            shared.callbackID = await this.register(wide, opts);
          } catch (err) {
            shared.subs.delete(sub);
            wide = { dom: filter.dom, event: old.event, flags: old.flags };
            shared.callbackID = await this.register(wide, {});
            this.adopt(shared);
            throw err;
          }
          shared.event = null;
          shared.flags = 0;
          this.adopt(shared);
        }
      }
      const held = shared;
      let done = false;
      return () => {
        if (done) return Promise.resolve();
        done = true;
        return this.locked(key, async () => {
          held.subs.delete(sub);
          if (held.subs.size > 0 || this.byKey.get(key) !== held) return;
          this.byKey.delete(key);
          this.byId.delete(held.callbackID);
          // A closed connection has no registrations left to undo.
          if (this.client.isOpen) await this.call('CONNECT_DOMAIN_MONITOR_EVENT_DEREGISTER', { callbackID: held.callbackID });
        });
      };
    });
  }

  /** Routes one MESSAGE packet; false when it is not a QEMU program event. */
  handle(msg: Message): boolean {
    const h = msg.header;
    if (h.prog !== QEMU_PROGRAM || h.proc !== QemuProcedures.DOMAIN_MONITOR_EVENT.proc) return false;
    let ev: QemuDomainMonitorEventMsg;
    try {
      ev = QemuProcedures.DOMAIN_MONITOR_EVENT.args.decode(new XdrReader(msg.body));
    } catch (err) {
      this.log.warn(`cannot decode ${qemuProgram.name} DOMAIN_MONITOR_EVENT: ${String(err)}`);
      return true;
    }
    const shared = this.byId.get(ev.callbackID);
    if (shared) this.dispatch(shared, ev);
    else if (this.registering > 0) {
      this.early.push(ev);
      if (this.early.length > EARLY_MAX) this.early.shift();
    }
    return true;
  }

  private dispatch(shared: Shared, m: QemuDomainMonitorEventMsg): void {
    for (const sub of [...shared.subs]) {
      if (!sub.match(m.event)) continue;
      try {
        sub.listener({ dom: m.dom, event: m.event, seconds: m.seconds, micros: m.micros, details: m.details });
      } catch (err) {
        this.log.error(`monitor event listener failed: ${String(err)}`);
      }
    }
  }
}

function safeMatcher(event: string | null, flags: number): (name: string) => boolean {
  try {
    return monitorEventNameMatcher(event, flags);
  } catch {
    return () => true;
  }
}
