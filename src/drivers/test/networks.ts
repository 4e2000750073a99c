// The test driver's virtual networks: define/create/start/stop/undefine with libvirt 9.0's
// test-driver semantics (live vs persistent definitions, lifecycle events, its error texts).
import type { XmlEl } from '../../api/xml/tree.js';
import type { DriverEvent, DriverMethods } from '../../api/driver.js';
import type { NetworkDef } from '../../api/xml/network.js';
import { formatNetwork, parseNetwork, parseNetworkXml } from '../../api/xml/network.js';
import { updateNetworkSection } from './network-update.js';
import type { RemoteNonnullNetwork } from '../../protocol/gen/remote.js';
import { REMOTE_NETWORK_LIST_MAX } from '../../protocol/gen/remote.js';
import { VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';
import {
  checkFlags, internalError, limitNames, matchesStateFlags, operationFailed, operationInvalid, parsing,
  uuidBytes, uuidString, virErr,
} from './node-common.js';

/** virNetworkEventLifecycleType */
export const NetworkEvent = { DEFINED: 0, UNDEFINED: 1, STARTED: 2, STOPPED: 3 } as const;

const LIST_FILTERS_ALL = 0x3f;
const DEFINE_VALIDATE = 1;
const CREATE_VALIDATE = 1;
const UPDATE_AFFECT_LIVE = 1;
const UPDATE_AFFECT_CONFIG = 2;

interface NetworkObj {
  /** The live definition (or the only one while inactive). */
  def: NetworkDef;
  /** The persistent definition waiting for the next start, when it differs from `def`. */
  newDef?: NetworkDef;
  active: boolean;
  persistent: boolean;
  autostart: boolean;
}

const notFound = (what: string) => virErr(VirErrorNumber.NO_NETWORK, 'Network not found: %s', what);

export class NetworkStore {
  private readonly nets: NetworkObj[] = [];

  constructor(entries: XmlEl[], private readonly emit: (ev: DriverEvent) => void) {
    for (const el of entries) {
      const obj = this.assign(parsing(() => parseNetwork(el)), false, false);
      obj.active = true;
    }
  }

  private handle(d: NetworkDef): RemoteNonnullNetwork {
    return { name: d.name, uuid: uuidBytes(d.uuid) };
  }

  private event(net: RemoteNonnullNetwork, event: number): void {
    this.emit({
      family: 'network',
      eventID: 0,
      proc: 'NETWORK_EVENT_LIFECYCLE',
      target: net.uuid,
      payload: { net: { name: net.name, uuid: net.uuid }, event, detail: 0 },
    });
  }

  /** The live definition of a network by name (testNetworkObjFindByName), for domain code. */
  defByName(name: string): NetworkDef {
    return this.byName(name).def;
  }

  private byName(name: string): NetworkObj {
    const o = this.nets.find((n) => n.def.name === name);
    if (!o) throw notFound(`no network with matching name '${name}'`);
    return o;
  }

  private byUuid(uuid: Uint8Array): NetworkObj {
    const u = uuidString(uuid);
    const o = this.nets.find((n) => n.def.uuid === u);
    if (!o) throw notFound(`no network with matching uuid '${u}'`);
    return o;
  }

  private remove(o: NetworkObj): void {
    const i = this.nets.indexOf(o);
    if (i >= 0) this.nets.splice(i, 1);
  }

  /** virNetworkObjListAssignDef: duplicate checks, then live or persistent assignment. */
  private assign(def: NetworkDef, live: boolean, checkLive: boolean): NetworkObj {
    const sameUuid = this.nets.find((n) => n.def.uuid === def.uuid);
    if (sameUuid) {
      if (sameUuid.def.name !== def.name) {
        throw operationFailed(`network '${sameUuid.def.name}' is already defined with uuid ${sameUuid.def.uuid}`, VirErrorDomain.NETWORK);
      }
      if (checkLive && sameUuid.active) {
        throw operationInvalid(`network is already active as '${sameUuid.def.name}'`, VirErrorDomain.NETWORK);
      }
      const o = sameUuid;
      if (live) {
        // Keep the persistent definition to come back to; the test driver never restores it.
        if (o.persistent && !o.newDef) o.newDef = o.def;
        o.def = def;
      } else {
        if (o.active) o.newDef = def;
        else {
          o.def = def;
          o.newDef = undefined;
        }
        o.persistent = true;
      }
      return o;
    }
    const sameName = this.nets.find((n) => n.def.name === def.name);
    if (sameName) {
      throw operationFailed(`network '${def.name}' already exists with uuid ${sameName.def.uuid}`, VirErrorDomain.NETWORK);
    }
    const o: NetworkObj = { def, active: false, persistent: !live, autostart: false };
    this.nets.push(o);
    return o;
  }

  private names(active: boolean): string[] {
    return this.nets.filter((n) => n.active === active).map((n) => n.def.name);
  }

  private createXml(xml: string): RemoteNonnullNetwork {
    const def = parsing(() => parseNetworkXml(xml));
    const o = this.assign(def, true, true);
    o.active = true;
    const h = this.handle(o.def);
    this.event(h, NetworkEvent.STARTED);
    return h;
  }

  private defineXml(xml: string): RemoteNonnullNetwork {
    const def = parsing(() => parseNetworkXml(xml));
    const o = this.assign(def, false, false);
    // The reply and event carry the definition just stored (the live one for a running network).
    const h = this.handle(o.active ? def : o.def);
    this.event(h, NetworkEvent.DEFINED);
    return h;
  }

  methods(): DriverMethods {
    return {
      CONNECT_NUM_OF_NETWORKS: () => ({ num: this.names(true).length }),
      CONNECT_NUM_OF_DEFINED_NETWORKS: () => ({ num: this.names(false).length }),
      CONNECT_LIST_NETWORKS: (a) => ({ names: limitNames(this.names(true), a.maxnames, REMOTE_NETWORK_LIST_MAX, 'REMOTE_NETWORK_LIST_MAX') }),
      CONNECT_LIST_DEFINED_NETWORKS: (a) => ({
        names: limitNames(this.names(false), a.maxnames, REMOTE_NETWORK_LIST_MAX, 'REMOTE_NETWORK_LIST_MAX'),
      }),
      CONNECT_LIST_ALL_NETWORKS: (a) => {
        checkFlags(a.flags, LIST_FILTERS_ALL, 'testConnectListAllNetworks');
        const nets = this.nets.filter((n) => matchesStateFlags(n, a.flags)).map((n) => this.handle(n.def));
        return { nets: a.needResults ? nets : [], ret: nets.length };
      },
      NETWORK_LOOKUP_BY_NAME: (a) => ({ net: this.handle(this.byName(a.name).def) }),
      NETWORK_LOOKUP_BY_UUID: (a) => ({ net: this.handle(this.byUuid(a.uuid).def) }),
      NETWORK_CREATE_XML: (a) => ({ net: this.createXml(a.xml) }),
      NETWORK_CREATE_XML_FLAGS: (a) => {
        checkFlags(a.flags, CREATE_VALIDATE, 'testNetworkCreateXMLFlags');
        return { net: this.createXml(a.xml) };
      },
      NETWORK_DEFINE_XML: (a) => ({ net: this.defineXml(a.xml) }),
      NETWORK_DEFINE_XML_FLAGS: (a) => {
        checkFlags(a.flags, DEFINE_VALIDATE, 'testNetworkDefineXMLFlags');
        return { net: this.defineXml(a.xml) };
      },
      NETWORK_UNDEFINE: (a) => {
        const o = this.byName(a.net.name);
        if (o.active) throw operationInvalid(`Network '${a.net.name}' is still running`);
        this.remove(o);
        this.event(a.net, NetworkEvent.UNDEFINED);
      },
      NETWORK_CREATE: (a) => {
        const o = this.byName(a.net.name);
        if (o.active) throw operationInvalid(`Network '${a.net.name}' is already running`);
        o.active = true;
        this.event(this.handle(o.def), NetworkEvent.STARTED);
      },
      NETWORK_DESTROY: (a) => {
        // libvirt's test driver does not check that the network is running.
        const o = this.byName(a.net.name);
        o.active = false;
        this.event(this.handle(o.def), NetworkEvent.STOPPED);
        if (!o.persistent) this.remove(o);
      },
      NETWORK_UPDATE: (a) => {
        checkFlags(a.flags, UPDATE_AFFECT_LIVE | UPDATE_AFFECT_CONFIG, 'testNetworkUpdate');
        const o = this.byUuid(a.net.uuid);
        let flags = a.flags;
        if (!(flags & (UPDATE_AFFECT_LIVE | UPDATE_AFFECT_CONFIG))) flags |= o.active ? UPDATE_AFFECT_LIVE : UPDATE_AFFECT_CONFIG;
        if (flags & UPDATE_AFFECT_LIVE && !o.active) throw operationInvalid('network is not running', VirErrorDomain.NETWORK);
        if (flags & UPDATE_AFFECT_CONFIG && !o.persistent) {
          throw operationInvalid('cannot change persistent config of a transient network', VirErrorDomain.NETWORK);
        }
        // Edit copies so a failure leaves both definitions untouched (virNetworkObjUpdate).
        const edit = (d: NetworkDef): NetworkDef => {
          const copy = structuredClone(d);
          updateNetworkSection(copy, a.command, a.section, a.parentIndex, a.xml);
          return copy;
        };
        const live = flags & UPDATE_AFFECT_LIVE ? edit(o.def) : undefined;
        const config = flags & UPDATE_AFFECT_CONFIG ? edit(o.newDef ?? o.def) : undefined;
        if (config) {
          if (o.active) o.newDef = config;
          else o.def = config;
        }
        if (live) o.def = live;
      },
      NETWORK_GET_XML_DESC: (a) => {
        checkFlags(a.flags, 0, 'testNetworkGetXMLDesc');
        return { xml: formatNetwork(this.byName(a.net.name).def) };
      },
      NETWORK_GET_BRIDGE_NAME: (a) => {
        const d = this.byName(a.net.name).def;
        if (d.bridge?.name === undefined) throw internalError(`network '${d.name}' does not have a bridge name.`);
        return { name: d.bridge.name };
      },
      NETWORK_GET_AUTOSTART: (a) => ({ autostart: this.byName(a.net.name).autostart ? 1 : 0 }),
      NETWORK_SET_AUTOSTART: (a) => {
        this.byName(a.net.name).autostart = a.autostart !== 0;
      },
      NETWORK_IS_ACTIVE: (a) => ({ active: this.byUuid(a.net.uuid).active ? 1 : 0 }),
      NETWORK_IS_PERSISTENT: (a) => ({ persistent: this.byUuid(a.net.uuid).persistent ? 1 : 0 }),
    };
  }
}
