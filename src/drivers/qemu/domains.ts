// The QEMU driver's domain procedures: definitions, lookups, listing, lifecycle, info and
// the few live changes QEMU offers over its monitor (balloon). Errors as libvirt's QEMU driver.
import { hostname } from 'node:os';
import type { DriverMethods } from '../../api/driver.js';
import type { DomainDef } from '../../api/xml/domain/types.js';
import { formatDomain } from '../../api/xml/domain/format.js';
import { parseDomainXml } from '../../api/xml/domain/parse.js';
import { addQemuDefaultDevices } from './post-parse.js';
import type { RemoteNonnullDomain } from '../../protocol/gen/remote.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';
import { machineAliases } from './caps.js';
import { modificationImpact, PausedReason, QemuDomain, State, TAINT_MESSAGES } from './domain-obj.js';
import {
  checkFlags, internalError, invalidArg, noDomain, notRunning, operationDenied, operationInvalid, xmlParse,
} from './errors.js';
import { Detail, Lifecycle } from './events.js';
import { hasManagedSave, startFromManagedSave, undefineManagedSave } from './save.js';
import type { QemuDriverState } from './state.js';
import { setVcpusLive } from './hotplug/index.js';
import { uuidText } from './uuid.js';

const AFFECT_LIVE = 1;
const AFFECT_CONFIG = 2;
const MEM_MAXIMUM = 4;
const VCPU_MAXIMUM = 4;
const VCPU_GUEST = 8;
const SHUTDOWN_ACPI = 1;
const REBOOT_ACPI = 1;
const UNDEFINE_ALLOWED = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x20 | 0x40 | 0x80;

