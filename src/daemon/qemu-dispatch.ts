/**
 * The QEMU program (libvirt-qemu's API) as tsvirtd serves it: monitor and agent passthrough,
 * attach, and QMP event callbacks. Calls go to the driver connection's optional `qemu` methods;
 * a driver without them gets the errors libvirtd gives for its test driver. Event callbacks are
 * kept per client and filtered here (domain, event name, regex or case-insensitive match), as
 * libvirt's shared event code does for every driver.
 */
import type { DriverConnection, QemuDriverMethods, QemuMonitorEvent } from '../api/driver.js';
import { QemuProcedures as Q } from '../protocol/gen/qemu.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../rpc/errors.js';
import type { ProcedureSpec } from '../rpc/program.js';
import { handle, type CallContext, type Handler, type HandlerTable, type ServerClient } from '../rpc/server.js';
import { Session } from './session.js';

/** virConnectDomainQemuMonitorEventRegisterFlags. */
export const MONITOR_EVENT_REGISTER_REGEX = 1;
export const MONITOR_EVENT_REGISTER_NOCASE = 2;

/** libvirt-qemu's API name of each procedure, as its errors spell it. */
const API_NAMES: Record<string, string> = {
  DOMAIN_MONITOR_COMMAND: 'virDomainQemuMonitorCommand',
  DOMAIN_MONITOR_COMMAND_WITH_FILES: 'virDomainQemuMonitorCommandWithFiles',
  DOMAIN_ATTACH: 'virDomainQemuAttach',
  DOMAIN_AGENT_COMMAND: 'virDomainQemuAgentCommand',
  CONNECT_DOMAIN_MONITOR_EVENT_REGISTER: 'virConnectDomainQemuMonitorEventRegister',
};

const apiName = (spec: ProcedureSpec): string => API_NAMES[spec.name] ?? spec.name;

/** libvirt-qemu.c reports in VIR_FROM_NONE, unlike libvirt-domain.c. */
function noSupport(spec: ProcedureSpec): VirError {
  return VirError.format(VirErrorNumber.NO_SUPPORT, VirErrorDomain.NONE, 'this function is not supported by the connection driver: %s', apiName(spec));
}

function readOnlyDenied(spec: ProcedureSpec): VirError {
  return VirError.format(VirErrorNumber.OPERATION_DENIED, VirErrorDomain.NONE, 'operation forbidden: %s', `read only access prevents ${apiName(spec)}`);
}

/** The open driver connection and its qemu methods, after the open and read-only checks. */
function qemuOf(spec: ProcedureSpec, ctx: CallContext): { conn: DriverConnection; qemu: QemuDriverMethods } {
  const session = Session.of(ctx.client);
  const conn = session.requireOpen();
  if (session.readonly) throw readOnlyDenied(spec);
  return { conn, qemu: conn.methods.qemu ?? {} };
}

interface MonitorCallback {
  readonly conn: DriverConnection;
  readonly off: () => void;
}

/** One client's QEMU monitor event callbacks. */
class MonitorCallbacks {
  private static readonly KEY = 'tsvirtd.qemu-monitor-callbacks';
  private readonly callbacks = new Map<number, MonitorCallback>();
  private nextId = 0;

  private constructor(private readonly client: ServerClient) {
    // Subscriptions die with the client, whichever way it goes.
    void client.closed.then(() => this.clear());
  }

  static of(client: ServerClient): MonitorCallbacks {
    const found = client.data.get(MonitorCallbacks.KEY);
    if (found instanceof MonitorCallbacks) return found;
    const made = new MonitorCallbacks(client);
    client.data.set(MonitorCallbacks.KEY, made);
    return made;
  }

  register(conn: DriverConnection, subscribe: NonNullable<QemuDriverMethods['onMonitorEvent']>, match: (ev: QemuMonitorEvent) => boolean): number {
    const id = this.nextId++;
    const off = subscribe((ev) => {
      if (!match(ev)) return;
      this.client.sendEvent(Q.DOMAIN_MONITOR_EVENT, {
        callbackID: id,
        dom: ev.dom,
        event: ev.event,
        seconds: ev.seconds,
        micros: ev.micros,
        details: ev.details,
      });
    });
    this.callbacks.set(id, { conn, off });
    return id;
  }

  /** Removes a callback; false when the id is unknown or belongs to another driver connection. */
  deregister(conn: DriverConnection, id: number): boolean {
    const cb = this.callbacks.get(id);
    if (!cb || cb.conn !== conn) return false;
    cb.off();
    this.callbacks.delete(id);
    return true;
  }

  get size(): number {
    return this.callbacks.size;
  }

