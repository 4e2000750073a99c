// Domains of the test driver: the lifecycle state machine, definitions, lookups, listing
// and the fake statistics libvirt 9.0's test driver reports. Errors and events follow
// that driver exactly (including its quirks: reboot raises no event, shutdown of a paused
// domain succeeds, GET_OS_TYPE is always "linux").
import type { DriverMethods } from '../../api/driver.js';
import type { DomainDef } from '../../api/xml/domain/types.js';
import { formatDomain } from '../../api/xml/domain/format.js';
import { parseDomain, parseDomainXml } from '../../api/xml/domain/parse.js';
import type { XmlEl } from '../../api/xml/tree.js';
import { child, textOf } from '../../api/xml/tree.js';
import { parseMac } from '../../api/xml/common.js';
import { applyTestDomainDefaults } from './xml/domain-defaults.js';
import type { RemoteNonnullDomain } from '../../protocol/gen/remote.js';
import { VirError, VirErrorNumber } from '../../rpc/errors.js';
import { DomainList, DomainObj, State, RunningReason, ShutoffReason, PausedReason, copyDef } from './domain-obj.js';
import { Detail, Lifecycle, domainLifecycle, type Emit } from './events.js';
import {
  DOMAIN, apiInvalidArg, argumentUnsupported, checkFlags, internalError, invalidArg, noDomain, noDomainUuid, notRunning,
  operationDenied, operationInvalid, operationUnsupported, xmlParse,
} from './errors.js';
import { realTimeUs, uuidText } from './util.js';
import { readSaveImage, writeSaveImage } from './save-image.js';
import { readCputune, writeMap } from './cputune.js';
import { SnapshotList, parseSnapshot } from './snapshots.js';

const AFFECT_LIVE = 1;
const AFFECT_CONFIG = 2;
const MEM_MAXIMUM = 4;
const VCPU_MAXIMUM = 4;
const MAX_VCPUS = 32;

/** Facts about the host the domain code needs (nodeinfo). */
export interface HostCpus {
  /** VIR_NODEINFO_MAXCPUS: nodes * sockets * cores * threads. */
  maxCpus: number;
  /** Cores per socket: the test driver's per-CPU statistics cover this many CPUs. */
  cores: number;
}

export class DomainStore {
  readonly list = new DomainList();
  private nextId = 1;

  constructor(
    private readonly emit: Emit,
    readonly host: HostCpus,
  ) {}

  // ---- state transitions shared with snapshots -------------------------------------

  /** testDomainStartState: running with a fresh id; a persistent domain keeps its config aside. */
  startState(dom: DomainObj, reason: number): void {
    dom.state = State.RUNNING;
    dom.reason = reason;
    this.list.setId(dom, this.nextId++);
    if (dom.persistent && !dom.newDef) dom.newDef = copyDef(dom.def);
    dom.hasManagedSave = false;
  }

  /** testDomainShutdownState: back to the persistent definition, no id. */
  shutdownState(dom: DomainObj, reason: number): void {
    if (dom.newDef) {
      dom.def = dom.newDef;
      dom.newDef = undefined;
    }
    dom.state = State.SHUTOFF;
    dom.reason = reason;
    this.list.setId(dom, -1);
  }

  lifecycle(dom: DomainObj, event: number, detail: number): void {
    this.emit(domainLifecycle(dom.handle(), event, detail));
  }

  /** A transient domain disappears once it stops. */
  dropIfTransient(dom: DomainObj): void {
    if (!dom.persistent) this.list.remove(dom);
  }

  /** testDomObjFromDomain: handles resolve by UUID. */
  resolve(h: RemoteNonnullDomain): DomainObj {
    const u = uuidText(h.uuid);
    const dom = this.list.findByUuid(u);
    if (!dom) throw noDomainUuid(u, h.name);
    return dom;
  }

  // ---- loading ------------------------------------------------------------------------

