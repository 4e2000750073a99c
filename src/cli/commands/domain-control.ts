// Domain commands of virsh 9.0: interface link state and addresses, CPU statistics, power
// management, keys, disk errors, control state, lifecycle actions, block resize, metadata.
import type { Domain } from '../../api/domain.js';
import type { TypedParameters } from '../../api/info.js';
import { attempt, CliError, type Ctl, type Opts } from '../ctl.js';
import { domainOpt } from '../lookup.js';
import { affectFlags } from './domain-more.js';
import { keycodeValue } from './keycodes.js';
import type { CommandTable } from './types.js';

function exclusive(o: Opts, a: string, b: string): void {
  if (o.has(a) && o.has(b)) throw new CliError(`Options --${a} and --${b} are mutually exclusive`);
}

/** The <interface> elements of a domain XML, each with its MAC and target device. */
function interfaces(xml: string): { text: string; mac: string | undefined; dev: string | undefined }[] {
  const devs = /<devices>([\s\S]*)<\/devices>/.exec(xml)?.[1] ?? '';
  const out = [];
  for (const m of devs.matchAll(/<interface\b[\s\S]*?<\/interface>/g)) {
    const text = m[0];
    out.push({ text, mac: /<mac address=['"]([^'"]*)['"]/.exec(text)?.[1], dev: /<target dev=['"]([^'"]*)['"]/.exec(text)?.[1] });
  }
  return out;
}

/** virMacAddrParse + virMacAddrFormat: a MAC in lower case, or null when the text is none. */
function normalMac(s: string): string | null {
  const parts = s.split(':');
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{1,2}$/.test(p))) return null;
  return parts.map((p) => p.toLowerCase().padStart(2, '0')).join(':');
}

async function domifGetlink(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const xml = await attempt(d.xmlDesc(o.bool('config') ? 2 : 0), '');
  const iface = o.string('interface')!;
  const mac = normalMac(iface);
  const hits = interfaces(xml).filter((i) => (mac !== null && i.mac === mac) || i.dev === iface);
  if (hits.length === 0) throw new CliError(mac !== null ? `Interface (mac: ${mac}) not found.` : `Interface (dev: ${iface}) not found.`);
  if (hits.length > 1) throw new CliError('Only one interface allowed');
  const state = /<link state=['"]([^'"]*)['"]/.exec(hits[0]!.text)?.[1] ?? 'up';
  ctl.print(`${iface} ${state}`);
}

async function domifSetlink(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const iface = o.string('interface')!;
  const state = o.string('state')!;
  if (state !== 'up' && state !== 'down') throw new CliError(`invalid link state '${state}'`);
  const config = o.bool('config');
  // A running domain's live definition, unless --config; an inactive one only has its config.
  const active = await d.isActive().catch(() => false);
  const flags = config || !active ? 2 : 1;
  const xml = await attempt(d.xmlDesc(config ? 2 : 0), '');
  const mac = normalMac(iface);
  const hits = interfaces(xml).filter((i) => (mac !== null && i.mac === mac) || i.dev === iface);
  if (hits.length === 0) throw new CliError(`interface '${iface}' not found`);
  if (hits.length > 1) throw new CliError(`multiple matching interfaces found`);
  // As libxml2 writes the edited node: attributes in double quotes, a new <link> last.
  let dev = hits[0]!.text.replace(/='([^']*)'/g, (_m, v: string) => `="${v.replace(/"/g, '&quot;')}"`);
  if (/<link\b[^>]*\/>/.test(dev)) dev = dev.replace(/<link\b[^>]*\/>/, `<link state="${state}"/>`);
  else dev = dev.replace(/<\/interface>$/, `<link state="${state}"/></interface>`);
  if (o.bool('print-xml')) {
    ctl.print(dev);
    return;
  }
  await attempt(d.updateDevice(dev, flags), 'Failed to update interface link state');
  ctl.print('Device updated successfully\n');
}

const ADDR_SOURCES = ['lease', 'agent', 'arp'];

async function domifaddr(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const only = o.string('interface');
  const full = o.bool('full');
  const srcName = o.string('source');
  let source = 0;
  if (srcName !== undefined) {
    source = ADDR_SOURCES.indexOf(srcName);
    if (source < 0) throw new CliError(`Unknown data source '${srcName}'`);
  }
  const ifaces = await attempt(d.interfaceAddresses(source), 'Failed to query for interfaces addresses');
  const row = (a: string, b: string, c: string, e: string) => ` ${a.padEnd(10)} ${b.padEnd(17)}    ${c.padEnd(12)} ${e}\n`;
  let out = ` ${'Name'.padEnd(10)} ${'MAC address'.padEnd(20)} ${'Protocol'.padEnd(8)}     Address\n${'-'.repeat(79)}\n`;
  ctl.printExtra(out);
  out = '';
  for (const i of ifaces) {
    if (only !== undefined && only !== i.name) continue;
    const hw = i.hwaddr ?? 'N/A';
    if (i.addrs.length === 0) {
      out += row(i.name, hw, 'N/A', 'N/A');
      continue;
    }
    i.addrs.forEach((a, j) => {
      const type = a.type === 0 ? 'ipv4' : a.type === 1 ? 'ipv6' : '';
      const text = `${a.addr}/${a.prefix}`;
      out += !full && j > 0 ? row('-', '-', type, text) : row(i.name, hw, type, text);
    });
  }
  ctl.print(out);
}

