// Domain events of the QEMU driver: lifecycle (with libvirt's event/detail numbers) and
// reboot, fanned out to every connection of the driver whoever caused the change.
import type { DriverEvent, DriverEventListener } from '../../api/driver.js';
import type { RemoteNonnullDomain, RemoteTypedParam } from '../../protocol/gen/remote.js';

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

/** virDomainEventType. */
export const Lifecycle = {
  DEFINED: 0, UNDEFINED: 1, STARTED: 2, SUSPENDED: 3, RESUMED: 4, STOPPED: 5, SHUTDOWN: 6, PMSUSPENDED: 7, CRASHED: 8,
} as const;

/** The detail numbers per event type this driver raises. */
export const Detail = {
  DEFINED_ADDED: 0, DEFINED_UPDATED: 1,
  UNDEFINED_REMOVED: 0,
  STARTED_BOOTED: 0,
  SUSPENDED_PAUSED: 0,
  RESUMED_UNPAUSED: 0,
  STOPPED_SHUTDOWN: 0, STOPPED_DESTROYED: 1, STOPPED_CRASHED: 2, STOPPED_FAILED: 5,
  SHUTDOWN_FINISHED: 0, SHUTDOWN_GUEST: 1, SHUTDOWN_HOST: 2,
  CRASHED_PANICKED: 0,
} as const;

export function lifecycleEvent(dom: RemoteNonnullDomain, event: number, detail: number): DriverEvent {
  return { family: 'domain', eventID: 0, proc: 'DOMAIN_EVENT_CALLBACK_LIFECYCLE', target: dom.uuid, payload: { msg: { dom, event, detail } } };
}

/** VIR_DOMAIN_EVENT_ID_REBOOT: the guest reset (QEMU's RESET). */
export function rebootEvent(dom: RemoteNonnullDomain): DriverEvent {
  return { family: 'domain', eventID: 1, proc: 'DOMAIN_EVENT_CALLBACK_REBOOT', target: dom.uuid, payload: { msg: { dom } } };
}

/** VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED: a hot-unplugged device is gone, named by its alias. */
export function deviceRemovedEvent(dom: RemoteNonnullDomain, devAlias: string): DriverEvent {
  return { family: 'domain', eventID: 15, proc: 'DOMAIN_EVENT_CALLBACK_DEVICE_REMOVED', target: dom.uuid, payload: { msg: { dom, devAlias } } };
}

/** VIR_DOMAIN_EVENT_ID_DEVICE_ADDED: a hot-plugged device is in, named by its alias. */
export function deviceAddedEvent(dom: RemoteNonnullDomain, devAlias: string): DriverEvent {
  return { family: 'domain', eventID: 19, proc: 'DOMAIN_EVENT_CALLBACK_DEVICE_ADDED', target: dom.uuid, payload: { dom, devAlias } };
}

/** VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION: QEMU's MIGRATION_PASS (a save is a migration). */
export function migrationIterationEvent(dom: RemoteNonnullDomain, iteration: number): DriverEvent {
  return { family: 'domain', eventID: 20, proc: 'DOMAIN_EVENT_CALLBACK_MIGRATION_ITERATION', target: dom.uuid, payload: { dom, iteration } };
}

/** VIR_DOMAIN_EVENT_ID_JOB_COMPLETED: the statistics of a finished job, as typed parameters. */
export function jobCompletedEvent(dom: RemoteNonnullDomain, params: RemoteTypedParam[]): DriverEvent {
  return { family: 'domain', eventID: 21, proc: 'DOMAIN_EVENT_CALLBACK_JOB_COMPLETED', target: dom.uuid, payload: { dom, params } };
}