  /** testParseDomains for one <domain> of a config (test: namespace included). */
  loadFromConfig(el: XmlEl): void {
    const def = xmlParse(() => parseDomain(el));
    applyTestDomainDefaults(def);
    const runstateText = textOf(child(el, 'test:runstate'))?.trim();
    const runstate = runstateText === undefined ? State.RUNNING : Number(runstateText);
    const { dom } = this.list.add(def, false);
    dom.persistent = child(el, 'test:transient') === undefined;
    dom.hasManagedSave = child(el, 'test:hasmanagedsave') !== undefined;
    const snaps = el.children.filter((c): c is XmlEl => 'name' in c && c.name === 'test:domainsnapshot');
    if (snaps.length) {
      dom.snapshots = new SnapshotList();
      for (const s of snaps) {
        const { snap, current } = xmlParse(() => parseSnapshot(s, true));
        dom.snapshots.add(snap);
        if (current) {
          if (dom.snapshots.current) throw internalError('more than one snapshot claims to be active');
          dom.snapshots.current = snap;
        }
      }
      for (const s of dom.snapshots.all()) dom.snapshots.link(s);
    }
    const ms = dom.hasManagedSave;
    if (runstate !== State.SHUTOFF) this.startState(dom, RunningReason.BOOTED);
    else this.shutdownState(dom, ShutoffReason.UNKNOWN);
    dom.hasManagedSave = ms;
    dom.state = runstate;
    dom.reason = 0;
    dom.taints = taintsOf(dom.def);
  }

  // ---- procedures -----------------------------------------------------------------------