function cpuStatLines(p: TypedParameters): string {
  let out = '';
  for (const [field, v] of Object.entries(p)) {
    if (field.endsWith('_time') && typeof v.value === 'bigint') {
      const ns = v.value;
      out += `\t${field.padEnd(15)} ${String(ns / 1_000_000_000n).padStart(6)}.${String(ns % 1_000_000_000n).padStart(9, '0')} seconds\n`;
    } else out += `\t${field.padEnd(15)} ${String(v.value)}\n`;
  }
  return out;
}

async function cpuStats(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  let cpu = o.int('start') ?? 0;
  if (cpu < 0) throw new CliError('Invalid value for start CPU');
  let count = o.int('count');
  if (count !== undefined && count < 0) throw new CliError('Invalid value for number of CPUs to show');
  let total = o.bool('total');
  let perCpu = count !== undefined || o.has('start');
  if (!total && !perCpu) total = perCpu = true;
  if (perCpu) {
    const stats = await attempt(d.cpuStats(false), `Failed to retrieve CPU statistics for domain '${d.name}'`);
    const max = stats.length;
    if (cpu >= max) throw new CliError(`Start CPU ${cpu} is out of range (min: 0, max: ${max - 1})`);
    if (count === undefined || count > max) {
      if (count !== undefined) ctl.print(`Only ${max} CPUs available to show\n`);
      count = max - cpu;
    }
    count = Math.min(count, max - cpu);
    let out = '';
    for (; count > 0; cpu++, count--) {
      const p = stats[cpu]!;
      if (Object.keys(p).length === 0) continue;
      out += `CPU${cpu}:\n${cpuStatLines(p)}`;
    }
    ctl.print(out);
  }
  if (total) {
    const [p] = await attempt(d.cpuStats(true), `Failed to retrieve CPU statistics for domain '${d.name}'`);
    ctl.print(`Total:\n${cpuStatLines(p ?? {})}`);
  }
}

/** virBitmapFormat: "0-2,5". */
function cpuRanges(cpus: readonly boolean[]): string {
  const parts: string[] = [];
  for (let i = 0; i < cpus.length; i++) {
    if (!cpus[i]) continue;
    let j = i;
    while (cpus[j + 1]) j++;
    parts.push(j === i ? String(i) : `${i}-${j}`);
    i = j;
  }
  return parts.join(',');
}

async function nodecpumap(ctl: Ctl, o: Opts): Promise<void> {
  const m = await attempt(ctl.connection.nodeCpuMap(), 'Unable to get cpu map');
  let out = `${'CPUs present:'.padEnd(15)} ${m.cpus.length}\n${'CPUs online:'.padEnd(15)} ${m.online}\n${'CPU map:'.padEnd(15)} `;
  out += o.bool('pretty') ? cpuRanges(m.cpus) : m.cpus.map((c) => (c ? 'y' : '-')).join('');
  ctl.print(`${out}\n`);
}

async function domjobabort(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  await attempt(o.bool('postcopy') ? d.abortJobFlags(1) : d.abortJob(), '');
}

/** VIR_DOMAIN_METADATA_ELEMENT */
const ELEMENT = 2;

async function metadata(ctl: Ctl, o: Opts): Promise<void> {
  exclusive(o, 'edit', 'set');
  exclusive(o, 'remove', 'set');
  exclusive(o, 'remove', 'edit');
  const flags = affectFlags(o);
  const d = await domainOpt(ctl, o);
  const uri = o.string('uri')!;
  const key = o.string('key');
  const set = o.string('set');
  if ((set !== undefined || o.bool('edit')) && key === undefined) throw new CliError('namespace key is required when modifying metadata');
  if (o.bool('edit')) throw new CliError("command 'metadata' option --edit is not supported by tsvirsh yet");
  if (set !== undefined || o.bool('remove')) {
    await attempt(d.setMetadata(ELEMENT, set ?? null, set !== undefined ? key! : null, uri, flags), '');
    ctl.print(set !== undefined ? 'Metadata modified\n' : 'Metadata removed\n');
    return;
  }
  ctl.print(`${await attempt(d.metadata(ELEMENT, uri, flags), '')}\n`);
}

const PM_TARGETS = ['mem', 'disk', 'hybrid'];

async function dompmsuspend(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const duration = o.uint('duration') ?? 0;
  const target = PM_TARGETS.indexOf(o.string('target')!);
  if (target < 0) throw new CliError('Invalid target');
  await attempt(d.pmSuspendForDuration(target, duration), `Domain '${d.name}' could not be suspended`);
  ctl.print(`Domain '${d.name}' successfully suspended`);
}

