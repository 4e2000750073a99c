// The test driver's node devices: the config's <device> objects, listing/lookup by capability,
// and libvirt 9.0's vHBA mock: creating any fc_host device copies scsi_host11 as scsi_host12
// (host numbers unchanged, WWNs from the request), destroying one checks its parent. Quirks kept:
// destroy "succeeds" without removing anything when the device is no FC HBA or its parent is
// gone, and ListAll refuses virsh's ACTIVE filter flag (stock `virsh nodedev-list` fails).
import type { XmlEl } from '../../api/xml/tree.js';
import type { DriverEvent, DriverMethods } from '../../api/driver.js';
import type { NodeDeviceDef } from '../../api/xml/nodedev.js';
import { NODE_DEV_CAP_TYPES, NODEDEV_DOMAIN, formatNodeDevice, nodeDeviceHasCap, parseNodeDevice, parseNodeDeviceXml } from '../../api/xml/nodedev.js';
import { REMOTE_NODE_DEVICE_CAPS_LIST_MAX, REMOTE_NODE_DEVICE_LIST_MAX } from '../../protocol/gen/remote.js';
import { VirErrorNumber } from '../../rpc/errors.js';
import { checkFlags, limitNames, parsing, rpcLimit, virErr } from './node-common.js';

/** virNodeDeviceEventLifecycleType */
export const NodeDeviceEvent = { CREATED: 0, DELETED: 1 } as const;

/** VIR_CONNECT_LIST_NODE_DEVICES_FILTERS_CAP: one bit per capability type, in enum order. */
const FILTERS_CAP = (1 << NODE_DEV_CAP_TYPES.length) - 1;
const CREATE_XML_VALIDATE = 1;

const internal = (msg: string) => virErr(VirErrorNumber.INTERNAL_ERROR, 'internal error: %s', msg, NODEDEV_DOMAIN);
const notFound = (name: string) =>
  virErr(VirErrorNumber.NO_NODE_DEVICE, 'Node device not found: %s', `no node device with matching name '${name}'`);

const fcHost = (d: NodeDeviceDef) => {
  for (const c of d.caps) if (c.type === 'scsi_host' && c.fc) return c.fc;
  return undefined;
};

export class NodeDeviceStore {
  /** Insertion order; libvirt's hash order is random per process, so callers sort. */
  private readonly devs = new Map<string, NodeDeviceDef>();

  constructor(entries: XmlEl[], private readonly emit: (ev: DriverEvent) => void) {
    for (const el of entries) {
      const d = parsing(() => parseNodeDevice(el));
      this.devs.set(d.name, d);
    }
  }

  private event(name: string, event: number): void {
    this.emit({
      family: 'node_device',
      eventID: 0,
      proc: 'NODE_DEVICE_EVENT_LIFECYCLE',
      target: new TextEncoder().encode(name),
      payload: { dev: { name }, event, detail: 0 },
    });
  }

  private get(name: string): NodeDeviceDef {
    const d = this.devs.get(name);
    if (!d) throw notFound(name);
    return d;
  }

  private names(cap: string | null): string[] {
    return [...this.devs.values()].filter((d) => cap === null || nodeDeviceHasCap(d, cap)).map((d) => d.name);
  }

  /** virNodeDeviceObjListGetParentHost: the parent must exist and do vport operations. */
  private checkParent(def: NodeDeviceDef): void {
    const all = [...this.devs.values()];
    let parent: NodeDeviceDef | undefined;
    if (def.parent !== undefined) parent = this.devs.get(def.parent);
    else if (def.parentWwnn !== undefined && def.parentWwpn !== undefined) {
      parent = all.find((d) => fcHost(d)?.wwnn === def.parentWwnn && fcHost(d)?.wwpn === def.parentWwpn);
    } else if (def.parentFabricWwn !== undefined) parent = all.find((d) => fcHost(d)?.fabricWwn === def.parentFabricWwn);
    else {
      if (!all.some((d) => nodeDeviceHasCap(d, 'vports'))) throw internal('Could not find any vport capable device');
      return;
    }
    if (!parent) throw internal(`Could not find parent device for '${def.name}'`);
    if (!nodeDeviceHasCap(parent, 'vports')) throw internal(`Parent device ${parent.name} is not capable of vport operations`);
  }

