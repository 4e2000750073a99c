// The test driver's fake guest-agent and monitor answers: control info, guest time, file
// system freeze/thaw/trim/info, disk errors, interface addresses, CPU statistics, key and
// signal injection, memory peek, core dumps, save-image XML, perf events and lifecycle actions.
// Values and errors are libvirt 9.0's test driver's (checked with python against test:///default).
import type { DriverMethods } from '../../api/driver.js';
import type { DomainDef } from '../../api/xml/domain/types.js';
import type { XmlEl } from '../../api/xml/tree.js';
import { attr, elementsOf } from '../../api/xml/tree.js';
import { formatDomain } from '../../api/xml/domain/format.js';
import { parseDomainXml } from '../../api/xml/domain/parse.js';
import { applyTestDomainDefaults } from './xml/domain-defaults.js';
import type { RemoteDomainInterface, RemoteTypedParam } from '../../protocol/gen/remote.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';
import type { DomainObj } from './domain-obj.js';
import type { DomainStore } from './domains.js';
import type { NetworkStore } from './networks.js';
import { Lifecycle } from './events.js';
import { checkFlags, internalError, invalidArg, notRunning, operationInvalid, operationUnsupported, argumentUnsupported, apiInvalidArg, xmlParse } from './errors.js';
import { readSaveImage, writeSaveImage } from './save-image.js';
import { systemError } from './errors.js';
import { writeFileSync } from 'node:fs';
import { validateParams } from './typed-params.js';

/** testDomainObjPrivate: guest clock and frozen file systems ("/" and "/boot"). */
interface Private {
  seconds: bigint;
  nseconds: number;
  frozen: [boolean, boolean];
}

const TOTAL_CPUTIME = 48772617035n;
const STOPPED_CRASHED = 2;
const SHUTOFF_CRASHED = 3;
const DUMP_CRASH = 1;
const MOUNTS = ['/', '/boot'];

const PERF_EVENTS = [
  'cmt', 'mbmt', 'mbml', 'cpu_cycles', 'instructions', 'cache_references', 'cache_misses', 'branch_instructions',
  'branch_misses', 'bus_cycles', 'stalled_cycles_frontend', 'stalled_cycles_backend', 'ref_cpu_cycles', 'cpu_clock',
  'task_clock', 'page_faults', 'context_switches', 'cpu_migrations', 'page_faults_min', 'page_faults_maj',
  'alignment_faults', 'emulation_faults',
];
const LIFECYCLE_TYPES = ['poweroff', 'reboot', 'crash'] as const;
const LIFECYCLE_ACTIONS = ['destroy', 'restart', 'rename-restart', 'preserve', 'coredump-destroy', 'coredump-restart'];

const ull = (field: string, v: bigint): RemoteTypedParam => ({ field, value: { type: 4, ul: v } });

