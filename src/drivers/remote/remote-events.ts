// Event subscriptions over the wire: each subscription is one CALLBACK_REGISTER_ANY call whose
// server-chosen callbackID routes the event messages back to its listener.
import type {
  DriverEvent,
  DriverEventFamily,
  DriverEventListener,
  DriverEventTarget,
  ProcName,
} from '../../api/driver.js';
import {
  REMOTE_PROGRAM,
  RemoteProcedures as R,
  remoteProgram,
  type RemoteNonnullDomain,
  type RemoteNonnullNetwork,
  type RemoteNonnullStoragePool,
} from '../../protocol/gen/remote.js';
import type { CallOptions, RpcClient } from '../../rpc/client.js';
import type { Logger } from '../../rpc/log.js';
import type { Message } from '../../rpc/message.js';
import { XdrReader } from '../../xdr/index.js';

interface Subscription {
  readonly family: DriverEventFamily;
  readonly eventID: number;
  readonly listener: DriverEventListener;
}

/** Events that arrived for a callbackID whose registration reply is still being processed. */
const EARLY_MAX = 64;

export class RemoteEvents {
  private readonly subs = new Map<number, Subscription>();
  private early: Array<{ callbackID: number; payload: Record<string, unknown>; proc: ProcName }> = [];
  private registering = 0;

  constructor(
    private readonly client: RpcClient,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.subs.size;
  }

  async subscribe(
    family: DriverEventFamily,
    eventID: number,
    target: DriverEventTarget | null,
    listener: DriverEventListener,
    opts: CallOptions,
  ): Promise<() => Promise<void>> {
    this.registering++;
    let callbackID: number;
    try {
      callbackID = await this.register(family, eventID, target, opts);
    } finally {
      this.registering--;
    }
    const sub = { family, eventID, listener };
    this.subs.set(callbackID, sub);
    this.flushEarly(callbackID, sub);
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      this.subs.delete(callbackID);
      // A closed connection has no registrations left to undo.
      if (this.client.isOpen) await this.deregister(family, callbackID);
    };
  }

  /** Routes one MESSAGE packet; returns false when it is not an event of ours. */
  handle(msg: Message): boolean {
    const h = msg.header;
    if (h.prog !== REMOTE_PROGRAM) return false;
    const spec = remoteProgram.procedures.get(h.proc);
    if (!spec || spec.kind !== 'message') return false;
    let decoded: Record<string, unknown>;
    try {
      decoded = spec.args.decode(new XdrReader(msg.body)) as Record<string, unknown>;
    } catch (err) {
      this.log.warn(`cannot decode event ${spec.name}: ${String(err)}`);
      return true;
    }
    const { callbackID, ...payload } = decoded;
    if (typeof callbackID !== 'number') return false;
    const sub = this.subs.get(callbackID);
    if (sub) this.deliver(sub, spec.name as ProcName, payload);
    else if (this.registering > 0) {
      this.early.push({ callbackID, payload, proc: spec.name as ProcName });
      if (this.early.length > EARLY_MAX) this.early.shift();
    }
    return true;
  }

  private flushEarly(callbackID: number, sub: Subscription): void {
    const mine = this.early.filter((e) => e.callbackID === callbackID);
    this.early = this.registering > 0 ? this.early.filter((e) => e.callbackID !== callbackID) : [];
    for (const e of mine) this.deliver(sub, e.proc, e.payload);
  }

  private deliver(sub: Subscription, proc: ProcName, payload: Record<string, unknown>): void {
    const ev: DriverEvent = { family: sub.family, eventID: sub.eventID, proc, target: targetOf(payload), payload };
    try {
      sub.listener(ev);
    } catch (err) {
      this.log.error(`event listener failed: ${String(err)}`);
    }
  }

  private async register(family: DriverEventFamily, eventID: number, target: DriverEventTarget | null, opts: CallOptions): Promise<number> {
    switch (family) {
      case 'domain':
        return (await this.client.call(R.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, { eventID, dom: target as RemoteNonnullDomain | null }, opts)).callbackID;
      case 'network':
        return (await this.client.call(R.CONNECT_NETWORK_EVENT_REGISTER_ANY, { eventID, net: target as RemoteNonnullNetwork | null }, opts)).callbackID;
      case 'storage_pool':
        return (await this.client.call(R.CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY, { eventID, pool: target as RemoteNonnullStoragePool | null }, opts)).callbackID;
      case 'node_device':
        return (await this.client.call(R.CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY, { eventID, dev: null }, opts)).callbackID;
      case 'secret':
        return (await this.client.call(R.CONNECT_SECRET_EVENT_REGISTER_ANY, { eventID, secret: null }, opts)).callbackID;
    }
  }

  private async deregister(family: DriverEventFamily, callbackID: number): Promise<void> {
    const proc = {
      domain: R.CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY,
      network: R.CONNECT_NETWORK_EVENT_DEREGISTER_ANY,
      storage_pool: R.CONNECT_STORAGE_POOL_EVENT_DEREGISTER_ANY,
      node_device: R.CONNECT_NODE_DEVICE_EVENT_DEREGISTER_ANY,
      secret: R.CONNECT_SECRET_EVENT_DEREGISTER_ANY,
    }[family];
    await this.client.call(proc, { callbackID });
  }
}

/** The UUID (or, for node devices, the name's bytes) of the object an event is about. */
function targetOf(payload: Record<string, unknown>): Uint8Array {
  const inner = payload.msg && typeof payload.msg === 'object' ? (payload.msg as Record<string, unknown>) : payload;
  for (const key of ['dom', 'net', 'pool', 'secret', 'dev']) {
    const obj = inner[key] ?? payload[key];
    if (obj && typeof obj === 'object') {
      const o = obj as { uuid?: unknown; name?: unknown };
      if (o.uuid instanceof Uint8Array) return o.uuid;
      if (typeof o.name === 'string') return new TextEncoder().encode(o.name);
    }
  }
  return new Uint8Array(0);
}
