/**
 * A live view of the domains of a connection: one CONNECT_LIST_ALL_DOMAINS, then kept current by
 * lifecycle events alone (defines and undefines are lifecycle events too); never polled. After a
 * reconnect the owner calls resync(): one new list, and the differences are reported as changes.
 *
 * What the view can know without per-domain calls: every domain and whether it runs (from the
 * list: an id other than -1), and the exact state from the first event about it. `state` is
 * SHUTOFF for inactive domains and null for active ones no event has described yet.
 */
import { EventEmitter } from 'node:events';
import { uuidToString } from './core.js';
import { DomainEventType } from './events.js';
import { DomainState } from './info.js';
import type { RemoteNonnullDomain } from '../protocol/gen/remote.js';

export interface WatchedDomain {
  readonly name: string;
  readonly uuid: string;
  /** -1 when inactive. */
  readonly id: number;
  readonly active: boolean;
  /** Known persistent (true), known transient (false) or not known yet (null). */
  readonly persistent: boolean | null;
  readonly state: DomainState | null;
  /** The wire handle, e.g. for Connection.domainFromHandle. */
  readonly handle: RemoteNonnullDomain;
}

export type DomainChange =
  | { readonly kind: 'added'; readonly domain: WatchedDomain }
  | { readonly kind: 'updated'; readonly domain: WatchedDomain; readonly previous: WatchedDomain }
  | { readonly kind: 'removed'; readonly domain: WatchedDomain };

export interface DomainWatchEvents {
  change: [DomainChange];
  /** A full re-list finished (the first one and each one after a reconnect). */
  synced: [];
  /** The view can no longer be kept current (connection closed for good). */
  failed: [unknown];
}

export class DomainWatch extends EventEmitter<DomainWatchEvents> {
  private readonly map = new Map<string, WatchedDomain>();
  /** Events that arrived while a list call was in flight, applied after it. */
  private buffered: Array<{ dom: RemoteNonnullDomain; event: number; detail: number }> | null = null;
  private closed = false;

  constructor(
    private readonly listAll: () => Promise<RemoteNonnullDomain[]>,
    private readonly onClose: () => Promise<void>,
  ) {
    super();
  }

  /** The current domains by UUID. */
  get domains(): ReadonlyMap<string, WatchedDomain> {
    return this.map;
  }

  get(nameOrUuid: string): WatchedDomain | undefined {
    return this.map.get(nameOrUuid) ?? [...this.map.values()].find((d) => d.name === nameOrUuid);
  }

  /** Re-lists and reports what changed since the view was last current. */
  async resync(): Promise<void> {
    this.buffered = [];
    let list: RemoteNonnullDomain[];
    try {
      list = await this.listAll();
    } catch (err) {
      this.buffered = null;
      throw err;
    }
    const seen = new Set<string>();
    for (const h of list) {
      const uuid = uuidToString(h.uuid);
      seen.add(uuid);
      const prev = this.map.get(uuid);
      const active = h.id !== -1;
      const sameActivity = prev && prev.active === active;
      this.put({
        name: h.name,
        uuid,
        id: h.id,
        active,
        persistent: active ? (prev?.persistent ?? null) : true,
        state: active ? (sameActivity ? prev.state : null) : DomainState.SHUTOFF,
        handle: h,
      });
    }
    for (const [uuid, d] of this.map) if (!seen.has(uuid)) this.drop(uuid, d);
    const pending = this.buffered;
    this.buffered = null;
    for (const e of pending) this.apply(e.dom, e.event, e.detail);
    if (!this.closed) this.emit('synced');
  }

  /** Feeds one lifecycle event. */
  lifecycle(dom: RemoteNonnullDomain, event: number, detail: number): void {
    if (this.buffered) {
      this.buffered.push({ dom, event, detail });
      return;
    }
    this.apply(dom, event, detail);
  }

  fail(err: unknown): void {
    if (!this.closed) this.emit('failed', err);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.onClose();
  }

  private apply(dom: RemoteNonnullDomain, event: number, _detail: number): void {
    const uuid = uuidToString(dom.uuid);
    const prev = this.map.get(uuid);
    const base: WatchedDomain = prev ?? { name: dom.name, uuid, id: -1, active: false, persistent: null, state: DomainState.SHUTOFF, handle: dom };
    const running = (state: DomainState): WatchedDomain => ({ ...base, name: dom.name, id: dom.id, active: true, state, handle: dom });
    switch (event) {
      case DomainEventType.DEFINED:
        this.put({ ...base, name: dom.name, persistent: true, handle: { ...dom, id: base.id } });
        return;
      case DomainEventType.UNDEFINED:
        if (base.active) this.put({ ...base, persistent: false });
        else if (prev) this.drop(uuid, prev);
        return;
      case DomainEventType.STARTED:
        this.put(running(DomainState.RUNNING));
        return;
      case DomainEventType.SUSPENDED:
        this.put(running(DomainState.PAUSED));
        return;
      case DomainEventType.RESUMED:
        this.put(running(DomainState.RUNNING));
        return;
      case DomainEventType.PMSUSPENDED:
        this.put(running(DomainState.PMSUSPENDED));
        return;
      case DomainEventType.CRASHED:
        this.put(running(DomainState.CRASHED));
        return;
      case DomainEventType.STOPPED:
        // A transient domain is gone once stopped.
        if (base.persistent === false) {
          if (prev) this.drop(uuid, prev);
          return;
        }
        this.put({ ...base, name: dom.name, id: -1, active: false, state: DomainState.SHUTOFF, handle: { ...dom, id: -1 } });
        return;
      default:
        // SHUTDOWN (guest is shutting down) changes nothing the view holds; STOPPED follows.
        return;
    }
  }

  private put(d: WatchedDomain): void {
    const prev = this.map.get(d.uuid);
    this.map.set(d.uuid, d);
    if (!prev) this.emit('change', { kind: 'added', domain: d });
    else if (!sameView(prev, d)) this.emit('change', { kind: 'updated', domain: d, previous: prev });
  }

  private drop(uuid: string, d: WatchedDomain): void {
    this.map.delete(uuid);
    this.emit('change', { kind: 'removed', domain: d });
  }
}

function sameView(a: WatchedDomain, b: WatchedDomain): boolean {
  return a.name === b.name && a.id === b.id && a.active === b.active && a.persistent === b.persistent && a.state === b.state;
}
