// Resource tuning as libvirt 9.0's test driver does it: blkio, memory, NUMA and interface
// bandwidth parameters and per-disk block I/O throttling. Each setter changes the definition
// (so dumpxml shows it) and each getter reads it back; values, limits and errors were checked
// with python/virsh against test:///default.
import type { DriverMethods } from '../../api/driver.js';
import type { BlkioDevice, DomainDef, DomainDisk, DomainNet } from '../../api/xml/domain/types.js';
import { attr, elementsOf, textOf, type XmlEl } from '../../api/xml/tree.js';
import { toKiB } from '../../api/xml/units.js';
import { parseMac } from '../../api/xml/common.js';
import type { RemoteTypedParam } from '../../protocol/gen/remote.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';
import type { DomainStore } from './domains.js';
import { argumentUnsupported, checkFlags, DOMAIN, invalidArg, operationInvalid } from './errors.js';
import { ParamType, validateParams } from './typed-params.js';
import { formatCpuset, parseCpuset } from './cputune.js';

const AFFECT = 3;
const STRING_OKAY = 4;
/** VIR_DOMAIN_MEMORY_PARAM_UNLIMITED: a memtune limit that is not set. */
const UNLIMITED = 9007199254740991n;
const IOTUNE_MAX = 1000000000000000n;

const uint = (field: string, v: number): RemoteTypedParam => ({ field, value: { type: ParamType.UINT, ui: v } });
const ullong = (field: string, v: bigint): RemoteTypedParam => ({ field, value: { type: ParamType.ULLONG, ul: v } });
const str = (field: string, v: string): RemoteTypedParam => ({ field, value: { type: ParamType.STRING, s: v } });
const leaf = (name: string, attrs: [string, string][], text?: string): XmlEl => ({ name, attrs, children: text === undefined ? [] : [{ text }] });

/** The getters' protocol: nparams 0 asks for the count, otherwise at most nparams values. */
function answer(nparams: number, total: number, all: () => RemoteTypedParam[]): { params: RemoteTypedParam[]; nparams: number } {
  if (nparams === 0) return { params: [], nparams: total };
  const params = all().slice(0, nparams);
  return { params, nparams: params.length };
}

// ---- blkio ----------------------------------------------------------------------------

const BLKIO_DEVICE_FIELDS: [string, keyof Omit<BlkioDevice, 'path'>][] = [
  ['device_weight', 'weight'],
  ['device_read_iops_sec', 'readIopsSec'],
  ['device_write_iops_sec', 'writeIopsSec'],
  ['device_read_bytes_sec', 'readBytesSec'],
  ['device_write_bytes_sec', 'writeBytesSec'],
];

function blkioParams(def: DomainDef): RemoteTypedParam[] {
  const b = def.blkiotune;
  const devs = b?.devices ?? [];
  return [
    uint('weight', Number(b?.weight ?? 0)),
    ...BLKIO_DEVICE_FIELDS.map(([field, key]) =>
      str(field, devs.flatMap((d) => (d[key] !== undefined && d[key] !== '0' ? [`${d.path},${d[key]}`] : [])).join(',')),
    ),
  ];
}

/** virDomainDriverParseBlkioDeviceStr + merge: a 0 value drops the setting, an emptied device goes. */
function setBlkioDevices(def: DomainDef, field: string, key: keyof Omit<BlkioDevice, 'path'>, text: string): void {
  const parts = text.split(',');
  if (parts.length % 2 !== 0) throw invalidArg(`unable to parse blkio device '${field}' '${text}'`, DOMAIN);
  const b = (def.blkiotune ??= { devices: [] });
  for (let i = 0; i < parts.length; i += 2) {
    const path = parts[i] ?? '';
    const value = parts[i + 1] ?? '';
    if (!/^\d+$/.test(value)) throw invalidArg(`invalid value '${value}' for parameter '${field}' of device '${path}'`, DOMAIN);
    const v = BigInt(value).toString();
    const dev = b.devices.find((d) => d.path === path);
    if (dev) {
      if (v === '0') delete dev[key];
      else dev[key] = v;
    } else if (v !== '0') {
      b.devices.push({ path, [key]: v });
    }
  }
  b.devices = b.devices.filter((d) => BLKIO_DEVICE_FIELDS.some(([, k]) => d[k] !== undefined));
}

