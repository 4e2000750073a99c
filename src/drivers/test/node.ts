// Host-level answers of libvirt 9.0's test driver: node info from the config's <cpu> and
// <memory> (defaults otherwise), capabilities, fixed CPU statistics and maps, NUMA cells
// (test:///default only), the security model, sysinfo and CPU model names.
import { hostname } from 'node:os';
import type { NodeConfig } from '../../api/xml/node-config.js';
import type { DriverMethods } from '../../api/driver.js';
import { REMOTE_CONNECT_CPU_MODELS_MAX, REMOTE_NODE_CPU_STATS_MAX, REMOTE_NODE_MAX_CELLS } from '../../protocol/gen/remote.js';
import { VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';
import type { NodeCell } from './node-caps.js';
import { capabilitiesXml, defaultCells } from './node-caps.js';
import { CPU_MODELS, OTHER_ARCHES } from './node-cpu-models.js';
import { checkFlags, internalError, invalidArg, noSupport, rpcLimit, virErr } from './node-common.js';

/** libvirt's defaultNodeInfo for the test driver. */
const DEFAULTS = { model: 'i686', memory: 3 * 1024 * 1024, mhz: 1400, nodes: 2, sockets: 2, cores: 2, threads: 2 };

const SYSINFO = `<sysinfo type='smbios'>
  <bios>
    <entry name='vendor'>LENOVO</entry>
    <entry name='version'>G4ETA1WW (2.61 )</entry>
    <entry name='date'>05/07/2014</entry>
    <entry name='release'>2.61</entry>
  </bios>
</sysinfo>
`;

/** testNodeGetCPUStats: the same four counters for every CPU. */
const CPU_STATS: [string, bigint][] = [
  ['user', 9797400000n],
  ['kernel', 34678723400000n],
  ['idle', 87264900000n],
  ['iowait', 763600000n],
];

export interface NodeInfoValues {
  model: string;
  memory: number;
  cpus: number;
  mhz: number;
  nodes: number;
  sockets: number;
  cores: number;
  threads: number;
}

/** C strings in fixed or counted char arrays: bytes plus the terminating NUL. */
function cString(s: string, size?: number): Uint8Array {
  const b = new TextEncoder().encode(s);
  const out = new Uint8Array(size ?? b.length + 1);
  out.set(b.subarray(0, out.length - 1));
  return out;
}

export class NodeInfo {
  readonly info: NodeInfoValues;
  readonly cells: NodeCell[];

  /**
   * `opts.defaultTopology`: the connection is test:///default, whose two NUMA cells libvirt
   * builds in code; connections from a config file have no cells (and no free memory).
   */
  constructor(config: NodeConfig, opts: { defaultTopology?: boolean } = {}) {
    const c = config.cpu;
    const num = (v: number | undefined, what: string, dflt: number): number => {
      if (v === undefined) return dflt;
      if (!Number.isInteger(v)) throw virErr(VirErrorNumber.XML_ERROR, 'XML error: %s', `invalid node ${what} value`);
      return v;
    };
    const nodes = num(c.nodes, 'cpu nodes', DEFAULTS.nodes);
    const sockets = num(c.sockets, 'cpu sockets', DEFAULTS.sockets);
    const cores = num(c.cores, 'cpu cores', DEFAULTS.cores);
    const threads = num(c.threads, 'cpu threads', DEFAULTS.threads);
    let cpus = cores * threads * sockets * nodes;
    const active = num(c.active, 'cpu active', cpus);
    if (active < cpus) cpus = active;
    const model = c.model ?? DEFAULTS.model;
    if (new TextEncoder().encode(model).length >= 32) throw internalError(`Model ${model} too big for destination`);
    this.info = {
      model, memory: num(config.memoryKiB, 'memory', DEFAULTS.memory), cpus, mhz: num(c.mhz, 'cpu mhz', DEFAULTS.mhz),
      nodes, sockets, cores, threads,
    };
    this.cells = opts.defaultTopology ? defaultCells() : [];
  }

  methods(): DriverMethods {
    const i = this.info;
    return {
      CONNECT_GET_TYPE: () => ({ type: 'TEST' }),
      CONNECT_GET_VERSION: () => ({ hvVer: 2n }),
      CONNECT_GET_HOSTNAME: () => ({ hostname: hostname() }),
      CONNECT_GET_MAX_VCPUS: () => ({ maxVcpus: 32 }),
      CONNECT_IS_SECURE: () => ({ secure: 1 }),
      CONNECT_GET_CAPABILITIES: () => ({ capabilities: capabilitiesXml(this.cells) }),
      CONNECT_GET_SYSINFO: (a) => {
        checkFlags(a.flags, 0, 'testConnectGetSysinfo');
        return { sysinfo: SYSINFO };
      },
      NODE_GET_INFO: () => ({
        model: cString(i.model, 32), memory: BigInt(i.memory), cpus: i.cpus, mhz: i.mhz, nodes: i.nodes,
        sockets: i.sockets, cores: i.cores, threads: i.threads,
      }),
      // libvirt sums the cells' free KiB into an unsigned int and returns it as if bytes.
      NODE_GET_FREE_MEMORY: () => ({ freeMem: BigInt(this.cells.reduce((s, c) => (s + c.freeMem) >>> 0, 0)) }),
      NODE_GET_CELLS_FREE_MEMORY: (a) => {
        if (a.maxcells > REMOTE_NODE_MAX_CELLS) throw rpcLimit('maxCells > REMOTE_NODE_MAX_CELLS');
        if (a.startCell >= this.cells.length) throw invalidArg('Range exceeds available cells');
        const cells = this.cells.slice(Math.max(0, a.startCell), Math.max(0, a.startCell) + Math.max(0, a.maxcells));
        return { cells: cells.map((c) => BigInt(c.mem)) };
      },
      NODE_GET_CPU_MAP: (a) => {
        checkFlags(a.flags, 0, 'testNodeGetCPUMap');
        // Eight CPUs, of which 0, 2 and 4 are online.
        return { cpumap: a.needMap ? new Uint8Array([0x15]) : new Uint8Array(0), online: a.needOnline ? 3 : 0, ret: 8 };
      },
      NODE_GET_CPU_STATS: (a) => {
        if (a.nparams > REMOTE_NODE_CPU_STATS_MAX) throw rpcLimit('nparams too large');
        checkFlags(a.flags, 0, 'testNodeGetCPUStats');
        if (a.nparams === 0) return { params: [], nparams: CPU_STATS.length };
        const params = CPU_STATS.slice(0, a.nparams).map(([field, value]) => ({ field, value }));
        return { params, nparams: params.length };
      },
      NODE_GET_FREE_PAGES: (a) => {
        if (a.pages.length * a.cellCount > REMOTE_NODE_MAX_CELLS) throw rpcLimit('the result won\'t fit into REMOTE_NODE_MAX_CELLS');
        checkFlags(a.flags, 0, 'testNodeGetFreePages');
        // Made-up counts: x = 2x + 7 from 6, one per (cell, page size).
        const counts: bigint[] = [];
        let x = 6n;
        for (let c = 0; c < a.cellCount; c++) {
          for (let p = 0; p < a.pages.length; p++) {
            // A C int that wraps, then widens (sign-extended) into an unsigned long long.
            x = BigInt.asIntN(32, x * 2n + 7n);
            counts.push(BigInt.asUintN(64, x));
          }
        }
        return { counts };
      },
      NODE_GET_SECURITY_MODEL: () => ({ model: cString('testSecurity'), doi: cString('') }),
      CONNECT_GET_CPU_MODEL_NAMES: (a) => {
        checkFlags(a.flags, 0, 'testConnectGetCPUModelNames');
        const models = CPU_MODELS[a.arch];
        if (models === undefined) {
          if (OTHER_ARCHES.includes(a.arch)) {
            throw noSupport(`'${a.arch}' architecture is not supported by CPU driver`, VirErrorDomain.CPU);
          }
          throw invalidArg(`cannot find architecture ${a.arch}`);
        }
        if (models.length > REMOTE_CONNECT_CPU_MODELS_MAX) throw rpcLimit('Too many CPU models');
        return { models: a.needResults ? [...models] : [], ret: models.length };
      },
    };
  }
}
