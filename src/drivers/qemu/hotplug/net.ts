// Interfaces: live attach (netdev_add + device_add with the builder's options), detach
// (device_del, then netdev_del once QEMU let go), and the persistent-definition changes.
// Matching follows virDomainNetFindIdx: by MAC when given, then by PCI address.
import type { DomainDef, DomainNet } from '../../../api/xml/domain/types.js';
import { VirErrorDomain } from '../../../rpc/errors.js';
import { netArgs, validateNet } from '../command/nets.js';
import type { QemuDomain } from '../domain-obj.js';
import { internalError, operationFailed } from '../errors.js';
import { deviceAddedEvent, deviceRemovedEvent } from '../events.js';
import type { QemuDriverState } from '../state.js';
import { chooseSlot, deviceMissing, pciAddress, redefine, slotOf } from './common.js';
import { addressNewQ35, liveAddress, pciPlaceOf } from './pci-place.js';
import { isQ35 } from '../command/q35.js';
import { bootOrder, optionObjects, usedSlotsConfig } from './qemu-args.js';
import type { Unplugs } from './unplug.js';

/** Aliases of live interfaces, learnt from QEMU (netN ids outlive index changes). */
const aliases = new WeakMap<DomainNet, string>();

/** The QEMU ids of NICs by MAC, from the peripheral devices' "mac" property. */
async function nicIds(d: QemuDomain): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const proc = d.proc;
  if (!proc) return out;
  const kids = await proc.command<{ name: string; type: string }[]>('qom-list', { path: '/machine/peripheral' }, d.name);
  for (const k of kids) {
    if (!/^net\d+$/.test(k.name)) continue;
    const mac = await proc.command<string>('qom-get', { path: `/machine/peripheral/${k.name}`, property: 'mac' }, d.name).catch(() => undefined);
    if (typeof mac === 'string') out.set(mac.toLowerCase(), k.name);
  }
  return out;
}

async function aliasOf(d: QemuDomain, n: DomainNet): Promise<string> {
  const known = aliases.get(n) ?? n.alias;
  if (known !== undefined) return known;
  const ids = await nicIds(d);
  const id = ids.get(n.mac) ?? `net${d.def.devices.nets.indexOf(n)}`;
  aliases.set(n, id);
  return id;
}

/** libvirt's hot-plug alias: one past the highest netN in use. */
async function newAlias(d: QemuDomain): Promise<number> {
  let max = -1;
  for (const id of (await nicIds(d)).values()) max = Math.max(max, Number(id.slice(3)));
  for (const n of d.def.devices.nets) {
    const a = aliases.get(n) ?? n.alias;
    if (a !== undefined) max = Math.max(max, Number(a.slice(3)));
  }
  return max + 1;
}

const fmtAddr = (n: DomainNet): string => {
  const s = slotOf(n.address);
  return s === undefined ? '(<null>)' : `0000:00:${s.toString(16).padStart(2, '0')}.0`;
};

/** virDomainNetFindIdx. */
export function findNet(def: DomainDef, n: DomainNet, macGiven: boolean): DomainNet {
  const slot = slotOf(n.address);
  const hits = def.devices.nets.filter((x) => (!macGiven || x.mac === n.mac) && (slot === undefined || slotOf(x.address) === slot));
  if (hits.length === 1) return hits[0];
  if (hits.length > 1) {
    throw operationFailed(macGiven ? `multiple devices matching MAC address ${n.mac} found` : 'multiple matching devices found');
  }
  throw deviceMissing(
    `no device found at address '${fmtAddr(n)}' matching MAC address '${macGiven ? n.mac : '(<null>)'}' and alias '(<null>)'`,
    VirErrorDomain.DOMAIN,
  );
}

// ---- persistent definition ------------------------------------------------------------------

export function attachNetConfig(pd: DomainDef, n: DomainNet): DomainDef {
  const q35 = isQ35(pd.os.machine);
  validateNet(n, q35);
  const used = q35 ? undefined : usedSlotsConfig(pd);
  return redefine(pd, (c) => {
    if (used) n.address = pciAddress(chooseSlot(used, n.address, 'interface'));
    c.devices.nets.push(n);
    addressNewQ35(c);
  });
}

export function detachNetConfig(pd: DomainDef, n: DomainNet, macGiven: boolean): DomainDef {
  const i = pd.devices.nets.indexOf(findNet(pd, n, macGiven));
  return redefine(pd, (c) => c.devices.nets.splice(i, 1));
}

// ---- live -----------------------------------------------------------------------------------

export async function attachNetLive(s: QemuDriverState, d: QemuDomain, n: DomainNet): Promise<void> {
  const proc = d.proc;
  if (!proc) throw internalError('monitor must not be NULL');
  validateNet(n, isQ35(d.def.os.machine));
  const address = await liveAddress(proc, d.def, n.address, 'interface');
  const index = await newAlias(d);
  const place = pciPlaceOf(d.def, address);
  const argv = netArgs(n, index, new Map(place ? [[n, place]] : []), bootOrder(n));
  const [netdev] = optionObjects(argv, '-netdev');
  const [device] = optionObjects(argv, '-device');
  await proc.command('netdev_add', netdev, d.name);
  try {
    await proc.command('device_add', device, d.name);
  } catch (e) {
    await proc.command('netdev_del', { id: netdev.id }, d.name).catch(() => undefined);
    throw e;
  }
  n.address = address;
  n.alias = `net${index}`;
  aliases.set(n, n.alias);
  d.def.devices.nets.push(n);
  s.saveStatus(d);
  s.events.emit(deviceAddedEvent(d.handle(), `net${index}`));
}

export async function detachNetLive(s: QemuDriverState, unplugs: Unplugs, d: QemuDomain, n: DomainNet, macGiven: boolean): Promise<void> {
  await detachFound(s, unplugs, d, findNet(d.def, n, macGiven), true);
}

/** Unplugs a live interface; also the path of detach-device-alias. */
export async function detachFound(s: QemuDriverState, unplugs: Unplugs, d: QemuDomain, found: DomainNet, wait: boolean): Promise<void> {
  const alias = await aliasOf(d, found);
  const proc = d.proc;
  const finish = async (): Promise<void> => {
    if (d.proc !== proc) return;
    await d.proc?.command('netdev_del', { id: `host${alias}` }, d.name).catch(() => undefined);
    const i = d.def.devices.nets.indexOf(found);
    if (i < 0) return;
    d.def.devices.nets.splice(i, 1);
    s.saveStatus(d);
    s.events.emit(deviceRemovedEvent(d.handle(), alias));
  };
  await unplugs.detach(d, alias, finish, wait);
}

/** The live interface QEMU knows as `alias`, if any. */
export async function netByAlias(d: QemuDomain, alias: string): Promise<DomainNet | undefined> {
  for (const n of d.def.devices.nets) if ((await aliasOf(d, n)) === alias) return n;
  return undefined;
}