export function domainMiscMethods(store: DomainStore, networks: NetworkStore): DriverMethods {
  const privs = new WeakMap<DomainObj, Private>();
  const priv = (d: DomainObj): Private => {
    let p = privs.get(d);
    if (!p) privs.set(d, (p = { seconds: 627319920n, nseconds: 0, frozen: [false, false] }));
    return p;
  };
  const active = (d: DomainObj): DomainObj => {
    if (!d.active) throw notRunning();
    return d;
  };
  const r = store.resolve.bind(store);

  /** Freeze (to=true) or thaw the named mount points; returns how many changed. */
  const fsFlip = (d: DomainObj, mounts: string[], to: boolean): number => {
    const p = priv(d);
    if (mounts.length === 0) {
      const n = p.frozen.filter((f) => f !== to).length;
      p.frozen = [to, to];
      return n;
    }
    const next: [boolean, boolean] = [...p.frozen];
    let n = 0;
    for (const m of mounts) {
      const i = MOUNTS.indexOf(m);
      if (i < 0) throw operationInvalid(`mount point not found: ${m}`);
      if (next[i] !== to) {
        next[i] = to;
        n++;
      }
    }
    p.frozen = next;
    return n;
  };

  return {
    DOMAIN_GET_CONTROL_INFO: ({ dom, flags }) => {
      checkFlags('testDomainGetControlInfo', flags, 0);
      const s = priv(active(r(dom))).seconds;
      if (s > 0n && s < 10000n) return { state: 1, details: 0, stateTime: s };
      if (s >= 10000n && s < 30000n) return { state: 2, details: 0, stateTime: s - 10000n };
      if (s >= 30000n && s < 60000n) return { state: 3, details: Number(s % 4n), stateTime: s - 30000n };
      return { state: 0, details: 0, stateTime: 0n };
    },
    DOMAIN_GET_TIME: ({ dom, flags }) => {
      checkFlags('testDomainGetTime', flags, 0);
      const d = r(dom);
      if (d.state !== 1) throw operationInvalid('domain is not running');
      const p = priv(d);
      return { seconds: p.seconds, nseconds: p.nseconds };
    },
    DOMAIN_SET_TIME: ({ dom, seconds, nseconds, flags }) => {
      checkFlags('testDomainSetTime', flags, 1);
      const p = priv(active(r(dom)));
      p.seconds = seconds;
      p.nseconds = nseconds;
    },
    DOMAIN_FSFREEZE: ({ dom, mountpoints, flags }) => {
      checkFlags('testDomainFSFreeze', flags, 0);
      return { filesystems: fsFlip(active(r(dom)), mountpoints, true) };
    },
    DOMAIN_FSTHAW: ({ dom, mountpoints, flags }) => {
      checkFlags('testDomainFSThaw', flags, 0);
      return { filesystems: fsFlip(active(r(dom)), mountpoints, false) };
    },
    DOMAIN_FSTRIM: ({ dom, mountPoint, flags }) => {
      checkFlags('testDomainFSTrim', flags, 0);
      active(r(dom));
      if (mountPoint !== null && !MOUNTS.includes(mountPoint)) throw operationInvalid(`mount point not found: ${mountPoint}`);
    },
    DOMAIN_GET_FSINFO: ({ dom, flags }) => {
      checkFlags('testDomainGetFSInfo', flags, 0);
      const disk = active(r(dom)).def.devices.disks.find((x) => x.device === 'disk');
      if (!disk) return { info: [], ret: 0 };
      const n = disk.targetDev;
      return {
        info: [
          { mountpoint: '/', name: `${n}1`, fstype: 'ext4', devAliases: [n] },
          { mountpoint: '/boot', name: `${n}2`, fstype: 'ext4', devAliases: [n] },
        ],
        ret: 2,
      };
    },
    DOMAIN_GET_DISK_ERRORS: ({ dom, maxerrors, flags }) => {
      checkFlags('testDomainGetDiskErrors', flags, 0);
      const disks = active(r(dom)).def.devices.disks;
      // The wire always asks for the errors themselves; error codes cycle through 1..3.
      return { errors: disks.slice(0, maxerrors).map((x, i) => ({ disk: x.targetDev, error: (i % 3) + 1 })), nerrors: disks.length };
    },
    DOMAIN_INTERFACE_ADDRESSES: ({ dom, source, flags }) => {
      checkFlags('testDomainInterfaceAddresses', flags, 0);
      if (source >= 3) throw argumentUnsupported(`Unknown IP address data source ${source}`);
      const d = active(r(dom));
      const ifaces: RemoteDomainInterface[] = d.def.devices.nets.map((net, i) => {
        let addr = { type: 0, addr: `192.168.0.${1 + i}`, prefix: 24 };
        const netName = net.type === 'network' ? attr(net.source, 'network') : undefined;
        if (netName !== undefined) addr = addressFromNetwork(networks, netName, 20 * (d.id - 1) + i + 1);
        return { name: net.targetDev ?? '', hwaddr: net.mac, addrs: [addr] };
      });
      return { ifaces };
    },
    DOMAIN_GET_CPU_STATS: ({ dom, nparams, startCpu, ncpus, flags }) => {
      checkFlags('testDomainGetCPUStats', flags, 4);
      active(r(dom));
      if (startCpu === -1) {
        if (nparams === 0) return { params: [], nparams: 3 };
        const all = [ull('cpu_time', TOTAL_CPUTIME), ull('user_time', 5540000000n), ull('system_time', 6460000000n)];
        const n = Math.min(nparams, 3);
        return { params: all.slice(0, n), nparams: n };
      }
      const total = store.host.cores;
      if (ncpus === 0) return { params: [], nparams: total };
      if (nparams === 0) return { params: [], nparams: 2 };
      if (startCpu >= total) throw invalidArg(`start_cpu ${startCpu} larger than maximum of ${total - 1}`);
      const per = TOTAL_CPUTIME / BigInt(total);
      const params: RemoteTypedParam[] = [];
      for (let i = startCpu; i < Math.min(total, startCpu + ncpus); i++) {
        params.push(ull('cpu_time', per + BigInt(i)));
        if (nparams > 1) params.push(ull('vcpu_time', per + BigInt(i) - 1234567890n));
      }
      return { params, nparams: Math.min(nparams, 2) };
    },
    DOMAIN_SEND_KEY: ({ dom, codeset, keycodes, flags }) => {
      checkFlags('testDomainSendKey', flags, 0);
      active(r(dom));
      const name = CODESETS[codeset] ?? String(codeset);
      for (const k of keycodes) {
        if (k > (KEYCODE_MAX[codeset] ?? 0xffff)) throw internalError(`invalid keycode ${k} of ${name} codeset`);
      }
    },
    DOMAIN_INJECT_NMI: ({ dom, flags }) => {
      checkFlags('testDomainInjectNMI', flags, 0);
      active(r(dom));
    },
    DOMAIN_SEND_PROCESS_SIGNAL: ({ dom, pidValue, signum, flags }) => {
      checkFlags('testDomainSendProcessSignal', flags, 0);
      if (pidValue !== 1n) throw invalidArg('only sending a signal to pid 1 is supported');
      if (signum >= 65) throw invalidArg(`signum value ${signum} is out of range`);
      r(dom);
    },
    DOMAIN_MEMORY_PEEK: ({ dom, offset, size, flags }) => {
      if ((flags & 3) === 3) {
        throw apiInvalidArg('virDomainMemoryPeek', 'flags', "Flags 'VIR_MEMORY_VIRTUAL' and 'VIR_MEMORY_PHYSICAL' are mutually exclusive");
      }
      checkFlags('testDomainMemoryPeek', flags, 3);
      if (flags === 0) throw invalidArg('flags parameter must be VIR_MEMORY_VIRTUAL or VIR_MEMORY_PHYSICAL');
      r(dom);
      const buffer = new Uint8Array(size);
      for (let i = 0; i < size; i++) buffer[i] = Number((offset + BigInt(i)) & 0xffn);
      return { buffer };
    },
    DOMAIN_SET_USER_PASSWORD: ({ dom, flags }) => {
      checkFlags('testDomainSetUserPassword', flags, 1);
      active(r(dom));
    },
    DOMAIN_GET_LAUNCH_SECURITY_INFO: ({ flags }) => {
      // The public API adds VIR_TYPED_PARAM_STRING_OKAY, which this driver refuses: it always fails.
      checkFlags('testDomainGetLaunchSecurityInfo', flags | 4, 0);
      return { params: [] };
    },
    DOMAIN_SET_MEMORY_STATS_PERIOD: ({ dom, period, flags }) => {
      checkFlags('testDomainSetMemoryStatsPeriod', flags, 3);
      const { def } = store.oneDef(r(dom), flags);
      const balloon = def.devices.others.find((o) => o.kind === 'memballoon' && attr(o.el, 'model') !== 'none');
      if (!balloon) throw internalError('No memory balloon device configured, can not set the collection period');
      setBalloonPeriod(balloon.el, period);
    },
    DOMAIN_CORE_DUMP: ({ dom, to, flags }) => coreDump(store, dom, to, 0, flags),
    DOMAIN_CORE_DUMP_WITH_FORMAT: ({ dom, to, dumpformat, flags }) => coreDump(store, dom, to, dumpformat, flags),
    DOMAIN_SAVE_IMAGE_GET_XML_DESC: ({ file, flags }) => {
      checkFlags('testDomainSaveImageGetXMLDesc', flags, 1);
      return { xml: formatDomain(parseImage(readSaveImage(file)), { inactive: true, secure: true }) };
    },
    DOMAIN_SAVE_IMAGE_DEFINE_XML: ({ file, dxml, flags }) => {
      checkFlags('testDomainSaveImageDefineXML', flags, 6);
      readSaveImage(file);
      const def = parseImage(dxml);
      writeSaveImage(file, def.name, formatDomain(def, { inactive: true, secure: true }));
    },
    DOMAIN_GET_PERF_EVENTS: ({ dom, flags }) => {
      checkFlags('testDomainGetPerfEvents', flags, 7);
      const on = perfState(store.oneDef(r(dom), flags).def);
      return { params: PERF_EVENTS.map((field) => ({ field, value: { type: 6 as const, b: on.get(field) === 'yes' ? 1 : 0 } })) };
    },
    DOMAIN_SET_PERF_EVENTS: ({ dom, params, flags }) => {
      checkFlags('testDomainSetPerfEvents', flags, 3);
      validateParams(params, Object.fromEntries(PERF_EVENTS.map((e) => [e, 6])));
      const { def } = store.oneDef(r(dom), flags);
      const on = perfState(def);
      for (const p of params) on.set(p.field, p.value.type === 6 && p.value.b ? 'yes' : 'no');
      setPerf(def, on);
    },
    DOMAIN_SET_LIFECYCLE_ACTION: ({ dom, type, action, flags }) => {
      checkFlags('testDomainSetLifecycleAction', flags, 3);
      const t = LIFECYCLE_TYPES[type];
      const a = LIFECYCLE_ACTIONS[action];
      if (t === undefined || a === undefined) throw invalidArg(`invalid lifecycle ${t === undefined ? 'type' : 'action'}`);
      if (t !== 'crash' && a.startsWith('coredump-')) {
        throw VirError.format(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.DOMAIN, 'unsupported configuration: %s', `Lifecycle event '${t}' doesn't support '${a}' action`);
      }
      const d = r(dom);
      const { live, config } = store.defsFor(d, flags);
      const set = (def: DomainDef): void => {
        if (t === 'poweroff') def.onPoweroff = a;
        else if (t === 'reboot') def.onReboot = a;
        else def.onCrash = a;
      };
      if (live) set(d.def);
      if (config) set(d.persistentDef());
    },
  };
}