// ---- memtune --------------------------------------------------------------------------

const MEMTUNE = ['hard_limit', 'soft_limit', 'min_guarantee', 'swap_hard_limit'];

function readMemtune(def: DomainDef): Map<string, bigint> {
  const m = new Map<string, bigint>();
  const el = def.sections.get('memtune')?.[0];
  for (const c of el ? elementsOf(el) : []) {
    const t = textOf(c)?.trim();
    if (t && /^\d+$/.test(t)) m.set(c.name, toKiB(BigInt(t), attr(c, 'unit')));
  }
  return m;
}

function writeMemtune(def: DomainDef, m: Map<string, bigint>): void {
  const kids = MEMTUNE.flatMap((n) => {
    const v = m.get(n);
    if (v === undefined || (n === 'min_guarantee' ? v === 0n : v >= UNLIMITED)) return [];
    return [leaf(n, [['unit', 'KiB']], String(v))];
  });
  if (kids.length) def.sections.set('memtune', [{ name: 'memtune', attrs: [], children: kids }]);
  else def.sections.delete('memtune');
}

// ---- numatune -------------------------------------------------------------------------

const NUMA_MODES = ['strict', 'preferred', 'interleave', 'restrictive'];

/** virBitmapParse's syntax check (the test driver reports failures from util code). */
function strictCpuset(s: string): number[] {
  if (!s.split(',').every((p) => /^\s*\^?\d+(-\d+)?\s*$/.test(p))) {
    throw VirError.format(VirErrorNumber.INVALID_ARG, VirErrorDomain.NONE, 'invalid argument: %s', `Failed to parse bitmap '${s}'`);
  }
  return parseCpuset(s);
}

// ---- interface bandwidth --------------------------------------------------------------

interface Rate {
  average: number;
  peak: number;
  burst: number;
  floor: number;
}
const noRate = (): Rate => ({ average: 0, peak: 0, burst: 0, floor: 0 });

function readRate(el: XmlEl | undefined): Rate | undefined {
  if (!el) return undefined;
  const n = (k: string): number => Number(attr(el, k) ?? 0);
  return { average: n('average'), peak: n('peak'), burst: n('burst'), floor: n('floor') };
}

/** virNetDevBandwidthRateFormat: average, peak, floor, burst, each only when set. */
function rateEl(name: string, r: Rate): XmlEl {
  const attrs: [string, string][] = [];
  for (const k of ['average', 'peak', 'floor', 'burst'] as const) if (r[k]) attrs.push([k, String(r[k])]);
  return leaf(name, attrs);
}

/** virDomainNetFind: a MAC address matches <mac>, anything else the target device name. */
function findNet(def: DomainDef, device: string): DomainNet {
  const mac = parseMac(device);
  const net = mac ? def.devices.nets.find((n) => n.mac === mac) : def.devices.nets.find((n) => n.targetDev === device);
  if (!net) throw invalidArg(`'${device}' is not a known interface`, DOMAIN);
  return net;
}

const IFACE_FIELDS = ['inbound.average', 'inbound.peak', 'inbound.burst', 'inbound.floor', 'outbound.average', 'outbound.peak', 'outbound.burst'];

// ---- block I/O tune -------------------------------------------------------------------

const IOTUNE_FIELDS = [
  'total_bytes_sec', 'read_bytes_sec', 'write_bytes_sec', 'total_iops_sec', 'read_iops_sec', 'write_iops_sec',
  'total_bytes_sec_max', 'read_bytes_sec_max', 'write_bytes_sec_max', 'total_iops_sec_max', 'read_iops_sec_max', 'write_iops_sec_max',
  'size_iops_sec', 'group_name', 'total_bytes_sec_max_length', 'read_bytes_sec_max_length', 'write_bytes_sec_max_length',
  'total_iops_sec_max_length', 'read_iops_sec_max_length', 'write_iops_sec_max_length',
];

/** virDomainDiskByName with sources allowed: target name or source path. */
function findDisk(def: DomainDef, name: string): DomainDisk | undefined {
  return def.devices.disks.find((d) => d.targetDev === name) ?? def.devices.disks.find((d) => {
    const s = d.source;
    return s !== undefined && [attr(s, 'file'), attr(s, 'dev'), attr(s, 'dir'), attr(s, 'name')].includes(name);
  });
}