  methods(): DriverMethods {
    const L = this.list;
    const r = (h: RemoteNonnullDomain): DomainObj => this.resolve(h);
    const active = (dom: DomainObj): void => {
      if (!dom.active) throw notRunning();
    };
    return {
      CONNECT_NUM_OF_DOMAINS: () => ({ num: count(L.all(), (d) => d.active) }),
      CONNECT_LIST_DOMAINS: ({ maxids }) => {
        const ids: number[] = [];
        for (const d of L.all()) if (d.active && ids.length < maxids) ids.push(d.id);
        return { ids };
      },
      CONNECT_NUM_OF_DEFINED_DOMAINS: () => ({ num: count(L.all(), (d) => !d.active) }),
      CONNECT_LIST_DEFINED_DOMAINS: ({ maxnames }) => {
        const names: string[] = [];
        for (const d of L.all()) if (!d.active && names.length < maxnames) names.push(d.name);
        return { names };
      },
      CONNECT_LIST_ALL_DOMAINS: ({ needResults, flags }) => {
        checkFlags('testConnectListAllDomains', flags, 0xffff);
        const domains: RemoteNonnullDomain[] = [];
        let n = 0;
        for (const d of L.all()) {
          if (!matchesListFilter(d, flags)) continue;
          n++;
          if (needResults) domains.push(d.handle());
        }
        return { domains, ret: n };
      },
      DOMAIN_LOOKUP_BY_ID: ({ id }) => {
        if (id < 0) throw apiInvalidArg('virDomainLookupByID', 'id', 'id in virDomainLookupByID must be zero or greater');
        const d = L.findById(id);
        if (!d) throw noDomain();
        return { dom: d.handle() };
      },
      DOMAIN_LOOKUP_BY_NAME: ({ name }) => {
        const d = L.findByName(name);
        if (!d) throw noDomain();
        return { dom: d.handle() };
      },
      DOMAIN_LOOKUP_BY_UUID: ({ uuid }) => {
        const d = L.findByUuid(uuidText(uuid));
        if (!d) throw noDomain();
        return { dom: d.handle() };
      },
      DOMAIN_DEFINE_XML: ({ xml }) => ({ dom: this.define(xml, 0) }),
      DOMAIN_DEFINE_XML_FLAGS: ({ xml, flags }) => ({ dom: this.define(xml, flags) }),
      DOMAIN_UNDEFINE: ({ dom }) => this.undefine(dom, 0),
      DOMAIN_UNDEFINE_FLAGS: ({ dom, flags }) => this.undefine(dom, flags),
      DOMAIN_CREATE_XML: ({ xmlDesc, flags }) => ({ dom: this.createXml(xmlDesc, flags) }),
      // The *_WITH_FILES variants ignore the passed descriptors and behave as their plain forms.
      DOMAIN_CREATE_XML_WITH_FILES: ({ xmlDesc, flags }) => ({ dom: this.createXml(xmlDesc, flags) }),
      DOMAIN_CREATE_WITH_FILES: ({ dom, flags }) => {
        this.create(dom, flags);
        return { dom: r(dom).handle() };
      },
      DOMAIN_CREATE: ({ dom }) => this.create(dom, 0),
      DOMAIN_CREATE_WITH_FLAGS: ({ dom, flags }) => {
        this.create(dom, flags);
        return { dom: r(dom).handle() };
      },
      DOMAIN_DESTROY: ({ dom }) => this.destroy(dom, 0),
      DOMAIN_DESTROY_FLAGS: ({ dom, flags }) => this.destroy(dom, flags),
      DOMAIN_SHUTDOWN: ({ dom }) => this.shutdown(dom, 0),
      DOMAIN_SHUTDOWN_FLAGS: ({ dom, flags }) => this.shutdown(dom, flags),
      DOMAIN_REBOOT: ({ dom, flags }) => {
        checkFlags('testDomainReboot', flags, 0x1f);
        const d = r(dom);
        active(d);
        this.lifecycleAction(d, d.def.onReboot);
      },
      DOMAIN_RESET: ({ dom, flags }) => {
        checkFlags('testDomainReset', flags, 0);
        active(r(dom));
      },
      DOMAIN_SUSPEND: ({ dom }) => {
        const d = r(dom);
        if (d.state === State.SHUTOFF || d.state === State.PAUSED) throw internalError(`domain '${dom.name}' not running`);
        d.state = State.PAUSED;
        d.reason = PausedReason.USER;
        this.lifecycle(d, Lifecycle.SUSPENDED, Detail.SUSPENDED_PAUSED);
      },
      DOMAIN_RESUME: ({ dom }) => {
        const d = r(dom);
        if (d.state !== State.PAUSED) throw internalError(`domain '${dom.name}' not paused`);
        d.state = State.RUNNING;
        d.reason = RunningReason.UNPAUSED;
        this.lifecycle(d, Lifecycle.RESUMED, Detail.RESUMED_UNPAUSED);
      },
      DOMAIN_GET_INFO: ({ dom }) => {
        const d = r(dom);
        return {
          state: d.state,
          maxMem: d.def.memoryKiB,
          memory: d.def.currentMemoryKiB,
          nrVirtCpu: vcpus(d.def),
          // The real driver reports wall-clock nanoseconds.
          cpuTime: realTimeUs() * 1000n,
        };
      },
      DOMAIN_GET_STATE: ({ dom, flags }) => {
        checkFlags('testDomainGetState', flags, 0);
        const d = r(dom);
        return { state: d.state, reason: d.reason };
      },
      DOMAIN_GET_XML_DESC: ({ dom, flags }, ctx) => {
        if (ctx.readonly && flags & 1) throw operationDenied('virDomainGetXMLDesc with secure flag');
        checkFlags('testDomainGetXMLDesc', flags, 0xf);
        const d = r(dom);
        const def = flags & 2 && d.newDef ? d.newDef : d.def;
        return { xml: formatDomain(def, { id: d.active ? d.id : undefined, inactive: (flags & 2) !== 0, secure: (flags & 1) !== 0 }) };
      },
      DOMAIN_GET_OS_TYPE: ({ dom }) => {
        r(dom);
        return { type: 'linux' };
      },
      DOMAIN_GET_HOSTNAME: ({ dom, flags }) => {
        checkFlags('testDomainGetHostname', flags, 0);
        active(r(dom));
        return { hostname: `${dom.name}host` };
      },
      DOMAIN_IS_ACTIVE: ({ dom }) => ({ active: r(dom).active ? 1 : 0 }),
      DOMAIN_IS_PERSISTENT: ({ dom }) => ({ persistent: r(dom).persistent ? 1 : 0 }),
      DOMAIN_IS_UPDATED: () => ({ updated: 0 }),
      DOMAIN_GET_AUTOSTART: ({ dom }) => ({ autostart: r(dom).autostart ? 1 : 0 }),
      DOMAIN_SET_AUTOSTART: ({ dom, autostart }) => {
        r(dom).autostart = autostart !== 0;
      },
      DOMAIN_GET_MAX_MEMORY: ({ dom }) => ({ memory: r(dom).def.memoryKiB }),
      DOMAIN_SET_MAX_MEMORY: ({ dom, memory }) => this.setMemory(dom, memory, MEM_MAXIMUM),
      DOMAIN_SET_MEMORY: ({ dom, memory }) => this.setMemory(dom, memory, AFFECT_LIVE),
      DOMAIN_SET_MEMORY_FLAGS: ({ dom, memory, flags }) => this.setMemory(dom, memory, flags),
      DOMAIN_GET_VCPUS_FLAGS: ({ dom, flags }) => ({ num: this.getVcpus(dom, flags) }),
      DOMAIN_GET_MAX_VCPUS: ({ dom }) => ({ num: this.getVcpus(dom, AFFECT_LIVE | VCPU_MAXIMUM) }),
      DOMAIN_SET_VCPUS: ({ dom, nvcpus }) => this.setVcpus(dom, nvcpus, AFFECT_LIVE),
      DOMAIN_SET_VCPUS_FLAGS: ({ dom, nvcpus, flags }) => this.setVcpus(dom, nvcpus, flags),
      DOMAIN_GET_VCPUS: ({ dom, maxinfo, maplen }) => {
        const d = r(dom);
        if (!d.active) throw operationInvalid('cannot list vcpus for an inactive domain');
        const n = Math.min(maxinfo, vcpus(d.def));
        const cpuTime = realTimeUs() / 10n;
        const info = [];
        const cpumaps = new Uint8Array(n * maplen);
        const hostCpus = this.host.maxCpus;
        const pins = readCputune(d.def).vcpupin;
        for (let i = 0; i < n; i++) {
          const pin = pins.get(i);
          if (pin) writeMap(pin, cpumaps, i * maplen, maplen);
          else for (let c = 0; c < hostCpus && c < maplen * 8; c++) cpumaps[i * maplen + (c >> 3)] |= 1 << (c & 7);
          info.push({ number: i, state: 1, cpuTime, cpu: pin ? (pin[pin.length - 1] ?? -1) : hostCpus - 1 });
        }
        return { info, cpumaps };
      },
      DOMAIN_GET_SECURITY_LABEL: ({ dom }) => {
        const d = r(dom);
        const label = d.active ? 'libvirt-test' : '';
        return { label: new Uint8Array(Buffer.from(`${label}\0`, 'latin1')), enforcing: d.active ? 1 : 0 };
      },
      DOMAIN_GET_MESSAGES: ({ dom, flags }) => {
        checkFlags('testDomainGetMessages', flags, 3);
        const d = r(dom);
        return { msgs: flags === 0 || flags & 2 ? [...d.taints] : [] };
      },
      DOMAIN_MEMORY_STATS: ({ dom, maxStats, flags }) => {
        checkFlags('testDomainMemoryStats', flags, 0);
        const d = r(dom);
        active(d);
        const cur = d.def.currentMemoryKiB;
        const all: [number, bigint][] = hasMemballoon(d.def)
          ? [[6, cur], [0, 0n], [1, 0n], [2, 0n], [3, 0n], [4, cur / 2n], [5, cur], [8, cur / 2n], [9, 627319920n], [10, cur / 8n], [11, 0n], [12, 0n], [7, cur / 2n]]
          : [];
        return { stats: all.slice(0, maxStats).map(([tag, val]) => ({ tag, val })) };
      },
      DOMAIN_BLOCK_STATS: ({ dom, path }) => {
        if (path === '') throw operationUnsupported('summary statistics are not supported yet');
        const d = r(dom);
        active(d);
        if (!findDisk(d.def, path)) throw invalidArg(`invalid path: ${path}`);
        const base = realTimeUs();
        return { rdReq: base / 10n, rdBytes: base / 20n, wrReq: base / 30n, wrBytes: base / 40n, errs: base / 2000000n };
      },
      DOMAIN_INTERFACE_STATS: ({ dom, device }) => {
        const d = r(dom);
        active(d);
        const mac = parseMac(device);
        const nic = d.def.devices.nets.find((n) => (mac ? n.mac === mac : n.targetDev === device));
        if (!nic) throw invalidArg(`'${device}' is not a known interface`, DOMAIN);
        const b = realTimeUs();
        return {
          rxBytes: b / 10n, rxPackets: b / 100n, rxErrs: b / 1000000n, rxDrop: b / 2000000n,
          txBytes: b / 20n, txPackets: b / 110n, txErrs: b / 3000000n, txDrop: b / 4000000n,
        };
      },
      DOMAIN_GET_BLOCK_INFO: ({ dom, path, flags }) => {
        checkFlags('testDomainGetBlockInfo', flags, 0);
        const d = r(dom);
        const disk = findDisk(d.def, path);
        if (!disk) throw invalidArg(`invalid path ${path} not assigned to domain`);
        if (!disk.source || disk.source.attrs.length === 0) throw invalidArg(`disk '${path}' does not currently have a source assigned`);
        return { capacity: 1099506450432n, allocation: 1099511627776n, physical: 1099511627776n };
      },
      DOMAIN_MANAGED_SAVE: ({ dom, flags }) => {
        checkFlags('testDomainManagedSave', flags, 7);
        const d = r(dom);
        active(d);
        if (!d.persistent) throw operationInvalid('cannot do managed save for transient domain');
        this.shutdownState(d, ShutoffReason.SAVED);
        this.lifecycle(d, Lifecycle.STOPPED, Detail.STOPPED_SAVED);
        d.hasManagedSave = true;
      },
      DOMAIN_HAS_MANAGED_SAVE_IMAGE: ({ dom, flags }) => {
        checkFlags('testDomainHasManagedSaveImage', flags, 0);
        return { result: r(dom).hasManagedSave ? 1 : 0 };
      },
      DOMAIN_MANAGED_SAVE_REMOVE: ({ dom, flags }) => {
        checkFlags('testDomainManagedSaveRemove', flags, 0);
        r(dom).hasManagedSave = false;
      },
      DOMAIN_SAVE: ({ dom, to }) => this.save(dom, to, null, 0),
      DOMAIN_SAVE_FLAGS: ({ dom, to, dxml, flags }) => this.save(dom, to, dxml, flags),
      DOMAIN_RESTORE: ({ from }) => this.restore(from, null, 0),
      DOMAIN_RESTORE_FLAGS: ({ from, dxml, flags }) => this.restore(from, dxml, flags),
    };
  }