export function domainMethods(s: QemuDriverState): DriverMethods {
  const L = s.list;
  const r = (h: RemoteNonnullDomain): QemuDomain => s.domain(h);
  const active = (d: QemuDomain): QemuDomain => {
    if (!d.active || !d.proc) throw notRunning();
    return d;
  };

  const define = async (xml: string, flags: number): Promise<RemoteNonnullDomain> => {
    checkFlags('qemuDomainDefineXMLFlags', flags, 0x1);
    const def = xmlParse(() => parseDomainXml(xml));
    await applyQemuDefaults(s, def);
    const { dom, replaced } = L.add(def, false);
    const wasPersistent = dom.persistent;
    dom.persistent = true;
    try {
      s.saveConfig(def);
    } catch (e) {
      if (!replaced) L.remove(dom);
      dom.persistent = wasPersistent;
      throw e;
    }
    s.lifecycle(dom, Lifecycle.DEFINED, replaced ? Detail.DEFINED_UPDATED : Detail.DEFINED_ADDED);
    return dom.handle();
  };

  const undefine = ({ dom: h, flags }: { dom: RemoteNonnullDomain; flags: number }): void => {
    checkFlags('qemuDomainUndefineFlags', flags, UNDEFINE_ALLOWED);
    const d = r(h);
    if (!d.persistent) throw operationInvalid('cannot undefine transient domain');
    undefineManagedSave(s, d, flags);
    s.deleteConfig(d.name);
    d.autostart = false;
    s.lifecycle(d, Lifecycle.UNDEFINED, Detail.UNDEFINED_REMOVED);
    if (d.active) {
      d.persistent = false;
      d.newDef = undefined;
    } else {
      L.remove(d);
    }
  };

  const create = async (h: RemoteNonnullDomain, flags: number): Promise<void> => {
    checkFlags('qemuDomainCreateWithFlags', flags, 0x1f);
    const d = r(h);
    await d.withJob(async () => {
      if (d.active) throw operationInvalid('domain is already running');
      if (await startFromManagedSave(s, d, flags)) return;
      await s.start(d);
      if (flags & 1) await suspend(d);
    });
  };

  const createXml = async (xml: string, flags: number): Promise<RemoteNonnullDomain> => {
    checkFlags('qemuDomainCreateXML', flags, 0x1f);
    const def = xmlParse(() => parseDomainXml(xml));
    await applyQemuDefaults(s, def);
    const run = async (): Promise<QemuDomain> => {
      // Inside the job: a start already under way for this domain sees it active.
      const { dom, replaced } = L.add(def, true);
      try {
        await s.start(dom);
      } catch (e) {
        if (!replaced && !dom.persistent) L.remove(dom);
        throw e;
      }
      if (flags & 1) await suspend(dom);
      return dom;
    };
    const known = L.findByUuid(def.uuid);
    const dom = known ? await known.withJob(() => {
      if (known.starting) throw operationInvalid(`domain '${known.name}' is already active`, VirErrorDomain.DOMAIN);
      return run();
    }) : await run();
    return dom.handle();
  };

  const suspend = async (d: QemuDomain): Promise<void> => {
    const p = active(d).proc;
    if (d.state === State.PAUSED) return;
    if (p) p.pausedReason = PausedReason.USER;
    await p?.command('stop', undefined, d.name);
    if (d.state === State.RUNNING) {
      s.setState(d, State.PAUSED, PausedReason.USER);
      s.lifecycle(d, Lifecycle.SUSPENDED, Detail.SUSPENDED_PAUSED);
    }
  };

  const destroy = async (h: RemoteNonnullDomain, flags: number): Promise<void> => {
    checkFlags('qemuDomainDestroyFlags', flags, 0x3);
    const d = r(h);
    if (!d.active || !d.proc) throw notRunning();
    await s.destroy(d);
  };

  const shutdown = async (h: RemoteNonnullDomain, flags: number): Promise<void> => {
    checkFlags('qemuDomainShutdownFlags', flags, 0x1f);
    const d = active(r(h));
    if (flags !== 0 && !(flags & SHUTDOWN_ACPI)) throw invalidArg('only ACPI shutdown is supported by this driver');
    if (d.state !== State.RUNNING) throw operationInvalid('domain is not running');
    if (d.proc) d.proc.fakeReboot = false;
    await d.proc?.command('system_powerdown', undefined, d.name);
  };

  const setMemory = async (h: RemoteNonnullDomain, memory: bigint, flags: number): Promise<void> => {
    checkFlags('qemuDomainSetMemoryFlags', flags, AFFECT_LIVE | AFFECT_CONFIG | MEM_MAXIMUM);
    const d = r(h);
    const { live, config } = modificationImpact(d, flags);
    if (flags & MEM_MAXIMUM) {
      if (live) throw invalidArg('cannot resize the maximum memory on an active domain', VirErrorDomain.QEMU);
      const pd = d.persistentDef();
      pd.memoryKiB = memory;
      if (pd.currentMemoryKiB > memory) pd.currentMemoryKiB = memory;
      s.saveConfig(pd);
      return;
    }
    if (live) {
      if (memory > d.def.memoryKiB) throw invalidArg('cannot set memory higher than max memory');
      if (d.def.devices.others.some((o) => o.kind === 'memballoon' && o.el.attrs.some(([k, v]) => k === 'model' && v === 'none'))) {
        throw new VirError({
          code: VirErrorNumber.OPERATION_INVALID, domain: VirErrorDomain.QEMU,
          message: 'Requested operation is not valid: Unable to change memory of active domain without the balloon device and guest OS balloon driver',
          str1: 'Requested operation is not valid: %s', str2: 'Unable to change memory of active domain without the balloon device and guest OS balloon driver',
        });
      }
      await d.proc?.command('balloon', { value: Number(memory) * 1024 }, d.name);
      d.def.currentMemoryKiB = memory;
      s.saveStatus(d);
    }
    if (config) {
      const pd = d.persistentDef();
      if (memory > pd.memoryKiB) throw invalidArg('cannot set memory higher than max memory');
      pd.currentMemoryKiB = memory;
      s.saveConfig(pd);
    }
  };

  const getVcpus = (h: RemoteNonnullDomain, flags: number): number => {
    checkFlags('qemuDomainGetVcpusFlags', flags, AFFECT_LIVE | AFFECT_CONFIG | VCPU_MAXIMUM | 8);
    const d = r(h);
    const { config } = modificationImpact(d, flags, true);
    const def = config ? d.persistentDef() : d.def;
    return flags & VCPU_MAXIMUM ? def.vcpu.count : (def.vcpu.current ?? def.vcpu.count);
  };

  const setVcpus = async (h: RemoteNonnullDomain, n: number, flags: number): Promise<void> => {
    checkFlags('qemuDomainSetVcpusFlags', flags, AFFECT_LIVE | AFFECT_CONFIG | VCPU_MAXIMUM | VCPU_GUEST | 16);
    const d = r(h);
    // Decided inside the job: the domain may stop or start while an earlier job runs.
    await d.withJob(() => setVcpusJob(d, n, flags));
  };

  const setVcpusJob = async (d: QemuDomain, n: number, flags: number): Promise<void> => {
    if (flags & VCPU_GUEST) {
      // Guest-side vCPU changes go through the guest agent, which this driver does not run.
      if (!d.active) throw operationInvalid('domain is not running', VirErrorDomain.DOMAIN);
      throw VirError.format(VirErrorNumber.ARGUMENT_UNSUPPORTED, VirErrorDomain.QEMU, 'argument unsupported: %s', 'QEMU guest agent is not configured');
    }
    const { live, config } = modificationImpact(d, flags);
    if (n < 1) throw invalidArg('argument out of range: 0', VirErrorDomain.DOMAIN);
    if (live) {
      if (flags & VCPU_MAXIMUM) throw invalidArg("maximum vcpu count of a live domain can't be modified");
      // vCPU hot(un)plug: needs a guest started with <vcpu current='N'>M</vcpu> (-smp N,maxcpus=M).
      await setVcpusLive(s, d, n);
    }
    if (config) {
      const pd = d.persistentDef();
      if (flags & VCPU_MAXIMUM) {
        pd.vcpu.count = n;
        if (pd.vcpu.current !== undefined && pd.vcpu.current > n) pd.vcpu.current = n;
      } else {
        if (n > pd.vcpu.count) {
          throw invalidArg(`requested vcpus is greater than max allowable vcpus for the persistent domain: ${n} > ${pd.vcpu.count}`);
        }
        pd.vcpu.current = n === pd.vcpu.count ? undefined : n;
      }
      s.saveConfig(pd);
    }
  };

  return {
    CONNECT_GET_TYPE: () => ({ type: 'QEMU' }),
    CONNECT_GET_VERSION: async () => ({ hvVer: BigInt((await s.caps()).version) }),
    CONNECT_GET_HOSTNAME: () => ({ hostname: hostname() }),
    NODE_GET_SECURITY_MODEL: () => ({ model: cString('none'), doi: cString('0') }),
    CONNECT_NUM_OF_DOMAINS: () => ({ num: count(L.all(), (d) => d.active) }),
    CONNECT_LIST_DOMAINS: ({ maxids }) => ({ ids: [...L.all()].filter((d) => d.active).slice(0, maxids).map((d) => d.id) }),
    CONNECT_NUM_OF_DEFINED_DOMAINS: () => ({ num: count(L.all(), (d) => !d.active) }),
    CONNECT_LIST_DEFINED_DOMAINS: ({ maxnames }) => ({ names: [...L.all()].filter((d) => !d.active).slice(0, maxnames).map((d) => d.name) }),
    CONNECT_LIST_ALL_DOMAINS: ({ needResults, flags }) => {
      checkFlags('qemuConnectListAllDomains', flags, 0x3fff);
      const doms = [...L.all()].filter((d) => matchesListFilter(d, flags, () => hasManagedSave(s, d)));
      return { domains: needResults ? doms.map((d) => d.handle()) : [], ret: doms.length };
    },
    DOMAIN_LOOKUP_BY_ID: ({ id }) => {
      const d = L.findById(id);
      if (!d) throw noDomain(`no domain with matching id ${id}`);
      return { dom: d.handle() };
    },
    DOMAIN_LOOKUP_BY_NAME: ({ name }) => {
      const d = L.findByName(name);
      if (!d) throw noDomain(`no domain with matching name '${name}'`);
      return { dom: d.handle() };
    },
    DOMAIN_LOOKUP_BY_UUID: ({ uuid }) => {
      const u = uuidText(uuid);
      const d = L.findByUuid(u);
      if (!d) throw noDomain(`no domain with matching uuid '${u}'`);
      return { dom: d.handle() };
    },
    DOMAIN_DEFINE_XML: async ({ xml }) => ({ dom: await define(xml, 0) }),
    DOMAIN_DEFINE_XML_FLAGS: async ({ xml, flags }) => ({ dom: await define(xml, flags) }),
    DOMAIN_UNDEFINE: ({ dom }) => undefine({ dom, flags: 0 }),
    DOMAIN_UNDEFINE_FLAGS: (a) => undefine(a),
    DOMAIN_CREATE: async ({ dom }) => create(dom, 0),
    DOMAIN_CREATE_WITH_FLAGS: async ({ dom, flags }) => {
      await create(dom, flags);
      return { dom: r(dom).handle() };
    },
    DOMAIN_CREATE_XML: async ({ xmlDesc, flags }) => ({ dom: await createXml(xmlDesc, flags) }),
    DOMAIN_DESTROY: ({ dom }) => destroy(dom, 0),
    DOMAIN_DESTROY_FLAGS: ({ dom, flags }) => destroy(dom, flags),
    DOMAIN_SHUTDOWN: ({ dom }) => shutdown(dom, 0),
    DOMAIN_SHUTDOWN_FLAGS: ({ dom, flags }) => shutdown(dom, flags),
    DOMAIN_REBOOT: async ({ dom, flags }) => {
      checkFlags('qemuDomainReboot', flags, 0x1f);
      const d = active(r(dom));
      if (flags !== 0 && !(flags & REBOOT_ACPI)) throw invalidArg('only ACPI reboot is supported by this driver');
      if (d.proc) d.proc.fakeReboot = true;
      await d.proc?.command('system_powerdown', undefined, d.name);
    },
    DOMAIN_RESET: async ({ dom, flags }) => {
      checkFlags('qemuDomainReset', flags, 0);
      const d = active(r(dom));
      await d.proc?.command('system_reset', undefined, d.name);
      if (d.state === State.CRASHED) s.setState(d, State.PAUSED, PausedReason.CRASHED);
    },
    DOMAIN_SUSPEND: ({ dom }) => r(dom).withJob(() => suspend(r(dom))),
    DOMAIN_RESUME: ({ dom }) => {
      const d = r(dom);
      return d.withJob(async () => {
        const p = active(d).proc;
        if (d.state === State.PMSUSPENDED) throw operationInvalid('domain is pmsuspended');
        if (d.state === State.RUNNING) return;
        if (d.state !== State.PAUSED && d.state !== State.CRASHED) throw operationInvalid('domain is not paused');
        await p?.command('cont', undefined, d.name);
      });
    },
    DOMAIN_GET_INFO: ({ dom }) => {
      const d = r(dom);
      return {
        state: d.state,
        maxMem: d.def.memoryKiB,
        memory: d.def.currentMemoryKiB,
        nrVirtCpu: d.def.vcpu.current ?? d.def.vcpu.count,
        cpuTime: d.proc ? d.proc.cpuTimeNs() : 0n,
      };
    },
    DOMAIN_GET_STATE: ({ dom, flags }) => {
      checkFlags('qemuDomainGetState', flags, 0);
      const d = r(dom);
      return { state: d.state, reason: d.reason };
    },
    DOMAIN_GET_XML_DESC: ({ dom, flags }, ctx) => {
      if (ctx.readonly && flags & 1) throw operationDenied('virDomainGetXMLDesc with secure flag');
      checkFlags('qemuDomainGetXMLDesc', flags, 0xf);
      const d = r(dom);
      const inactive = (flags & 2) !== 0;
      const def = inactive && d.newDef ? d.newDef : d.def;
      return { xml: formatDomain(def, { id: d.active ? d.id : undefined, inactive, secure: (flags & 1) !== 0 }) };
    },
    DOMAIN_GET_OS_TYPE: ({ dom }) => ({ type: r(dom).def.os.type }),
    DOMAIN_IS_ACTIVE: ({ dom }) => ({ active: r(dom).active ? 1 : 0 }),
    DOMAIN_IS_PERSISTENT: ({ dom }) => ({ persistent: r(dom).persistent ? 1 : 0 }),
    // Config changes while running go to the persistent definition only, never the live one.
    DOMAIN_IS_UPDATED: ({ dom }) => (r(dom), { updated: 0 }),
    DOMAIN_GET_SECURITY_LABEL: ({ dom }) => {
      r(dom);
      return { label: cString(''), enforcing: 0 };
    },
    DOMAIN_GET_MESSAGES: ({ dom, flags }) => {
      checkFlags('qemuDomainGetMessages', flags, 3);
      const d = r(dom);
      // Flag 2 (TAINTING) or none: the taints, in libvirt's enum order; no deprecations known.
      if (flags !== 0 && !(flags & 2)) return { msgs: [] };
      return { msgs: [...d.taints].sort((a, b) => a - b).map((t) => `tainted: ${TAINT_MESSAGES[t] ?? String(t)}`) };
    },
    DOMAIN_GET_AUTOSTART: ({ dom }) => ({ autostart: r(dom).autostart ? 1 : 0 }),
    DOMAIN_SET_AUTOSTART: ({ dom, autostart }) => {
      const d = r(dom);
      if (!d.persistent) throw operationInvalid('cannot set autostart for transient domain');
      s.setAutostart(d, autostart !== 0);
    },
    DOMAIN_GET_MAX_MEMORY: ({ dom }) => ({ memory: r(dom).def.memoryKiB }),
    DOMAIN_SET_MAX_MEMORY: ({ dom, memory }) => setMemory(dom, memory, MEM_MAXIMUM),
    DOMAIN_SET_MEMORY: ({ dom, memory }) => setMemory(dom, memory, AFFECT_LIVE),
    DOMAIN_SET_MEMORY_FLAGS: ({ dom, memory, flags }) => setMemory(dom, memory, flags),
    DOMAIN_GET_VCPUS_FLAGS: ({ dom, flags }) => ({ num: getVcpus(dom, flags) }),
    DOMAIN_GET_MAX_VCPUS: ({ dom }) => ({ num: getVcpus(dom, AFFECT_LIVE | VCPU_MAXIMUM) }),
    DOMAIN_SET_VCPUS: ({ dom, nvcpus }) => setVcpus(dom, nvcpus, AFFECT_LIVE),
    DOMAIN_SET_VCPUS_FLAGS: ({ dom, nvcpus, flags }) => setVcpus(dom, nvcpus, flags),
  };
}

