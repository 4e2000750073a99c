// Event fan-out for one driver state: every connection sharing the state sees every event,
// whichever connection caused it (libvirt's virObjectEventState).
import type { DriverEvent, DriverEventListener } from '../../api/driver.js';
import type { RemoteNonnullDomain } from '../../protocol/gen/remote.js';

export type Emit = (ev: DriverEvent) => void;

export class EventBus {
  private readonly listeners = new Set<DriverEventListener>();

  readonly emit: Emit = (ev) => {
    for (const l of [...this.listeners]) l(ev);
  };

  subscribe(l: DriverEventListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}

/** virDomainEventType and the detail values the test driver uses. */
export const Lifecycle = {
  DEFINED: 0, UNDEFINED: 1, STARTED: 2, SUSPENDED: 3, RESUMED: 4, STOPPED: 5,
} as const;
export const Detail = {
  DEFINED_ADDED: 0, DEFINED_UPDATED: 1,
  UNDEFINED_REMOVED: 0,
  STARTED_BOOTED: 0, STARTED_RESTORED: 2, STARTED_FROM_SNAPSHOT: 3,
  SUSPENDED_PAUSED: 0, SUSPENDED_FROM_SNAPSHOT: 5,
  RESUMED_UNPAUSED: 0, RESUMED_FROM_SNAPSHOT: 2,
  STOPPED_SHUTDOWN: 0, STOPPED_DESTROYED: 1, STOPPED_SAVED: 4, STOPPED_FROM_SNAPSHOT: 6,
} as const;

export function domainLifecycle(dom: RemoteNonnullDomain, event: number, detail: number): DriverEvent {
  return {
    family: 'domain',
    eventID: 0,
    proc: 'DOMAIN_EVENT_CALLBACK_LIFECYCLE',
    target: dom.uuid,
    payload: { msg: { dom, event, detail } },
  };
}