  // ---- operations -------------------------------------------------------------------

  private parse(xml: string): DomainDef {
    const def = xmlParse(() => parseDomainXml(xml));
    applyTestDomainDefaults(def);
    return def;
  }

  private define(xml: string, flags: number): RemoteNonnullDomain {
    checkFlags('testDomainDefineXMLFlags', flags, 1);
    const def = this.parse(xml);
    if (def.name.includes('\n')) {
      throw new VirError({ code: VirErrorNumber.XML_DETAIL, domain: 5, message: 'invalid char in name: \n', str1: '%s', str2: 'invalid char in name: \n' });
    }
    const { dom, replaced } = this.list.add(def, false);
    dom.persistent = true;
    this.lifecycle(dom, Lifecycle.DEFINED, replaced ? Detail.DEFINED_UPDATED : Detail.DEFINED_ADDED);
    return dom.handle();
  }

  private undefine(h: RemoteNonnullDomain, flags: number): void {
    checkFlags('testDomainUndefineFlags', flags, 3);
    const d = this.resolve(h);
    if (d.hasManagedSave && !(flags & 1)) throw operationInvalid('Refusing to undefine while domain managed save image exists');
    const nsnap = d.snapshots?.size ?? 0;
    if (!d.active && nsnap > 0 && !(flags & 2)) throw operationInvalid(`cannot delete inactive domain with ${nsnap} snapshots`);
    this.lifecycle(d, Lifecycle.UNDEFINED, Detail.UNDEFINED_REMOVED);
    d.hasManagedSave = false;
    if (d.active) d.persistent = false;
    else this.list.remove(d);
  }