  private create(xml: string): string {
    const def = parsing(() => parseNodeDeviceXml(xml, true));
    const fc = fcHost(def);
    if (!fc) throw internal('Device is not a fibre channel HBA');
    this.checkParent(def);
    const model = this.devs.get('scsi_host11');
    if (!model) throw internal('An error occurred, but the cause is unknown');
    const copy = structuredClone(model);
    copy.name = 'scsi_host12';
    for (const c of copy.caps) if (c.type === 'scsi_host' && c.fc) Object.assign(c.fc, { wwnn: fc.wwnn, wwpn: fc.wwpn });
    this.devs.set(copy.name, copy);
    this.event(copy.name, NodeDeviceEvent.CREATED);
    return copy.name;
  }

  private destroy(name: string): void {
    const d = this.get(name);
    if (!fcHost(d)) return;
    if (d.parent === undefined || !this.devs.has(d.parent)) return;
    this.devs.delete(name);
    this.event(name, NodeDeviceEvent.DELETED);
  }

  methods(): DriverMethods {
    return {
      NODE_NUM_OF_DEVICES: ({ cap, flags }) => {
        checkFlags(flags, 0, 'testNodeNumOfDevices');
        return { num: this.names(cap).length };
      },
      NODE_LIST_DEVICES: ({ cap, maxnames, flags }) => {
        if (maxnames > REMOTE_NODE_DEVICE_LIST_MAX) throw rpcLimit('maxnames > REMOTE_NODE_DEVICE_LIST_MAX');
        checkFlags(flags, 0, 'testNodeListDevices');
        return { names: limitNames(this.names(cap), maxnames, REMOTE_NODE_DEVICE_LIST_MAX, 'REMOTE_NODE_DEVICE_LIST_MAX') };
      },
      CONNECT_LIST_ALL_NODE_DEVICES: ({ needResults, flags }) => {
        checkFlags(flags, FILTERS_CAP, 'testConnectListAllNodeDevices');
        const wanted = NODE_DEV_CAP_TYPES.filter((_, i) => flags & (1 << i));
        const devices = [...this.devs.values()]
          .filter((d) => wanted.length === 0 || wanted.some((c) => nodeDeviceHasCap(d, c)))
          .map((d) => ({ name: d.name }));
        return { devices: needResults ? devices : [], ret: devices.length };
      },
      NODE_DEVICE_LOOKUP_BY_NAME: ({ name }) => ({ dev: { name: this.get(name).name } }),
      NODE_DEVICE_GET_XML_DESC: ({ name, flags }) => {
        checkFlags(flags, 0, 'testNodeDeviceGetXMLDesc');
        return { xml: formatNodeDevice(this.get(name)) };
      },
      NODE_DEVICE_GET_PARENT: ({ name }) => {
        const d = this.get(name);
        if (d.parent === undefined) throw virErr(VirErrorNumber.INTERNAL_ERROR, 'internal error: %s', 'no parent for this device');
        return { parentName: d.parent };
      },
      NODE_DEVICE_NUM_OF_CAPS: ({ name }) => ({ num: this.get(name).caps.length }),
      NODE_DEVICE_LIST_CAPS: ({ name, maxnames }) => {
        if (maxnames > REMOTE_NODE_DEVICE_CAPS_LIST_MAX) throw rpcLimit('maxnames > REMOTE_NODE_DEVICE_CAPS_LIST_MAX');
        return { names: this.get(name).caps.slice(0, Math.max(0, maxnames)).map((c) => c.type) };
      },
      NODE_DEVICE_CREATE_XML: ({ xmlDesc, flags }) => {
        checkFlags(flags, CREATE_XML_VALIDATE, 'testNodeDeviceCreateXML');
        return { dev: { name: this.create(xmlDesc) } };
      },
      NODE_DEVICE_DESTROY: ({ name }) => this.destroy(name),
    };
  }
}
