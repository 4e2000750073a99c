// vCPU, emulator and IOThread pinning plus IOThread add/delete/params, as libvirt 9.0's test
// driver does them: pins live in the definition (so dumpxml shows them), vCPU pinning only on
// the running definition, and the unpinned defaults (host CPUs, or the online vCPU numbers for
// IOThreads) computed on the fly. Checked with python/virsh against test:///default.
import type { DriverMethods } from '../../api/driver.js';
import type { DomainDef } from '../../api/xml/domain/types.js';
import type { DomainStore } from './domains.js';
import type { DomainObj } from './domain-obj.js';
import { vcpus } from './domains.js';
import { apiInvalidArg, checkFlags, DOMAIN, invalidArg, operationInvalid } from './errors.js';
import { validateParams, ParamType } from './typed-params.js';
import { cpusFromMap, parseCpuset, range, readCputune, readIothreads, writeCputune, writeIothreads, writeMap, type Cpus } from './cputune.js';

const AFFECT = 3;

/** An IOThread's polling settings, kept per domain object; QEMU's defaults until set. */
export interface IothreadPoll {
  maxNs: bigint;
  grow: number;
  shrink: number;
}
const polls = new WeakMap<DomainObj, Map<number, IothreadPoll>>();

export function iothreadPoll(d: DomainObj, id: number): IothreadPoll {
  let m = polls.get(d);
  if (!m) polls.set(d, (m = new Map()));
  let p = m.get(id);
  if (!p) m.set(id, (p = { maxNs: 32768n, grow: 0, shrink: 0 }));
  return p;
}