function readIotune(d: DomainDisk): Map<string, string> {
  const m = new Map<string, string>();
  for (const c of d.iotune ? elementsOf(d.iotune) : []) m.set(c.name, textOf(c)?.trim() ?? '');
  return m;
}

function writeIotune(d: DomainDisk, m: Map<string, string>): void {
  const kids = IOTUNE_FIELDS.flatMap((f) => {
    const v = m.get(f);
    return v === undefined || v === '' || v === '0' ? [] : [leaf(f, [], v)];
  });
  d.iotune = kids.length ? { name: 'iotune', attrs: [], children: kids } : undefined;
}

export function domainTuningMethods(store: DomainStore): DriverMethods {
  const r = store.resolve.bind(store);

  return {
    DOMAIN_GET_BLKIO_PARAMETERS: ({ dom, nparams, flags }) => {
      checkFlags('testDomainGetBlkioParameters', flags, AFFECT | STRING_OKAY);
      if (nparams === 0) return { params: [], nparams: 6 };
      const { def } = store.oneDef(r(dom), flags & ~STRING_OKAY);
      return answer(nparams, 6, () => blkioParams(def));
    },
    DOMAIN_SET_BLKIO_PARAMETERS: ({ dom, params, flags }) => {
      checkFlags('testDomainSetBlkioParameters', flags, AFFECT);
      validateParams(params, { weight: ParamType.UINT, ...Object.fromEntries(BLKIO_DEVICE_FIELDS.map(([f]) => [f, ParamType.STRING])) });
      const { def } = store.oneDef(r(dom), flags);
      for (const p of params) {
        if (p.value.type === ParamType.UINT) {
          (def.blkiotune ??= { devices: [] }).weight = p.value.ui === 0 ? undefined : String(p.value.ui);
        } else if (p.value.type === ParamType.STRING) {
          const key = BLKIO_DEVICE_FIELDS.find(([f]) => f === p.field)?.[1];
          if (key) setBlkioDevices(def, p.field, key, p.value.s);
        }
      }
      if (def.blkiotune && def.blkiotune.weight === undefined && def.blkiotune.devices.length === 0) def.blkiotune = undefined;
    },
    DOMAIN_GET_MEMORY_PARAMETERS: ({ dom, nparams, flags }) => {
      checkFlags('testDomainGetMemoryParameters', flags, AFFECT | STRING_OKAY);
      if (nparams === 0) return { params: [], nparams: 3 };
      const { def } = store.oneDef(r(dom), flags & ~STRING_OKAY);
      const m = readMemtune(def);
      return answer(nparams, 3, () => ['hard_limit', 'soft_limit', 'swap_hard_limit'].map((f) => ullong(f, m.get(f) ?? UNLIMITED)));
    },
    DOMAIN_SET_MEMORY_PARAMETERS: ({ dom, params, flags }) => {
      checkFlags('testDomainSetMemoryParameters', flags, AFFECT);
      validateParams(params, { hard_limit: ParamType.ULLONG, soft_limit: ParamType.ULLONG, swap_hard_limit: ParamType.ULLONG });
      const d = r(dom);
      const { def } = store.oneDef(d, flags);
      const set = new Map<string, bigint>();
      for (const p of params) if (p.value.type === ParamType.ULLONG) set.set(p.field, p.value.ul);
      if (set.has('hard_limit') || set.has('swap_hard_limit')) {
        // Compared against the running definition's limits, whichever definition is changed.
        const cur = readMemtune(d.def);
        const hard = set.get('hard_limit') ?? cur.get('hard_limit') ?? UNLIMITED;
        const swap = set.get('swap_hard_limit') ?? cur.get('swap_hard_limit') ?? UNLIMITED;
        if (hard > swap) throw invalidArg('memory hard_limit tunable value must be lower than or equal to swap_hard_limit');
      }
      const m = readMemtune(def);
      for (const [k, v] of set) m.set(k, v);
      writeMemtune(def, m);
    },
    DOMAIN_GET_NUMA_PARAMETERS: ({ dom, nparams, flags }) => {
      checkFlags('testDomainGetNumaParameters', flags, AFFECT | STRING_OKAY);
      if (nparams === 0) return { params: [], nparams: 2 };
      const { def } = store.oneDef(r(dom), flags & ~STRING_OKAY);
      const mem = numaMemory(def);
      const mode = Math.max(0, NUMA_MODES.indexOf(attr(mem, 'mode') ?? 'strict'));
      const nodeset = attr(mem, 'nodeset');
      return answer(nparams, 2, () => [
        { field: 'numa_mode', value: { type: ParamType.INT, i: mode } },
        str('numa_nodeset', nodeset === undefined ? '' : formatCpuset(parseCpuset(nodeset))),
      ]);
    },
    DOMAIN_SET_NUMA_PARAMETERS: ({ dom, params, flags }) => {
      checkFlags('testDomainSetNumaParameters', flags, AFFECT);
      validateParams(params, { numa_mode: ParamType.INT, numa_nodeset: ParamType.STRING });
      const { def, live } = store.oneDef(r(dom), flags);
      let mode = -1;
      let nodeset: number[] | undefined;
      for (const p of params) {
        if (p.value.type === ParamType.INT) {
          mode = p.value.i;
          if (mode < 0 || mode >= NUMA_MODES.length) throw invalidArg(`unsupported numatune mode: '${mode}'`);
        } else if (p.value.type === ParamType.STRING) {
          nodeset = strictCpuset(p.value.s);
          if (nodeset.length === 0) throw operationInvalid(`Invalid nodeset of 'numatune': ${p.value.s}`);
        }
      }
      const mem = numaMemory(def);
      const curMode = mem ? NUMA_MODES.indexOf(attr(mem, 'mode') ?? 'strict') : -1;
      if (live && mode !== -1 && curMode !== -1 && curMode !== mode) throw operationInvalid("can't change numatune mode for running domain");
      const curSet = attr(mem, 'nodeset');
      const finalSet = nodeset ? formatCpuset(nodeset) : curSet === undefined ? undefined : formatCpuset(parseCpuset(curSet));
      if (finalSet === undefined) {
        if (mode === -1) return;
        throw VirError.format(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.DOMAIN, 'unsupported configuration: %s', "nodeset for NUMA memory tuning must be set if 'placement' is 'static'");
      }
      const finalMode = NUMA_MODES[mode !== -1 ? mode : Math.max(0, curMode)] ?? 'strict';
      const memEl = leaf('memory', [['mode', finalMode], ['nodeset', finalSet]]);
      const old = def.sections.get('numatune')?.[0];
      const rest = old ? elementsOf(old).filter((c) => c.name !== 'memory') : [];
      def.sections.set('numatune', [{ name: 'numatune', attrs: [], children: [memEl, ...rest] }]);
    },
    DOMAIN_GET_INTERFACE_PARAMETERS: ({ dom, device, nparams, flags }) => {
      checkFlags('testDomainGetInterfaceParameters', flags, AFFECT | STRING_OKAY);
      if (nparams === 0) return { params: [], nparams: 7 };
      const { def } = store.oneDef(r(dom), flags & ~STRING_OKAY);
      const bw = findNet(def, device).rest.find((e) => e.name === 'bandwidth');
      const inb = readRate(bw && elementsOf(bw, 'inbound')[0]) ?? noRate();
      const out = readRate(bw && elementsOf(bw, 'outbound')[0]) ?? noRate();
      const vals = [inb.average, inb.peak, inb.burst, inb.floor, out.average, out.peak, out.burst];
      return answer(nparams, 7, () => IFACE_FIELDS.map((f, i) => uint(f, vals[i] ?? 0)));
    },
    DOMAIN_SET_INTERFACE_PARAMETERS: ({ dom, device, params, flags }) => {
      checkFlags('testDomainSetInterfaceParameters', flags, AFFECT);
      validateParams(params, Object.fromEntries(IFACE_FIELDS.map((f) => [f, ParamType.UINT])));
      const { def } = store.oneDef(r(dom), flags);
      const net = findNet(def, device);
      const inb = noRate();
      const out = noRate();
      let inSpecified = false;
      let outSpecified = false;
      for (const p of params) {
        if (p.value.type !== ParamType.UINT) continue;
        const [dir, key] = p.field.split('.') as ['inbound' | 'outbound', keyof Rate];
        (dir === 'inbound' ? inb : out)[key] = p.value.ui;
        if (dir === 'inbound' && (key === 'average' || key === 'floor')) inSpecified = true;
        if (dir === 'outbound' && key === 'average') outSpecified = true;
      }
      // average (or floor, inbound) is what makes a direction present.
      const newIn = inb.average || inb.floor ? inb : undefined;
      const newOut = out.average ? out : undefined;
      const at = net.rest.findIndex((e) => e.name === 'bandwidth');
      const old = at >= 0 ? net.rest[at] : undefined;
      let keepIn = readRate(old && elementsOf(old, 'inbound')[0]);
      let keepOut = readRate(old && elementsOf(old, 'outbound')[0]);
      if (!old) {
        keepIn = newIn;
        keepOut = newOut;
      } else {
        if (newIn) keepIn = newIn;
        else if (inSpecified) keepIn = undefined;
        if (newOut) keepOut = newOut;
        else if (outSpecified) keepOut = undefined;
      }
      const el: XmlEl = {
        name: 'bandwidth',
        attrs: [],
        children: [...(keepIn ? [rateEl('inbound', keepIn)] : []), ...(keepOut ? [rateEl('outbound', keepOut)] : [])],
      };
      if (at >= 0) net.rest[at] = el;
      else net.rest.push(el);
    },
    DOMAIN_GET_BLOCK_IO_TUNE: ({ dom, disk, nparams, flags }) => {
      checkFlags('testDomainGetBlockIoTune', flags, AFFECT | STRING_OKAY);
      if (nparams === 0) return { params: [], nparams: 20 };
      const { def } = store.oneDef(r(dom), flags & ~STRING_OKAY);
      const found = findDisk(def, disk ?? '');
      if (!found) throw invalidArg(`disk '${disk ?? ''}' was not found in the domain config`);
      const m = readIotune(found);
      return answer(nparams, 20, () =>
        IOTUNE_FIELDS.map((f) => (f === 'group_name' ? str(f, m.get(f) ?? '') : ullong(f, BigInt(m.get(f) ?? '0')))),
      );
    },
    DOMAIN_SET_BLOCK_IO_TUNE: ({ dom, disk, params, flags }) => {
      checkFlags('testDomainSetBlockIoTune', flags, AFFECT);
      validateParams(params, Object.fromEntries(IOTUNE_FIELDS.map((f) => [f, f === 'group_name' ? ParamType.STRING : ParamType.ULLONG])));
      const { def } = store.oneDef(r(dom), flags);
      const found = findDisk(def, disk);
      if (!found) throw invalidArg(`missing persistent configuration for disk '${disk}'`);
      const m = readIotune(found);
      for (const p of params) {
        if (p.value.type === ParamType.ULLONG) {
          if (p.value.ul > IOTUNE_MAX) throw argumentUnsupported(`block I/O throttle limit value must be no more than ${IOTUNE_MAX}`);
          m.set(p.field, String(p.value.ul));
        } else if (p.value.type === ParamType.STRING) {
          m.set(p.field, p.value.s);
        }
      }
      const n = (f: string): bigint => BigInt(m.get(f) || '0');
      for (const kind of ['bytes_sec', 'iops_sec', 'bytes_sec_max', 'iops_sec_max']) {
        if (n(`total_${kind}`) && (n(`read_${kind}`) || n(`write_${kind}`))) {
          throw invalidArg(`total and read/write of ${kind} cannot be set at the same time`);
        }
      }
      for (const f of ['total_bytes_sec', 'read_bytes_sec', 'write_bytes_sec', 'total_iops_sec', 'read_iops_sec', 'write_iops_sec']) {
        // libvirt's message ends with a space.
        if (n(f) > n(`${f}_max`)) throw invalidArg(`${f} cannot be set higher than ${f}_max `);
      }
      writeIotune(found, m);
    },
  };
}

function numaMemory(def: DomainDef): XmlEl | undefined {
  const el = def.sections.get('numatune')?.[0];
  return el ? elementsOf(el, 'memory')[0] : undefined;
}
