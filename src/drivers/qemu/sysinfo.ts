// CONNECT_GET_SYSINFO: the host's SMBIOS tables as <sysinfo type='smbios'>, read once with
// dmidecode like libvirt does at driver start. No dmidecode, or one that cannot read the
// tables (no /dev/mem, no DMI in sysfs), gives libvirt's "not available" error.
import { execFile } from 'node:child_process';
import { render, type Out } from '../../api/xml/tree.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';

type Section = Map<string, string>;

/** Handle name in dmidecode's output -> our element and its entry names by dmidecode key. */
const SECTIONS: { title: string; element: string; keys: [string, string][]; many?: boolean }[] = [
  { title: 'BIOS Information', element: 'bios', keys: [['Vendor', 'vendor'], ['Version', 'version'], ['Release Date', 'date'], ['BIOS Revision', 'release']] },
  {
    title: 'System Information', element: 'system',
    keys: [['Manufacturer', 'manufacturer'], ['Product Name', 'product'], ['Version', 'version'], ['Serial Number', 'serial'], ['UUID', 'uuid'], ['SKU Number', 'sku'], ['Family', 'family']],
  },
  {
    title: 'Base Board Information', element: 'baseBoard', many: true,
    keys: [['Manufacturer', 'manufacturer'], ['Product Name', 'product'], ['Version', 'version'], ['Serial Number', 'serial'], ['Asset Tag', 'asset'], ['Location In Chassis', 'location']],
  },
  {
    title: 'Chassis Information', element: 'chassis',
    keys: [['Manufacturer', 'manufacturer'], ['Version', 'version'], ['Serial Number', 'serial'], ['Asset Tag', 'asset'], ['SKU Number', 'sku']],
  },
  {
    title: 'Processor Information', element: 'processor', many: true,
    keys: [['Socket Designation', 'socket_destination'], ['Type', 'type'], ['Family', 'family'], ['Manufacturer', 'manufacturer'], ['Signature', 'signature'],
      ['Version', 'version'], ['External Clock', 'external_clock'], ['Max Speed', 'max_speed'], ['Status', 'status'], ['Serial Number', 'serial_number'], ['Part Number', 'part_number']],
  },
  {
    title: 'Memory Device', element: 'memory_device', many: true,
    keys: [['Size', 'size'], ['Form Factor', 'form_factor'], ['Locator', 'locator'], ['Bank Locator', 'bank_locator'], ['Type', 'type'], ['Type Detail', 'type_detail'],
      ['Speed', 'speed'], ['Manufacturer', 'manufacturer'], ['Serial Number', 'serial_number'], ['Part Number', 'part_number']],
  },
];

/** dmidecode -q output -> [title, key/value lines] per table. */
function parseTables(text: string): { title: string; fields: Section; strings: string[] }[] {
  const out: { title: string; fields: Section; strings: string[] }[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const lines = block.split('\n').filter((l) => l.trim() !== '');
    const title = lines.shift()?.trim();
    if (!title) continue;
    const fields: Section = new Map();
    const strings: string[] = [];
    for (const l of lines) {
      const m = /^\t([^\t:][^:]*):\s?(.*)$/.exec(l);
      if (!m) continue;
      const [, key, value] = m as unknown as [string, string, string];
      if (/^String \d+$/.test(key)) strings.push(value);
      else fields.set(key, value);
    }
    out.push({ title, fields, strings });
  }
  return out;
}

export function sysinfoXml(dmidecodeOutput: string): string {
  const tables = parseTables(dmidecodeOutput);
  const kids: Out[] = [];
  for (const s of SECTIONS) {
    const found = tables.filter((t) => t.title === s.title);
    for (const t of s.many ? found : found.slice(0, 1)) {
      // Empty DIMM slots are not memory devices.
      if (s.element === 'memory_device' && /^No Module Installed/.test(t.fields.get('Size') ?? '')) continue;
      const entries = s.keys
        .filter(([k]) => (t.fields.get(k) ?? '') !== '')
        .map(([k, name]): Out => ({ name: 'entry', attrs: [['name', name]], text: t.fields.get(k) }));
      if (entries.length) kids.push({ name: s.element, kids: entries });
    }
  }
  const oem = tables.filter((t) => t.title === 'OEM Strings').flatMap((t) => t.strings);
  if (oem.length) kids.push({ name: 'oemStrings', kids: oem.map((v): Out => ({ name: 'entry', text: v })) });
  return render({ name: 'sysinfo', attrs: [['type', 'smbios']], kids }).join('\n') + '\n';
}

let cached: Promise<string | undefined> | undefined;

function runDmidecode(): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('dmidecode', ['-q', '-t', '0,1,2,3,4,11,17'], { timeout: 10_000, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout) => {
      resolve(err ? undefined : stdout);
    });
  });
}

export async function hostSysinfo(): Promise<string> {
  cached ??= runDmidecode();
  const text = await cached;
  if (text === undefined) {
    throw VirError.format(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.QEMU, 'unsupported configuration: %s', 'Host SMBIOS information is not available');
  }
  return sysinfoXml(text);
}
