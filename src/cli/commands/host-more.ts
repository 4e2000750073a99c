// Host commands beyond the basics: free memory per NUMA cell, node CPU and memory statistics,
// vCPU limits, domain capabilities, sysinfo and CPU model names, in virsh 9.0's layouts.
import { setTimeout as sleep } from 'node:timers/promises';
import { attempt, CliError, asVirError, type Ctl, type Opts } from '../ctl.js';
import type { CommandTable } from './types.js';

/** printf("%5.1lf") as glibc prints it on x86 (0/0 is a negative NaN there). */
export function fixed1(v: number, width = 5): string {
  if (Number.isNaN(v)) return '-nan'.padStart(width);
  if (!Number.isFinite(v)) return (v > 0 ? 'inf' : '-inf').padStart(width);
  return v.toFixed(1).padStart(width);
}

/** virsh's string options that must not be empty (vshCommandOptStringReq). */
function req(o: Opts, name: string): string | null {
  return o.string(name) ?? null;
}

async function freecell(ctl: Ctl, o: Opts): Promise<void> {
  const all = o.bool('all');
  const cellno = o.has('cellno');
  if (all && cellno) throw new CliError('Options --all and --cellno are mutually exclusive');
  const c = ctl.connection;
  if (all) {
    const caps = await attempt(c.capabilities(), 'unable to get node capabilities');
    const topo = /<topology>[\s\S]*?<cells[^>]*>([\s\S]*?)<\/cells>/.exec(caps)?.[1] ?? '';
    const ids = [...topo.matchAll(/<cell\s[^>]*?\bid=['"]([^'"]*)['"]/g)].map((m) => m[1]!);
    const rows: [string, bigint][] = [];
    for (const idText of ids) {
      if (!/^\d+$/.test(idText)) throw new CliError('conversion from string failed');
      const id = Number(idText);
      let free: bigint[];
      try {
        free = await c.nodeCellsFreeMemory(id, 1);
      } catch (e) {
        throw new CliError(`failed to get free memory for NUMA node number: ${id}`, asVirError(e));
      }
      rows.push([idText, free[0] ?? 0n]);
    }
    let total = 0n;
    let out = '';
    for (const [id, free] of rows) {
      out += `${id.padStart(5)}: ${String(free / 1024n).padStart(10)} KiB\n`;
      total += free;
    }
    ctl.print(out);
    ctl.printExtra('--------------------\n');
    ctl.printExtra(`${'Total'.padStart(5)}: ${String(total / 1024n).padStart(10)} KiB\n`);
    return;
  }
  if (cellno) {
    const cell = o.int('cellno')!;
    const free = await attempt(c.nodeCellsFreeMemory(cell, 1), '');
    ctl.print(`${cell}: ${(free[0] ?? 0n) / 1024n} KiB\n`);
    return;
  }
  const free = await attempt(c.nodeFreeMemory(), '');
  if (free === 0n) throw new CliError('');
  ctl.print(`Total: ${free / 1024n} KiB\n`);
}

const CPU_FIELDS = ['user', 'kernel', 'idle', 'iowait', 'intr', 'utilization'] as const;
const CPU_LABELS = ['user:', 'system:', 'idle:', 'iowait:', 'intr:', 'usage:'];

async function nodecpustats(ctl: Ctl, o: Opts): Promise<void> {
  const percent = o.bool('percent');
  const cpu = o.int('cpu') ?? -1;
  const c = ctl.connection;
  const sample = async (what: string) => {
    try {
      return await c.nodeCpuStats(cpu);
    } catch (e) {
      throw new CliError(what, asVirError(e));
    }
  };
  const stats: bigint[] = CPU_FIELDS.map(() => 0n);
  const present = CPU_FIELDS.map(() => false);
  for (let i = 0; i < 2; i++) {
    const s = await sample(i === 0 ? 'Unable to get number of cpu stats' : 'Unable to get node cpu stats');
    if (i === 0 && Object.keys(s).length === 0) return;
    CPU_FIELDS.forEach((f, k) => {
      const v = s[f];
      if (v === undefined) return;
      if (i === 0) {
        stats[k] = v;
        present[k] = true;
      } else if (present[k]) stats[k] = BigInt.asUintN(64, v - stats[k]!);
    });
    if (present[5] || !percent) break;
    await sleep(1000);
  }
  let out = '';
  if (!percent) {
    for (let k = 0; k < 5; k++) if (present[k]) out += `${CPU_LABELS[k]!.padEnd(15)} ${String(stats[k]).padStart(20)}\n`;
  } else if (present[5]) {
    out += `${'usage:'.padEnd(15)} ${String(stats[5]).padStart(5)}%\n`;
    out += `${'idle:'.padEnd(15)} ${String(BigInt.asUintN(64, 100n - stats[5]!)).padStart(5)}%\n`;
  } else {
    const total = stats.slice(0, 5).reduce((a, b) => a + Number(b), 0);
    out += `${'usage:'.padEnd(15)} ${fixed1(((Number(stats[0]) + Number(stats[1])) / total) * 100)}%\n`;
    for (let k = 0; k < 5; k++) if (present[k]) out += `${CPU_LABELS[k]!.padEnd(15)} ${fixed1((Number(stats[k]) / total) * 100)}%\n`;
  }
  ctl.print(out);
}

async function nodememstats(ctl: Ctl, o: Opts): Promise<void> {
  const cell = o.int('cell') ?? -1;
  const stats = await attempt(ctl.connection.nodeMemoryStats(cell), 'Unable to get number of memory stats');
  ctl.print(stats.map(([f, v]) => `${f.padEnd(7)}: ${String(v).padStart(20)} KiB\n`).join(''));
}

async function maxvcpus(ctl: Ctl, o: Opts): Promise<void> {
  const type = req(o, 'type');
  const c = ctl.connection;
  let vcpus = -1;
  try {
    const caps = await c.domainCapabilities({ virttype: type });
    const m = /<vcpu\b[^>]*\bmax=['"](-?\d+)['"]/.exec(caps);
    if (m) vcpus = Number(m[1]);
  } catch { /* virsh falls back to virConnectGetMaxVcpus */ }
  if (vcpus < 0) vcpus = await attempt(c.maxVcpus(type), '');
  ctl.print(`${vcpus}\n`);
}

async function domcapabilities(ctl: Ctl, o: Opts): Promise<void> {
  const opts = { virttype: req(o, 'virttype'), emulatorbin: req(o, 'emulatorbin'), arch: req(o, 'arch'), machine: req(o, 'machine') };
  ctl.print(`${await attempt(ctl.connection.domainCapabilities(opts), 'failed to get emulator capabilities')}\n`);
}

async function cpuModels(ctl: Ctl, o: Opts): Promise<void> {
  const arch = o.string('arch')!;
  const models = await attempt(ctl.connection.cpuModelNames(arch), 'failed to get CPU model names');
  if (models.length === 0) ctl.printExtra('all CPU models are accepted\n');
  else ctl.print(models.map((m) => `${m}\n`).join(''));
}

export const HOST_MORE_COMMANDS: CommandTable = {
  freecell,
  nodecpustats,
  nodememstats,
  maxvcpus,
  domcapabilities,
  sysinfo: async (ctl) => {
    ctl.print(await attempt(ctl.connection.sysinfo(), 'failed to get sysinfo'));
  },
  'cpu-models': cpuModels,
};