function coreDump(store: DomainStore, h: Parameters<DomainStore['resolve']>[0], to: string, format: number, flags: number): void {
  checkFlags('testDomainCoreDumpWithFormat', flags, DUMP_CRASH);
  const d = store.resolve(h);
  if (!d.active) throw notRunning();
  try {
    writeFileSync(to, Buffer.from('TestGuestMagic\0', 'latin1'), { mode: 0o600 });
  } catch (e) {
    throw systemError(`domain '${h.name}' coredump: failed to open ${to}`, e);
  }
  if (format !== 0) throw operationUnsupported('kdump-compressed format is not supported here');
  if (flags & DUMP_CRASH) {
    store.shutdownState(d, SHUTOFF_CRASHED);
    store.lifecycle(d, Lifecycle.STOPPED, STOPPED_CRASHED);
    store.dropIfTransient(d);
  }
}

function parseImage(xml: string): DomainDef {
  const def = xmlParse(() => parseDomainXml(xml));
  applyTestDomainDefaults(def);
  return def;
}

/** virDomainInterfaceAddresses' fake lease: the network's first DHCP range start (or address) plus an offset. */
function addressFromNetwork(networks: NetworkStore, name: string, offset: number): { type: number; addr: string; prefix: number } {
  const ip = networks.defByName(name).ips[0];
  const base = ip?.dhcp?.ranges[0]?.start ?? ip?.address ?? '0.0.0.0';
  const v6 = ip?.family === 'ipv6';
  let prefix = ip?.prefix !== undefined ? Number(ip.prefix) : 0;
  if (ip?.prefix === undefined && ip?.netmask) prefix = ip.netmask.split('.').reduce((n, o) => n + popcount(Number(o)), 0);
  if (v6) {
    const parts = base.split(':');
    const last = parts.length - 1;
    const v = parseInt(parts[last] || '0', 16);
    parts[last] = ((v & 0xff00) | ((v + offset) & 0xff)).toString(16);
    return { type: 1, addr: parts.join(':'), prefix };
  }
  const n = (base.split('.').reduce((a, o) => a * 256 + Number(o), 0) + offset) >>> 0;
  return { type: 0, addr: [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'), prefix };
}

const popcount = (x: number): number => {
  let c = 0;
  for (let v = x; v; v >>= 1) c += v & 1;
  return c;
};

/** The memballoon's <stats period='N'/> (dropped at 0), placed before the device address. */
function setBalloonPeriod(el: XmlEl, period: number): void {
  el.children = el.children.filter((c) => !('name' in c && c.name === 'stats'));
  if (period === 0) return;
  const stats: XmlEl = { name: 'stats', attrs: [['period', String(period)]], children: [] };
  const at = el.children.findIndex((c) => 'name' in c && (c.name === 'address' || c.name === 'driver'));
  if (at < 0) el.children.push(stats);
  else el.children.splice(at, 0, stats);
}

function perfState(def: DomainDef): Map<string, string> {
  const m = new Map<string, string>();
  for (const p of def.sections.get('perf') ?? []) {
    for (const e of elementsOf(p, 'event')) m.set(attr(e, 'name') ?? '', attr(e, 'enabled') ?? 'no');
  }
  return m;
}

/** <perf> lists the events with a setting, in libvirt's event order. */
function setPerf(def: DomainDef, on: Map<string, string>): void {
  const events = PERF_EVENTS.filter((e) => on.has(e)).map((e): XmlEl => ({ name: 'event', attrs: [['name', e], ['enabled', on.get(e) ?? 'no']], children: [] }));
  if (events.length === 0) def.sections.delete('perf');
  else def.sections.set('perf', [{ name: 'perf', attrs: [], children: events }]);
}

/** virKeycodeSet names, and the largest keycode each codeset's table knows. */
const CODESETS = ['linux', 'xt', 'atset1', 'atset2', 'atset3', 'os_x', 'xt_kbd', 'usb', 'win32', 'qnum'];
const KEYCODE_MAX: Record<number, number> = { 0: 0x2ff, 1: 0x7f, 2: 0xe07f, 3: 0xe07f, 4: 0xff, 5: 0x7f, 6: 0xff, 7: 0xe7, 8: 0xff, 9: 0xff };