  private createXml(xml: string, flags: number): RemoteNonnullDomain {
    checkFlags('testDomainCreateXML', flags, 1);
    const def = this.parse(xml);
    const { dom } = this.list.add(def, true);
    this.startState(dom, RunningReason.BOOTED);
    this.lifecycle(dom, Lifecycle.STARTED, Detail.STARTED_BOOTED);
    return dom.handle();
  }

  private create(h: RemoteNonnullDomain, flags: number): void {
    checkFlags('testDomainCreateWithFlags', flags, 0);
    const d = this.resolve(h);
    if (d.state !== State.SHUTOFF) throw internalError(`Domain '${h.name}' is already running`);
    this.startState(d, RunningReason.BOOTED);
    this.lifecycle(d, Lifecycle.STARTED, Detail.STARTED_BOOTED);
  }

  private destroy(h: RemoteNonnullDomain, flags: number): void {
    checkFlags('testDomainDestroyFlags', flags, 1);
    const d = this.resolve(h);
    if (!d.active) throw notRunning();
    this.shutdownState(d, ShutoffReason.DESTROYED);
    this.lifecycle(d, Lifecycle.STOPPED, Detail.STOPPED_DESTROYED);
    this.dropIfTransient(d);
  }

  private shutdown(h: RemoteNonnullDomain, flags: number): void {
    checkFlags('testDomainShutdownFlags', flags, 0);
    const d = this.resolve(h);
    if (d.state === State.SHUTOFF) throw internalError(`domain '${h.name}' not running`);
    this.lifecycleAction(d, d.def.onPoweroff);
  }