/** What libvirt's QEMU driver fills in at define time: emulator, concrete machine, boot device. */
async function applyQemuDefaults(s: QemuDriverState, def: DomainDef): Promise<void> {
  if (def.type !== 'qemu' && def.type !== 'kvm') {
    throw VirError.format(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.QEMU, 'unsupported configuration: %s',
      `Emulator '${def.devices.emulator ?? s.paths.binary}' does not support virt type '${def.type}'`);
  }
  if (def.os.type !== 'hvm') {
    throw VirError.format(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.QEMU, 'unsupported configuration: %s',
      `Emulator '${def.devices.emulator ?? s.paths.binary}' does not support os type '${def.os.type}'`);
  }
  const caps = await s.caps().catch((e: unknown) => {
    throw internalError(`Failed to probe capabilities for ${s.paths.binary}: ${(e as Error).message}`);
  });
  def.devices.emulator ??= s.paths.binary;
  const asked = def.os.machine ?? 'pc';
  def.os.machine = machineAliases(caps).get(asked) ?? asked;
  if (!caps.machines.some((m) => m.name === def.os.machine)) {
    throw VirError.format(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.QEMU, 'unsupported configuration: %s',
      `Emulator '${def.devices.emulator}' does not support machine type '${asked}'`);
  }
  if (def.os.boots.length === 0 && def.os.kernel === undefined) def.os.boots.push('hd');
  addQemuDefaultDevices(def);
}

