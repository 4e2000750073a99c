// Host device commands (nodedev-list, nodedev-dumpxml, nodedev-info) in virsh 9.0's layouts.
import type { NodeDevice } from '../../api/nodedev.js';
import { asVirError, attempt, CliError, type Ctl, type Opts } from '../ctl.js';
import type { CommandTable } from './types.js';

/** VIR_CONNECT_LIST_NODE_DEVICES_CAP_* by virsh's capability names. */
const CAP_FLAGS: Record<string, number> = {
  system: 1 << 0, pci: 1 << 1, usb_device: 1 << 2, usb: 1 << 3, net: 1 << 4, scsi_host: 1 << 5, scsi_target: 1 << 6, scsi: 1 << 7,
  storage: 1 << 8, fc_host: 1 << 9, vports: 1 << 10, scsi_generic: 1 << 11, drm: 1 << 12, mdev_types: 1 << 13, mdev: 1 << 14,
  ccw: 1 << 15, css: 1 << 16, vdpa: 1 << 17, ap_card: 1 << 18, ap_queue: 1 << 19, ap_matrix: 1 << 20, vpd: 1 << 21,
};
const ACTIVE = 0x80000000;
const INACTIVE = 0x40000000;

/** virsh's tree: a device, a "|" line before its children, "+- " before each child, a blank line after a last leaf. */
function tree(names: readonly string[], parents: readonly (string | null)[]): string {
  let out = '';
  const walk = (i: number, last: number, root: boolean, indent: string): void => {
    out += `${indent}${root ? '' : '+- '}${names[i]}\n`;
    let ind = root ? indent : indent + (i === last ? ' ' : '|') + ' ';
    let nextLast = -1;
    names.forEach((_, k) => {
      if (parents[k] === names[i]) nextLast = k;
    });
    if (nextLast !== -1) out += `${ind}  |\n`;
    ind += '  ';
    names.forEach((_, k) => {
      if (parents[k] === names[i]) walk(k, nextLast, false, ind);
    });
    ind = ind.slice(0, -2);
    if (nextLast === -1 && i === last) out += `${ind}\n`;
  };
  names.forEach((_, i) => {
    if (parents[i] === null) walk(i, names.length - 1, true, '');
  });
  return out;
}

async function nodedevList(ctl: Ctl, o: Opts): Promise<void> {
  const capText = o.string('cap');
  const treeMode = o.bool('tree');
  if (o.bool('inactive') && o.bool('all')) throw new CliError('Options --inactive and --all are mutually exclusive');
  if (treeMode && (capText !== undefined || o.bool('inactive'))) throw new CliError('Option --tree is incompatible with --cap and --inactive');
  let flags = o.bool('all') ? ACTIVE | INACTIVE : o.bool('inactive') ? INACTIVE : ACTIVE;
  for (const c of capText?.split(',') ?? []) {
    const f = CAP_FLAGS[c];
    if (f === undefined) throw new CliError('Invalid capability type');
    flags |= f;
  }
  const devs = await attempt(ctl.connection.listAllNodeDevices(flags >>> 0), 'Failed to list node devices');
  devs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (!treeMode) {
    ctl.print(devs.map((d) => `${d.name}\n`).join(''));
    return;
  }
  const names = devs.map((d) => d.name);
  const parents: (string | null)[] = [];
  for (const d of devs) parents.push(await d.parent().catch(() => null));
  ctl.print(tree(names, parents));
}

/** By name, else (NAME,WWN) a SCSI host by WWNN/WWPN is not offered: the name lookup's error shows. */
async function deviceOpt(ctl: Ctl, o: Opts): Promise<NodeDevice> {
  const n = o.string('device')!;
  try {
    return await ctl.connection.nodeDeviceLookupByName(n);
  } catch (e) {
    throw new CliError(`Could not find matching device '${n}'`, asVirError(e));
  }
}

async function nodedevInfo(ctl: Ctl, o: Opts): Promise<void> {
  const d = await deviceOpt(ctl, o);
  const parent = await d.parent().catch(() => null);
  // virsh tests the calls' results as booleans: a failure (-1) shows as "yes".
  const active = await d.isActive().catch(() => true);
  const persistent = await d.isPersistent().catch(() => true);
  let autostart: string;
  try {
    autostart = (await d.autostart()) ? 'yes' : 'no';
  } catch {
    autostart = 'no autostart';
  }
  const l = (k: string, v: string) => `${k.padEnd(15)} ${v}\n`;
  ctl.print(l('Name:', d.name) + l('Parent:', parent ?? '') + l('Active:', active ? 'yes' : 'no') + l('Persistent:', persistent ? 'yes' : 'no') + l('Autostart:', autostart));
}

export const NODEDEV_COMMANDS: CommandTable = {
  'nodedev-list': nodedevList,
  'nodedev-dumpxml': async (ctl, o) => {
    const d = await deviceOpt(ctl, o);
    ctl.print(await attempt(d.xmlDesc(), ''));
  },
  'nodedev-info': nodedevInfo,
};