  /** testDomainActionSetState followed by the shutdown bookkeeping when the guest ends up off. */
  private lifecycleAction(d: DomainObj, action: string): void {
    if (action === 'restart' || action === 'rename-restart') {
      d.state = State.RUNNING;
      d.reason = RunningReason.BOOTED;
      return;
    }
    this.shutdownState(d, ShutoffReason.SHUTDOWN);
    this.lifecycle(d, Lifecycle.STOPPED, Detail.STOPPED_SHUTDOWN);
    this.dropIfTransient(d);
  }

  /** virDomainObjGetOneDefState: which definition a LIVE/CONFIG/CURRENT request means. */
  oneDef(d: DomainObj, flags: number): { def: DomainDef; live: boolean } {
    const live = this.affect(d, flags);
    if (live.live) return { def: d.def, live: true };
    return { def: d.persistentDef(), live: false };
  }

  affect(d: DomainObj, flags: number): { live: boolean; config: boolean } {
    if (flags & AFFECT_LIVE && flags & AFFECT_CONFIG) {
      throw apiInvalidArg('virDomainObjGetOneDefState', 'flags', "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive");
    }
    return this.defsFor(d, flags);
  }

  /** virDomainObjGetDefs' checks. */
  defsFor(d: DomainObj, flags: number): { live: boolean; config: boolean } {
    let live = (flags & AFFECT_LIVE) !== 0;
    let config = (flags & AFFECT_CONFIG) !== 0;
    if (!live && !config) {
      if (d.active) live = true;
      else config = true;
    }
    if (live && !d.active) throw notRunning();
    if (config && !d.persistent) throw operationInvalid('transient domains do not have any persistent config', DOMAIN);
    return { live, config };
  }

  private setMemory(h: RemoteNonnullDomain, memory: bigint, flags: number): void {
    checkFlags('testDomainSetMemoryFlags', flags, 7);
    const d = this.resolve(h);
    const { def, live } = this.oneDef(d, flags);
    if (flags & MEM_MAXIMUM) {
      if (live) throw operationInvalid('cannot resize the maximum memory on an active domain');
      if (def.sections.get('cpu')?.some((c) => child(c, 'numa'))) {
        throw operationInvalid('initial memory size of a domain with NUMA nodes cannot be modified with this API');
      }
      def.memoryKiB = memory;
      if (def.currentMemoryKiB > memory) def.currentMemoryKiB = memory;
    } else {
      if (memory > def.memoryKiB) throw invalidArg('cannot set memory higher than max memory');
      def.currentMemoryKiB = memory;
    }
  }

  private getVcpus(h: RemoteNonnullDomain, flags: number): number {
    checkFlags('testDomainGetVcpusFlags', flags, 7);
    const d = this.resolve(h);
    const { def } = this.oneDef(d, flags);
    return flags & VCPU_MAXIMUM ? def.vcpu.count : vcpus(def);
  }

  private setVcpus(h: RemoteNonnullDomain, n: number, flags: number): void {
    checkFlags('testDomainSetVcpusFlags', flags, 7);
    if (n === 0) throw apiInvalidArg('virDomainSetVcpusFlags', 'nvcpus', 'nvcpus in virDomainSetVcpusFlags must not be zero');
    if (flags & VCPU_MAXIMUM && flags & AFFECT_LIVE) {
      throw apiInvalidArg('virDomainSetVcpusFlags', 'ctl', "Flag 'VIR_DOMAIN_AFFECT_CONFIG' is required by flag 'VIR_DOMAIN_VCPU_MAXIMUM'");
    }
    if (n > MAX_VCPUS) throw invalidArg(`requested cpu amount exceeds maximum supported amount (${n} > ${MAX_VCPUS})`);
    const d = this.resolve(h);
    const { live, config } = this.defsFor(d, flags);
    const def = live ? d.def : undefined;
    const pdef = config ? d.persistentDef() : undefined;
    if (def && def.vcpu.count < n) throw invalidArg(`requested cpu amount exceeds maximum (${n} > ${def.vcpu.count})`);
    if (pdef && !(flags & VCPU_MAXIMUM) && pdef.vcpu.count < n) {
      throw invalidArg(`requested cpu amount exceeds maximum (${n} > ${pdef.vcpu.count})`);
    }
    if (def) setCurrentVcpus(def, n);
    if (pdef) {
      if (flags & VCPU_MAXIMUM) {
        const cur = Math.min(vcpus(pdef), n);
        pdef.vcpu.count = n;
        setCurrentVcpus(pdef, cur);
      } else setCurrentVcpus(pdef, n);
    }
  }