function matchesListFilter(d: QemuDomain, flags: number, managedSave: () => boolean): boolean {
  const f = (bit: number) => (flags & bit) !== 0;
  if (f(3) && !((f(1) && d.active) || (f(2) && !d.active))) return false;
  if (f(12) && !((f(4) && d.persistent) || (f(8) && !d.persistent))) return false;
  if (f(0xf0)) {
    const st = d.state;
    const ok = (f(0x10) && st === State.RUNNING) || (f(0x20) && st === State.PAUSED) || (f(0x40) && st === State.SHUTOFF)
      || (f(0x80) && st !== State.RUNNING && st !== State.PAUSED && st !== State.SHUTOFF);
    if (!ok) return false;
  }
  if (f(0x300) && !((f(0x100) && managedSave()) || (f(0x200) && !managedSave()))) return false;
  if (f(0xc00) && !((f(0x400) && d.autostart) || (f(0x800) && !d.autostart))) return false;
  if (f(0x3000) && !f(0x2000)) return false; // no snapshots
  return true;
}

/** A C string as the wire's char<> carries it, NUL included. */
const cString = (s: string): Uint8Array => new Uint8Array(Buffer.from(`${s}\0`, 'latin1'));

function count<T>(it: Iterable<T>, pred: (x: T) => boolean): number {
  let n = 0;
  for (const x of it) if (pred(x)) n++;
  return n;
}
