/**
 * libvirt-qemu's API (the QEMU program): monitor and agent passthrough, attach, and QMP event
 * subscriptions. libvirt checks read-only access and arguments in the client library and
 * reports in VIR_FROM_NONE, unlike the domain APIs; so do we, before any round trip.
 */
import type { ApiCore, CallOptions } from './core.js';
import type { QemuDriverMethods, QemuMonitorEvent, QemuMonitorEventListener } from './driver.js';
import type { EventStream } from './events.js';
import { openPassthroughQmp } from './qemu-qmp.js';
import type { QmpClient, QmpClientOptions } from '../qmp/index.js';
import type { RemoteNonnullDomain } from '../protocol/gen/remote.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../rpc/errors.js';

/** VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP: the command is a human monitor command line. */
export const QEMU_MONITOR_COMMAND_HMP = 1;

/** virConnectDomainQemuMonitorEventRegisterFlags. */
export enum QemuMonitorEventRegisterFlags {
  REGEX = 1,
  NOCASE = 2,
}

/** virDomainQemuAgentCommandTimeoutValues: special timeouts (seconds otherwise). */
export enum QemuAgentCommandTimeout {
  BLOCK = -2,
  DEFAULT = -1,
  NOWAIT = 0,
  SHUTDOWN = 60,
}

export interface QemuMonitorCommandOptions extends CallOptions {
  /** The command is an HMP command line rather than QMP JSON. */
  readonly hmp?: boolean;
}

/** What a QMP event subscription asks for; every field narrows it. */
export interface QemuMonitorEventFilter {
  /** Only this domain's events (its wire handle). */
  readonly dom?: RemoteNonnullDomain | null;
  /** Only events with this name ("STOP"), or matching it as a regex with `regex`. */
  readonly event?: string | null;
  readonly regex?: boolean;
  /** Compare names case-insensitively. */
  readonly nocase?: boolean;
}

type QemuApi = 'virDomainQemuMonitorCommand' | 'virDomainQemuAttach' | 'virDomainQemuAgentCommand' | 'virConnectDomainQemuMonitorEventRegister';

function readOnlyDenied(api: QemuApi): VirError {
  return VirError.format(VirErrorNumber.OPERATION_DENIED, VirErrorDomain.NONE, 'operation forbidden: %s', `read only access prevents ${api}`);
}

function noSupport(api: QemuApi): VirError {
  return VirError.format(VirErrorNumber.NO_SUPPORT, VirErrorDomain.NONE, 'this function is not supported by the connection driver: %s', api);
}

/** The driver's QEMU method, after libvirt's client-side read-only check. */
function method<K extends keyof QemuDriverMethods>(core: ApiCore, api: QemuApi, name: K): NonNullable<QemuDriverMethods[K]> {
  if (core.readonly) throw readOnlyDenied(api);
  const m = core.driver.methods.qemu?.[name];
  if (!m) throw noSupport(api);
  return m as NonNullable<QemuDriverMethods[K]>;
}

/** virDomainQemuMonitorCommand: QEMU's reply text, verbatim. */
export function monitorCommand(core: ApiCore, dom: RemoteNonnullDomain, cmd: string, o: QemuMonitorCommandOptions = {}): Promise<string> {
  const api = 'virDomainQemuMonitorCommand';
  return core.run(api, o, async (driver, ctx) => {
    const run = method(core, api, 'monitorCommand');
    return run.call(driver.methods.qemu, dom, cmd, o.hmp ? QEMU_MONITOR_COMMAND_HMP : 0, ctx);
  });
}

/** virDomainQemuAttach: the adopted domain's handle. */
export function attach(core: ApiCore, pid: number, flags: number, o: CallOptions = {}): Promise<RemoteNonnullDomain> {
  const api = 'virDomainQemuAttach';
  if (!Number.isInteger(pid) || pid < 0 || pid > 0xffffffff) {
    return Promise.reject(VirError.format(VirErrorNumber.INVALID_ARG, VirErrorDomain.NONE, '%s', `pid_value in ${api} must be a 32-bit unsigned integer`));
  }
  return core.run(api, o, async (driver, ctx) => {
    // libvirt's library refuses pid 0 before anything else, with this exact text.
    if (pid === 0) throw VirError.format(VirErrorNumber.INVALID_ARG, VirErrorDomain.NONE, '%s', `pid_value in ${api} must not be zero`);
    const run = method(core, api, 'attach');
    return run.call(driver.methods.qemu, pid, flags, ctx);
  });
}