  private save(h: RemoteNonnullDomain, to: string, dxml: string | null, flags: number): void {
    checkFlags('testDomainSaveFlags', flags, 0);
    if (dxml !== null) throw argumentUnsupported('xml modification unsupported');
    const d = this.resolve(h);
    if (!d.active) throw notRunning();
    writeSaveImage(to, d.name, formatDomain(d.def, { id: d.id, secure: true }));
    this.shutdownState(d, ShutoffReason.SAVED);
    this.lifecycle(d, Lifecycle.STOPPED, Detail.STOPPED_SAVED);
    this.dropIfTransient(d);
  }

  private restore(from: string, dxml: string | null, flags: number): void {
    checkFlags('testDomainRestoreFlags', flags, 0);
    if (dxml !== null) throw argumentUnsupported('xml modification unsupported');
    const def = this.parse(readSaveImage(from));
    const { dom } = this.list.add(def, true);
    this.startState(dom, RunningReason.RESTORED);
    this.lifecycle(dom, Lifecycle.STARTED, Detail.STARTED_RESTORED);
  }
}

function count<T>(it: Iterable<T>, pred: (x: T) => boolean): number {
  let n = 0;
  for (const x of it) if (pred(x)) n++;
  return n;
}

/** Online vcpus (virDomainDefGetVcpus). */
export const vcpus = (def: DomainDef): number => def.vcpu.current ?? def.vcpu.count;

function setCurrentVcpus(def: DomainDef, n: number): void {
  def.vcpu.current = n === def.vcpu.count ? undefined : n;
}

const hasMemballoon = (def: DomainDef): boolean =>
  def.devices.others.some((o) => o.kind === 'memballoon' && o.el.attrs.some(([k, v]) => k === 'model' && v !== 'none'));

/** virDomainDiskByName: a target name or a source path. */
function findDisk(def: DomainDef, path: string): DomainDef['devices']['disks'][number] | undefined {
  return def.devices.disks.find(
    (d) => d.targetDev === path || (d.source?.attrs.some(([k, v]) => (k === 'file' || k === 'dev' || k === 'dir') && v === path) ?? false),
  );
}

/** The domain taints libvirt's test driver records when it loads a config. */
function taintsOf(def: DomainDef): string[] {
  const t: string[] = [];
  if (def.devices.nets.some((n) => n.script !== undefined)) t.push('tainted: network configuration using opaque shell scripts');
  if (def.os.dtb !== undefined) t.push('tainted: custom device tree blob used');
  return t;
}

/** virConnectListAllDomains filter groups; a group with both or neither flag does not filter. */
function matchesListFilter(d: DomainObj, flags: number): boolean {
  const pair = (a: number, b: number, isA: boolean): boolean => {
    const fa = (flags & a) !== 0;
    const fb = (flags & b) !== 0;
    return fa === fb || (fa ? isA : !isA);
  };
  if (!pair(1, 2, d.active)) return false;
  if (!pair(4, 8, d.persistent)) return false;
  const st = flags & (16 | 32 | 64 | 128);
  if (st) {
    const kind = d.state === State.RUNNING ? 16 : d.state === State.PAUSED ? 32 : d.state === State.SHUTOFF ? 64 : 128;
    if (!(st & kind)) return false;
  }
  if (!pair(256, 512, d.hasManagedSave)) return false;
  if (!pair(1024, 2048, d.autostart)) return false;
  if (!pair(4096, 8192, (d.snapshots?.size ?? 0) > 0)) return false;
  // The test driver keeps no checkpoints.
  if (!pair(16384, 32768, false)) return false;
  return true;
}