async function dompmwakeup(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  await attempt(d.pmWakeup(), `Domain '${d.name}' could not be woken up`);
  ctl.print(`Domain '${d.name}' successfully woken up`);
}

const CODESETS = ['linux', 'xt', 'atset1', 'atset2', 'atset3', 'os_x', 'xt_kbd', 'usb', 'win32', 'qnum'];
/** VIR_DOMAIN_SEND_KEY_MAX_KEYS */
const MAX_KEYS = 16;

/** strtoul with base 0 over the whole word (leading blanks allowed); null when not a number. */
function keyNumber(s: string): number | null {
  const t = s.replace(/^[ \t\n\v\f\r]+/, '');
  let n: number;
  if (/^\+?0[xX][0-9a-fA-F]+$/.test(t)) n = parseInt(t.replace('+', ''), 16);
  else if (/^\+?0[0-7]*$/.test(t)) n = parseInt(t.replace('+', ''), 8);
  else if (/^\+?[1-9]\d*$/.test(t)) n = Number(t);
  else return null;
  return n > 0xffff ? null : n;
}

async function sendKey(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const setName = o.string('codeset') ?? 'linux';
  const holdtime = o.uint('holdtime') ?? 0;
  const codeset = setName === 'rfb' ? CODESETS.indexOf('qnum') : CODESETS.indexOf(setName);
  if (codeset < 0) throw new CliError(`unknown codeset: '${setName}'`);
  const codes: number[] = [];
  for (const word of o.argv('keycode')) {
    if (codes.length === MAX_KEYS) throw new CliError('too many keycodes');
    const n = keyNumber(word) ?? keycodeValue(setName, word);
    if (n === null) throw new CliError(`invalid keycode: '${word}'`);
    codes.push(n);
  }
  await attempt(d.sendKey(codeset, holdtime, codes), '');
}

async function domblkerror(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const errors = await attempt(d.diskErrors(), '');
  if (errors.length === 0) {
    ctl.print('No errors found\n');
    return;
  }
  const text = ['no error', 'unspecified error', 'no space'];
  ctl.print(errors.map((e) => `${e.disk}: ${text[e.error] ?? 'unknown error'}\n`).join(''));
}

const CONTROL_STATES = ['ok', 'background job', 'occupied', 'error'];
const CONTROL_ERRORS = ['none', 'unknown', 'monitor failure', 'internal (locking) error'];

async function domcontrol(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const c = await attempt(d.controlInfo(), '');
  const state = CONTROL_STATES[c.state] ?? 'unknown';
  if (c.state !== 0 && c.state !== 3) ctl.print(`${state} (${(Number(c.stateTime) / 1000).toFixed(3)}s)\n`);
  else if (c.state === 3 && c.details > 0) ctl.print(`${state}: ${CONTROL_ERRORS[c.details] ?? 'unknown'}\n`);
  else ctl.print(`${state}\n`);
}

const LIFECYCLE_TYPES = ['poweroff', 'reboot', 'crash'];
const LIFECYCLE_ACTIONS = ['destroy', 'restart', 'rename-restart', 'preserve', 'coredump-destroy', 'coredump-restart'];

async function setLifecycleAction(ctl: Ctl, o: Opts): Promise<void> {
  const flags = affectFlags(o);
  const d = await domainOpt(ctl, o);
  const typeName = o.string('type')!;
  const actionName = o.string('action')!;
  const type = LIFECYCLE_TYPES.indexOf(typeName);
  if (type < 0) throw new CliError(`Invalid lifecycle type '${typeName}'.`);
  const action = LIFECYCLE_ACTIONS.indexOf(actionName);
  if (action < 0) throw new CliError(`Invalid lifecycle action '${actionName}'.`);
  await attempt(d.setLifecycleAction(type, action, flags), 'Unable to change lifecycle action.');
}

async function blockresize(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  const path = o.string('path')!;
  let size = o.scaled('size', 1024)!;
  let flags = 0;
  // KiB when it divides evenly (the older unit); bytes otherwise.
  if (size % 1024n === 0n) size /= 1024n;
  else flags |= 1;
  await attempt(d.blockResize(path, size, flags), `Failed to resize block device '${path}'`);
  ctl.print(`Block device '${path}' is resized\n`);
}

async function injectNmi(ctl: Ctl, o: Opts): Promise<void> {
  const d: Domain = await domainOpt(ctl, o);
  await attempt(d.injectNmi(), '');
}

export const DOMAIN_CONTROL_COMMANDS: CommandTable = {
  'domif-getlink': domifGetlink,
  'domif-setlink': domifSetlink,
  domifaddr,
  'cpu-stats': cpuStats,
  nodecpumap,
  domjobabort,
  metadata,
  dompmsuspend,
  dompmwakeup,
  'inject-nmi': injectNmi,
  'send-key': sendKey,
  domblkerror,
  domcontrol,
  'set-lifecycle-action': setLifecycleAction,
  blockresize,
};