  private clear(): void {
    for (const cb of this.callbacks.values()) cb.off();
    this.callbacks.clear();
  }
}

/** The number of monitor event callbacks a client holds (for tests and diagnostics). */
export function monitorCallbackCount(client: ServerClient): number {
  return MonitorCallbacks.of(client).size;
}

/**
 * The event-name test of one registration: exact name, case-insensitive name, or a regex
 * searched anywhere in the name; libvirt's flag checks and messages.
 */
export function monitorEventMatcher(event: string | null, flags: number): (name: string) => boolean {
  const known = MONITOR_EVENT_REGISTER_REGEX | MONITOR_EVENT_REGISTER_NOCASE;
  if ((flags & ~known) >>> 0 !== 0) {
    throw VirError.format(
      VirErrorNumber.INVALID_ARG,
      VirErrorDomain.NONE,
      'unsupported flags (0x%s) in function virDomainQemuMonitorEventStateRegisterID',
      ((flags & ~known) >>> 0).toString(16),
    );
  }
  if (event === null) return () => true;
  const nocase = (flags & MONITOR_EVENT_REGISTER_NOCASE) !== 0;
  if (flags & MONITOR_EVENT_REGISTER_REGEX) {
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

function sameUuid(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Builds the handler table for the QEMU program. */
export function qemuHandlers(): HandlerTable {
  const entries: Array<[number, Handler<never, unknown>]> = [
    handle(Q.DOMAIN_MONITOR_COMMAND, async ({ dom, cmd, flags }, ctx) => {
      const { qemu } = qemuOf(Q.DOMAIN_MONITOR_COMMAND, ctx);
      if (!qemu.monitorCommand) throw noSupport(Q.DOMAIN_MONITOR_COMMAND);
      return { result: await qemu.monitorCommand(dom, cmd, flags, { readonly: false, stream: null }) };
    }),

    // File descriptors never reach a handler (the server refuses calls carrying them), so this
    // is the plain command under its own API name.
    handle(Q.DOMAIN_MONITOR_COMMAND_WITH_FILES, async ({ dom, cmd, flags }, ctx) => {
      const { qemu } = qemuOf(Q.DOMAIN_MONITOR_COMMAND_WITH_FILES, ctx);
      if (!qemu.monitorCommand) throw noSupport(Q.DOMAIN_MONITOR_COMMAND_WITH_FILES);
      return { result: await qemu.monitorCommand(dom, cmd, flags, { readonly: false, stream: null }) };
    }),

    handle(Q.DOMAIN_ATTACH, async ({ pidValue, flags }, ctx) => {
      const { qemu } = qemuOf(Q.DOMAIN_ATTACH, ctx);
      if (!qemu.attach) throw noSupport(Q.DOMAIN_ATTACH);
      return { dom: await qemu.attach(pidValue, flags, { readonly: false, stream: null }) };
    }),

    handle(Q.DOMAIN_AGENT_COMMAND, async ({ dom, cmd, timeout, flags }, ctx) => {
      const { qemu } = qemuOf(Q.DOMAIN_AGENT_COMMAND, ctx);
      if (!qemu.agentCommand) throw noSupport(Q.DOMAIN_AGENT_COMMAND);
      return { result: await qemu.agentCommand(dom, cmd, timeout, flags, { readonly: false, stream: null }) };
    }),

    handle(Q.CONNECT_DOMAIN_MONITOR_EVENT_REGISTER, ({ dom, event, flags }, ctx) => {
      const { conn, qemu } = qemuOf(Q.CONNECT_DOMAIN_MONITOR_EVENT_REGISTER, ctx);
      if (!qemu.onMonitorEvent) throw noSupport(Q.CONNECT_DOMAIN_MONITOR_EVENT_REGISTER);
      const nameMatches = monitorEventMatcher(event, flags);
      const uuid = dom?.uuid ?? null;
      const match = (ev: QemuMonitorEvent) => (uuid === null || sameUuid(uuid, ev.dom.uuid)) && nameMatches(ev.event);
      return { callbackID: MonitorCallbacks.of(ctx.client).register(conn, qemu.onMonitorEvent.bind(qemu), match) };
    }),

    handle(Q.CONNECT_DOMAIN_MONITOR_EVENT_DEREGISTER, ({ callbackID }, ctx) => {
      const conn = Session.of(ctx.client).requireOpen();
      // libvirtd looks in its own list first: a read-only client simply has nothing registered.
      if (!MonitorCallbacks.of(ctx.client).deregister(conn, callbackID)) {
        throw VirError.format(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.RPC, 'internal error: %s', `qemu monitor event callback ${callbackID} not registered`);
      }
    }),
  ];
  return new Map(entries);
}
