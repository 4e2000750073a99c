/**
 * Event callbacks registered by one client, and delivery of driver events to them as libvirt's
 * event messages. libvirtd keeps the same bookkeeping: a callback is an (event family, event id,
 * optional object filter) triple with an id the client uses to deregister.
 */
import type { DriverEvent } from '../api/driver.js';
import { RemoteProcedures } from '../protocol/gen/remote.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../rpc/errors.js';
import type { ServerClient } from '../rpc/server.js';

export type EventFamily = DriverEvent['family'];

/** How many event ids each family has in libvirt 9.0 (VIR_*_EVENT_ID_LAST). */
const EVENT_ID_LAST: Record<EventFamily, number> = {
  domain: 27,
  network: 1,
  storage_pool: 2,
  node_device: 2,
  secret: 2,
};

/** Words libvirtd uses for each family in its error messages. */
const FAMILY_WORDS: Record<EventFamily, { unsupported: string; callback: string }> = {
  domain: { unsupported: 'unsupported event ID %d', callback: 'domain event callback %d not registered' },
  network: { unsupported: 'unsupported network event ID %d', callback: 'network event callback %d not registered' },
  storage_pool: { unsupported: 'unsupported storage pool event ID %d', callback: 'storage pool event callback %d not registered' },
  node_device: { unsupported: 'unsupported node device event ID %d', callback: 'node device event callback %d not registered' },
  secret: { unsupported: 'unsupported secret event ID %d', callback: 'secret event callback %d not registered' },
};

/**
 * The pre-callback domain event messages (libvirt < 1.2.1 clients), by event id. They carry the
 * legacy message struct alone, without a callbackID.
 */
const LEGACY_DOMAIN_PROCS = [
  RemoteProcedures.DOMAIN_EVENT_LIFECYCLE,
  RemoteProcedures.DOMAIN_EVENT_REBOOT,
  RemoteProcedures.DOMAIN_EVENT_RTC_CHANGE,
  RemoteProcedures.DOMAIN_EVENT_WATCHDOG,
  RemoteProcedures.DOMAIN_EVENT_IO_ERROR,
  RemoteProcedures.DOMAIN_EVENT_GRAPHICS,
  RemoteProcedures.DOMAIN_EVENT_IO_ERROR_REASON,
  RemoteProcedures.DOMAIN_EVENT_CONTROL_ERROR,
  RemoteProcedures.DOMAIN_EVENT_BLOCK_JOB,
  RemoteProcedures.DOMAIN_EVENT_DISK_CHANGE,
  RemoteProcedures.DOMAIN_EVENT_TRAY_CHANGE,
  RemoteProcedures.DOMAIN_EVENT_PMWAKEUP,
  RemoteProcedures.DOMAIN_EVENT_PMSUSPEND,
  RemoteProcedures.DOMAIN_EVENT_BALLOON_CHANGE,
  RemoteProcedures.DOMAIN_EVENT_PMSUSPEND_DISK,
  RemoteProcedures.DOMAIN_EVENT_DEVICE_REMOVED,
];

interface Callback {
  readonly id: number;
  readonly family: EventFamily;
  readonly eventID: number;
  /** Only events about this object (its UUID); null for all. */
  readonly filter: Uint8Array | null;
  /** Registered through the legacy procedures: deliver the legacy message form. */
  readonly legacy: boolean;
}

function internal(template: string, n: number): VirError {
  const detail = template.replace('%d', String(n));
  return VirError.format(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.RPC, 'internal error: %s', detail);
}

export class EventCallbacks {
  private readonly callbacks = new Map<number, Callback>();
  private nextId = 0;

  constructor(private readonly client: ServerClient) {}

  get size(): number {
    return this.callbacks.size;
  }

  register(family: EventFamily, eventID: number, filter: Uint8Array | null, legacy = false): number {
    if (eventID < 0 || eventID >= EVENT_ID_LAST[family] || (legacy && eventID >= LEGACY_DOMAIN_PROCS.length)) {
      throw internal(FAMILY_WORDS[family].unsupported, eventID);
    }
    const id = this.nextId++;
    this.callbacks.set(id, { id, family, eventID, filter, legacy });
    return id;
  }

  deregister(family: EventFamily, id: number): void {
    const cb = this.callbacks.get(id);
    if (!cb || cb.family !== family || cb.legacy) throw internal(FAMILY_WORDS[family].callback, id);
    this.callbacks.delete(id);
  }

  /** Removes a legacy registration by event id (CONNECT_DOMAIN_EVENT_DEREGISTER[_ANY]). */
  deregisterLegacy(eventID: number): void {
    for (const cb of this.callbacks.values()) {
      if (cb.legacy && cb.eventID === eventID) {
        this.callbacks.delete(cb.id);
        return;
      }
    }
    throw internal(FAMILY_WORDS.domain.callback, eventID);
  }

  hasLegacy(eventID: number): boolean {
    for (const cb of this.callbacks.values()) if (cb.legacy && cb.eventID === eventID) return true;
    return false;
  }

  /** Sends `ev` to every matching callback of this client. */
  deliver(ev: DriverEvent): void {
    for (const cb of this.callbacks.values()) {
      if (cb.family !== ev.family || cb.eventID !== ev.eventID) continue;
      if (cb.filter && !sameBytes(cb.filter, ev.target)) continue;
      if (cb.legacy) {
        const spec = LEGACY_DOMAIN_PROCS[ev.eventID];
        if (spec && 'msg' in ev.payload) this.client.sendEvent(spec as never, ev.payload.msg as never);
        continue;
      }
      const spec = RemoteProcedures[ev.proc];
      this.client.sendEvent(spec as never, { callbackID: cb.id, ...ev.payload } as never);
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