export function domainPinningMethods(store: DomainStore): DriverMethods {
  const r = store.resolve.bind(store);
  const hostCpus = (): Cpus => range(store.host.maxCpus);
  /** def->cpumask: <vcpu cpuset='...'>. */
  const cpumask = (def: DomainDef): Cpus | undefined => (def.vcpu.cpuset === undefined ? undefined : parseCpuset(def.vcpu.cpuset));
  const mapLen = (): number => Math.ceil(store.host.maxCpus / 8);

  return {
    DOMAIN_PIN_VCPU: ({ dom, vcpu, cpumap }) => pinVcpu(store, dom, vcpu, cpumap, 0),
    DOMAIN_PIN_VCPU_FLAGS: ({ dom, vcpu, cpumap, flags }) => pinVcpu(store, dom, vcpu, cpumap, flags),
    DOMAIN_GET_VCPU_PIN_INFO: ({ dom, ncpumaps, maplen, flags }) => {
      const { def } = store.oneDef(r(dom), flags);
      const pins = readCputune(def).vcpupin;
      const num = Math.min(ncpumaps, def.vcpu.count);
      const cpumaps = new Uint8Array(num * maplen);
      for (let i = 0; i < num; i++) writeMap(pins.get(i) ?? cpumask(def) ?? hostCpus(), cpumaps, i * maplen, maplen);
      return { cpumaps, num };
    },
    DOMAIN_PIN_EMULATOR: ({ dom, cpumap, flags }) => {
      checkFlags('testDomainPinEmulator', flags, AFFECT);
      const { def } = store.oneDef(r(dom), flags);
      const cpus = cpusFromMap(cpumap);
      if (cpus.length === 0) throw invalidArg('Empty cpu list for pinning');
      const t = readCputune(def);
      t.emulatorpin = cpus;
      writeCputune(def, t);
    },
    DOMAIN_GET_EMULATOR_PIN_INFO: ({ dom, maplen, flags }) => {
      checkFlags('testDomainGetEmulatorPinInfo', flags, AFFECT);
      const { def } = store.oneDef(r(dom), flags);
      const cpumaps = new Uint8Array(maplen);
      writeMap(readCputune(def).emulatorpin ?? cpumask(def) ?? hostCpus(), cpumaps, 0, maplen);
      return { cpumaps, ret: 1 };
    },
    DOMAIN_GET_IOTHREAD_INFO: ({ dom, flags }) => {
      checkFlags('testDomainGetIOThreadInfo', flags, AFFECT);
      const { def } = store.oneDef(r(dom), flags);
      const pins = readCputune(def).iothreadpin;
      const len = mapLen();
      const info = readIothreads(def).map(({ id }) => {
        const cpumap = new Uint8Array(len);
        writeMap(pins.get(id) ?? range(vcpus(def)), cpumap, 0, len);
        return { iothreadId: id, cpumap };
      });
      return { info, ret: info.length };
    },
    DOMAIN_PIN_IOTHREAD: ({ dom, iothreadsId, cpumap, flags }) => {
      checkFlags('testDomainPinIOThread', flags, AFFECT);
      const { def } = store.oneDef(r(dom), flags);
      if (!readIothreads(def).some((x) => x.id === iothreadsId)) throw invalidArg(`iothreadid ${iothreadsId} not found`);
      const cpus = cpusFromMap(cpumap);
      if (cpus.length === 0) throw invalidArg('Empty iothread cpumap list for pinning');
      const t = readCputune(def);
      t.iothreadpin.set(iothreadsId, cpus);
      writeCputune(def, t);
    },
    DOMAIN_ADD_IOTHREAD: ({ dom, iothreadId, flags }) => {
      checkFlags('testDomainAddIOThread', flags, AFFECT);
      if (iothreadId === 0) throw invalidArg('invalid value of 0 for iothread_id');
      const d = r(dom);
      const defs = targetDefs(store, d, flags);
      for (const def of defs) {
        if (readIothreads(def).some((x) => x.id === iothreadId)) {
          throw invalidArg(`an IOThread is already using iothread_id '${iothreadId}'`, DOMAIN);
        }
      }
      for (const def of defs) {
        const list = readIothreads(def);
        list.push({ id: iothreadId, autofill: false, el: { name: 'iothread', attrs: [['id', String(iothreadId)]], children: [] } });
        writeIothreads(def, list);
      }
    },
    DOMAIN_DEL_IOTHREAD: ({ dom, iothreadId, flags }) => {
      if (iothreadId === 0) {
        throw apiInvalidArg('virDomainDelIOThread', 'iothread_id', 'iothread_id in virDomainDelIOThread must not be zero');
      }
      checkFlags('testDomainDelIOThread', flags, AFFECT);
      const d = r(dom);
      const defs = targetDefs(store, d, flags);
      for (const def of defs) {
        if (!readIothreads(def).some((x) => x.id === iothreadId)) {
          throw invalidArg(`cannot find IOThread '${iothreadId}' in iothreadids list`, DOMAIN);
        }
      }
      for (const def of defs) {
        const t = readCputune(def);
        t.iothreadpin.delete(iothreadId);
        writeIothreads(def, readIothreads(def).filter((x) => x.id !== iothreadId));
        writeCputune(def, t);
      }
    },
    DOMAIN_SET_IOTHREAD_PARAMS: ({ dom, iothreadId, params, flags }) => {
      checkFlags('testDomainSetIOThreadParams', flags, AFFECT);
      validateParams(params, { poll_max_ns: ParamType.ULLONG, poll_grow: ParamType.UINT, poll_shrink: ParamType.UINT });
      const d = r(dom);
      const { def } = store.oneDef(d, flags);
      if (!readIothreads(def).some((x) => x.id === iothreadId)) throw invalidArg(`cannot find IOThread '${iothreadId}' in iothreadids`);
      // Polling values are runtime state (shown by domstats), never part of the XML.
      const poll = iothreadPoll(d, iothreadId);
      for (const p of params) {
        if (p.field === 'poll_max_ns' && p.value.type === ParamType.ULLONG) poll.maxNs = p.value.ul;
        else if (p.field === 'poll_grow' && p.value.type === ParamType.UINT) poll.grow = p.value.ui;
        else if (p.field === 'poll_shrink' && p.value.type === ParamType.UINT) poll.shrink = p.value.ui;
      }
    },
  };
}

function pinVcpu(store: DomainStore, h: Parameters<DomainStore['resolve']>[0], vcpu: number, cpumap: Uint8Array, flags: number): void {
  checkFlags('testDomainPinVcpuFlags', flags, 0);
  const d = store.resolve(h);
  if (!d.active) throw operationInvalid('cannot pin vcpus on an inactive domain');
  if (vcpu >= vcpus(d.def)) throw invalidArg(`requested vcpu '${vcpu}' is not present in the domain`);
  const t = readCputune(d.def);
  t.vcpupin.set(vcpu, cpusFromMap(cpumap));
  writeCputune(d.def, t);
}

/** virDomainObjGetDefs: the live and/or persistent definitions a LIVE/CONFIG request changes. */
function targetDefs(store: DomainStore, d: ReturnType<DomainStore['resolve']>, flags: number): DomainDef[] {
  const { live, config } = store.defsFor(d, flags);
  const out: DomainDef[] = [];
  if (live) out.push(d.def);
  if (config) out.push(d.persistentDef());
  return out;
}