/** virDomainQemuAgentCommand: the agent's reply text; null when it gave none. */
export function agentCommand(core: ApiCore, dom: RemoteNonnullDomain, cmd: string, timeout: number, flags: number, o: CallOptions = {}): Promise<string | null> {
  const api = 'virDomainQemuAgentCommand';
  return core.run(api, o, async (driver, ctx) => {
    const run = method(core, api, 'agentCommand');
    return run.call(driver.methods.qemu, dom, cmd, timeout, flags, ctx);
  });
}

/**
 * The event-name test of one subscription for drivers that raise every event (in-process):
 * exact name, case-insensitive name, or a regex searched anywhere in the name.
 */
export function monitorEventNameMatcher(event: string | null, flags: number): (name: string) => boolean {
  if (event === null) return () => true;
  const nocase = (flags & QemuMonitorEventRegisterFlags.NOCASE) !== 0;
  if (flags & QemuMonitorEventRegisterFlags.REGEX) {
    let re: RegExp;
    try {
      re = new RegExp(event, nocase ? 'i' : '');
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw VirError.format(VirErrorNumber.INVALID_ARG, VirErrorDomain.NONE, 'invalid argument: %s', `failed to compile regex '${event}': ${why}`);
    }
    return (name) => re.test(name);
  }
  if (nocase) {
    const want = event.toLowerCase();
    return (name) => name.toLowerCase() === want;
  }
  return (name) => name === event;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * virConnectDomainQemuMonitorEventRegister: registers the filter (with the peer when the driver
 * can, else filtering the driver's own stream) and resolves with the unsubscribe function.
 */
export async function registerMonitorEvents(
  core: ApiCore,
  filter: QemuMonitorEventFilter,
  listener: QemuMonitorEventListener,
  o: CallOptions = {},
): Promise<() => Promise<void>> {
  const api = 'virConnectDomainQemuMonitorEventRegister';
  const flags = (filter.regex ? QemuMonitorEventRegisterFlags.REGEX : 0) | (filter.nocase ? QemuMonitorEventRegisterFlags.NOCASE : 0);
  const dom = filter.dom ?? null;
  const event = filter.event ?? null;
  return core.run(api, o, async (driver, ctx) => {
    if (core.readonly) throw readOnlyDenied(api);
    const qemu = driver.methods.qemu;
    if (qemu?.registerMonitorEvents) {
      return qemu.registerMonitorEvents({ dom, event, flags }, listener, { signal: ctx.signal, timeoutMs: ctx.timeoutMs });
    }
    if (!qemu?.onMonitorEvent) throw noSupport(api);
    const nameMatches = monitorEventNameMatcher(event, flags);
    const off = qemu.onMonitorEvent((ev: QemuMonitorEvent) => {
      if (dom && !sameBytes(dom.uuid, ev.dom.uuid)) return;
      if (nameMatches(ev.event)) listener(ev);
    });
    return async () => off();
  });
}

/** Subscribes `stream` to the filter; the stream's close undoes the registration. */
export async function monitorEventStream<T>(
  core: ApiCore,
  filter: QemuMonitorEventFilter,
  stream: EventStream<T>,
  convert: (ev: QemuMonitorEvent) => T,
  o?: CallOptions,
): Promise<EventStream<T>> {
  let undo: (() => Promise<void>) | null = null;
  let closed = false;
  const previous = stream.onClose;
  stream.onClose = async () => {
    closed = true;
    await undo?.().catch(() => undefined);
    await previous?.();
  };
  try {
    undo = await registerMonitorEvents(core, filter, (ev) => stream.push(convert(ev)), o);
  } catch (err) {
    await stream.close();
    throw err;
  }
  // Closed while the registration was in flight: undo it now.
  if (closed) await undo().catch(() => undefined);
  return stream;
}

/** domain.qmp(): a QmpClient whose commands and events go through the monitor passthrough. */
export function domainQmp(core: ApiCore, dom: RemoteNonnullDomain, o: CallOptions & QmpClientOptions = {}): Promise<QmpClient> {
  const link = core.driver.link;
  return openPassthroughQmp(
    {
      command: (json) => monitorCommand(core, dom, json, { timeoutMs: o.timeoutMs }),
      subscribe: (listener) => registerMonitorEvents(core, { dom }, listener, { signal: o.signal, timeoutMs: o.timeoutMs }),
      onGone: link
        ? (gone) =>
            link.onStatus((s) => {
              if (s.state === 'closed') gone();
            })
        : undefined,
    },
    o,
  );
}
