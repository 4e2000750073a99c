// The test driver's host interfaces (virInterface): define/undefine, start/stop, and the
// begin/commit/rollback transaction that snapshots the whole list. No events exist for these.
import type { XmlEl } from '../../api/xml/tree.js';
import type { DriverEvent, DriverMethods } from '../../api/driver.js';
import type { IfaceDef } from '../../api/xml/interface.js';
import { formatIface, parseIface, parseIfaceXml } from '../../api/xml/interface.js';
import type { RemoteNonnullInterface } from '../../protocol/gen/remote.js';
import { REMOTE_INTERFACE_LIST_MAX } from '../../protocol/gen/remote.js';
import { VirErrorNumber } from '../../rpc/errors.js';
import { checkFlags, limitNames, operationInvalid, parsing, virErr } from './node-common.js';

const LIST_FILTERS_ACTIVE = 3;
const DEFINE_VALIDATE = 1;

interface IfaceObj {
  def: IfaceDef;
  active: boolean;
}

const notFound = (what: string) => virErr(VirErrorNumber.NO_INTERFACE, 'Interface not found: %s', what);

export class InterfaceStore {
  private ifaces: IfaceObj[] = [];
  /** The list as it was at CHANGE_BEGIN, while a transaction runs. */
  private backup: IfaceObj[] | null = null;

  // Interfaces raise no events; `emit` is taken for symmetry with the other stores.
  constructor(entries: XmlEl[], _emit: (ev: DriverEvent) => void) {
    for (const el of entries) this.assign(parsing(() => parseIface(el))).active = true;
  }

  private handle(d: IfaceDef): RemoteNonnullInterface {
    return { name: d.name, mac: d.mac ?? '' };
  }

  private byName(name: string): IfaceObj {
    const o = this.ifaces.find((i) => i.def.name === name);
    if (!o) throw notFound(`no interface with matching name '${name}'`);
    return o;
  }

  /** virInterfaceObjListAssignDef: a known name gets its definition replaced, state kept. */
  private assign(def: IfaceDef): IfaceObj {
    const o = this.ifaces.find((i) => i.def.name === def.name);
    if (o) {
      o.def = def;
      return o;
    }
    const n: IfaceObj = { def, active: false };
    this.ifaces.push(n);
    return n;
  }

  private names(active: boolean): string[] {
    return this.ifaces.filter((i) => i.active === active).map((i) => i.def.name);
  }

  /** libvirt's copy re-adds every definition as a new, inactive object: a rollback stops them all. */
  private static clone(list: IfaceObj[]): IfaceObj[] {
    return list.map((o) => ({ def: structuredClone(o.def), active: false }));
  }

  methods(): DriverMethods {
    const noTransaction = (what: string) => operationInvalid(`no transaction running, nothing to ${what}.`);
    return {
      CONNECT_NUM_OF_INTERFACES: () => ({ num: this.names(true).length }),
      CONNECT_NUM_OF_DEFINED_INTERFACES: () => ({ num: this.names(false).length }),
      CONNECT_LIST_INTERFACES: (a) => ({
        names: limitNames(this.names(true), a.maxnames, REMOTE_INTERFACE_LIST_MAX, 'REMOTE_INTERFACE_LIST_MAX'),
      }),
      CONNECT_LIST_DEFINED_INTERFACES: (a) => ({
        names: limitNames(this.names(false), a.maxnames, REMOTE_INTERFACE_LIST_MAX, 'REMOTE_INTERFACE_LIST_MAX'),
      }),
      CONNECT_LIST_ALL_INTERFACES: (a) => {
        checkFlags(a.flags, LIST_FILTERS_ACTIVE, 'testConnectListAllInterfaces');
        const want = a.flags & LIST_FILTERS_ACTIVE;
        const ifaces = this.ifaces
          .filter((i) => !want || want === 3 || (want === 2) === i.active)
          .map((i) => this.handle(i.def));
        return { ifaces: a.needResults ? ifaces : [], ret: ifaces.length };
      },
      INTERFACE_LOOKUP_BY_NAME: (a) => ({ iface: this.handle(this.byName(a.name).def) }),
      INTERFACE_LOOKUP_BY_MAC_STRING: (a) => {
        const hits = this.ifaces.filter((i) => i.def.mac !== undefined && i.def.mac.toLowerCase() === a.mac.toLowerCase());
        if (hits.length === 0) throw notFound(`no interface with matching mac '${a.mac}'`);
        if (hits.length > 1) throw virErr(VirErrorNumber.MULTIPLE_INTERFACES, 'multiple matching interfaces found');
        // The handle carries the MAC as the caller spelled it.
        return { iface: { name: hits[0].def.name, mac: a.mac } };
      },
      INTERFACE_GET_XML_DESC: (a) => {
        checkFlags(a.flags, 0, 'testInterfaceGetXMLDesc');
        return { xml: formatIface(this.byName(a.iface.name).def) };
      },
      INTERFACE_DEFINE_XML: (a) => {
        checkFlags(a.flags, DEFINE_VALIDATE, 'testInterfaceDefineXML');
        return { iface: this.handle(this.assign(parsing(() => parseIfaceXml(a.xml))).def) };
      },
      INTERFACE_UNDEFINE: (a) => {
        const o = this.byName(a.iface.name);
        this.ifaces.splice(this.ifaces.indexOf(o), 1);
      },
      INTERFACE_CREATE: (a) => {
        checkFlags(a.flags, 0, 'testInterfaceCreate');
        const o = this.byName(a.iface.name);
        if (o.active) throw operationInvalid();
        o.active = true;
      },
      INTERFACE_DESTROY: (a) => {
        checkFlags(a.flags, 0, 'testInterfaceDestroy');
        const o = this.byName(a.iface.name);
        if (!o.active) throw operationInvalid();
        o.active = false;
      },
      INTERFACE_IS_ACTIVE: (a) => ({ active: this.byName(a.iface.name).active ? 1 : 0 }),
      INTERFACE_CHANGE_BEGIN: (a) => {
        checkFlags(a.flags, 0, 'testInterfaceChangeBegin');
        if (this.backup) throw operationInvalid('there is another transaction running.');
        this.backup = InterfaceStore.clone(this.ifaces);
      },
      INTERFACE_CHANGE_COMMIT: (a) => {
        checkFlags(a.flags, 0, 'testInterfaceChangeCommit');
        if (!this.backup) throw noTransaction('be committed');
        this.backup = null;
      },
      INTERFACE_CHANGE_ROLLBACK: (a) => {
        checkFlags(a.flags, 0, 'testInterfaceChangeRollback');
        if (!this.backup) throw noTransaction('rollback');
        this.ifaces = this.backup;
        this.backup = null;
      },
    };
  }
}
