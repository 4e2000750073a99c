// Network updates and DHCP leases, and the interface lifecycle commands, in virsh 9.0's wording.
import { attempt, CliError, type Ctl, type Opts } from '../ctl.js';
import { ifaceByText, networkByText } from '../lookup.js';
import { readXmlFile } from './domain.js';
import type { CommandTable } from './types.js';

const UPDATE_COMMANDS: Record<string, number> = { modify: 1, delete: 2, add: 3, 'add-last': 3, 'add-first': 4 };
const UPDATE_SECTIONS = ['bridge', 'domain', 'ip', 'ip-dhcp-host', 'ip-dhcp-range', 'forward', 'forward-interface', 'forward-pf', 'portgroup', 'dns-host', 'dns-txt', 'dns-srv'];

async function netUpdate(ctl: Ctl, o: Opts): Promise<void> {
  if (o.has('current') && (o.has('live') || o.has('config'))) throw new CliError(`Options --current and --${o.has('live') ? 'live' : 'config'} are mutually exclusive`);
  const net = await networkByText(ctl, o.string('network')!);
  const cmdName = o.string('command')!;
  const command = UPDATE_COMMANDS[cmdName];
  if (command === undefined) throw new CliError(`unrecognized command name '${cmdName}'`);
  const secName = o.string('section')!;
  const section = UPDATE_SECTIONS.indexOf(secName) + 1;
  if (section === 0) throw new CliError(`unrecognized section name '${secName}'`);
  const parentIndex = o.int('parent-index') ?? -1;
  const xmlArg = o.string('xml')!;
  // A leading '<' is the XML itself; anything else names a file holding it.
  const xml = xmlArg.startsWith('<') ? xmlArg : readXmlFile(xmlArg);
  const live = o.bool('live');
  const config = o.bool('config');
  const flags = (live ? 1 : 0) | (config ? 2 : 0);
  await attempt(net.update(command, section, parentIndex, xml, flags), `Failed to update network ${net.name}`);
  let what: string;
  if (config) what = live ? 'persistent config and live state' : 'persistent config';
  else if (live || (await net.isActive().catch(() => false))) what = 'live state';
  else what = 'persistent config';
  // virsh 9.0 ends this message without a newline.
  ctl.print(`Updated network ${net.name} ${what}`);
}

const pad2 = (n: number) => String(n).padStart(2, '0');

async function netDhcpLeases(ctl: Ctl, o: Opts): Promise<void> {
  const mac = o.string('mac') ?? null;
  const net = await networkByText(ctl, o.string('network')!);
  const leases = await attempt(net.dhcpLeases(mac), `Failed to get leases info for ${net.name}`);
  const sorted = [...leases].sort((a, b) => ((a.mac ?? '') < (b.mac ?? '') ? -1 : (a.mac ?? '') > (b.mac ?? '') ? 1 : 0));
  const rows = sorted.map((l) => {
    const t = new Date(Number(l.expirytime) * 1000);
    const when = `${t.getFullYear()}-${pad2(t.getMonth() + 1)}-${pad2(t.getDate())} ${pad2(t.getHours())}:${pad2(t.getMinutes())}:${pad2(t.getSeconds())}`;
    return [when, l.mac ?? '', l.type === 0 ? 'ipv4' : 'ipv6', `${l.ipaddr}/${l.prefix}`, l.hostname || '-', l.clientid || '-'];
  });
  ctl.table(['Expiry Time', 'MAC address', 'Protocol', 'IP address', 'Hostname', 'Client ID or DUID'], rows);
}

async function ifaceDefine(ctl: Ctl, o: Opts): Promise<void> {
  const file = o.string('file')!;
  const xml = readXmlFile(file);
  const i = await attempt(ctl.connection.defineInterface(xml, o.bool('validate') ? 1 : 0), `Failed to define interface from ${file}`);
  ctl.print(`Interface ${i.name} defined from ${file}\n`);
}

export const NET_IFACE_COMMANDS: CommandTable = {
  'net-update': netUpdate,
  'net-dhcp-leases': netDhcpLeases,
  'iface-define': ifaceDefine,
  'iface-undefine': async (ctl, o) => {
    // Messages name the interface as typed (a MAC stays a MAC), as virsh's do.
    const n = o.string('interface')!;
    const i = await ifaceByText(ctl, n, 'any');
    await attempt(i.undefine(), `Failed to undefine interface ${n}`);
    ctl.print(`Interface ${n} undefined\n`);
  },
  'iface-start': async (ctl, o) => {
    const n = o.string('interface')!;
    const i = await ifaceByText(ctl, n, 'any');
    await attempt(i.create(), `Failed to start interface ${n}`);
    ctl.print(`Interface ${n} started\n`);
  },
  'iface-destroy': async (ctl, o) => {
    const n = o.string('interface')!;
    const i = await ifaceByText(ctl, n, 'any');
    await attempt(i.destroy(), `Failed to destroy interface ${n}`);
    ctl.print(`Interface ${n} destroyed\n`);
    // virsh 9.0 reports failure (exit code 1, no message) even when the interface was destroyed.
    throw new CliError('');
  },
};
