// Live vCPU count changes (setvcpus --live) on a guest started with <vcpu current='N'>M</vcpu>,
// i.e. -smp N,maxcpus=M: device_add/device_del of the CPU entities QEMU lists in
// query-hotpluggable-cpus, with ids vcpuK as libvirt names them.
import type { XmlEl } from '../../../api/xml/tree.js';
import type { QemuDomain } from '../domain-obj.js';
import { invalidArg, operationTimeout } from '../errors.js';
import type { QemuDriverState } from '../state.js';
import { hotpluggedVcpuIds } from '../command/machine.js';
import { configUnsupported } from './common.js';
import { unplugsOf } from './unplug.js';

interface HotpluggableCpu {
  type: string;
  'vcpus-count': number;
  props: Record<string, number>;
  'qom-path'?: string;
}

const TOPOLOGY = ['node-id', 'drawer-id', 'book-id', 'socket-id', 'die-id', 'cluster-id', 'core-id', 'thread-id'];

/** The entities in vCPU id order (QEMU lists them highest first). */
async function cpuEntities(d: QemuDomain): Promise<HotpluggableCpu[]> {
  const list = (await d.proc?.command<HotpluggableCpu[]>('query-hotpluggable-cpus', undefined, d.name)) ?? [];
  const key = (c: HotpluggableCpu): number[] => TOPOLOGY.map((k) => c.props[k] ?? 0);
  return [...list].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i] - kb[i];
    return 0;
  });
}

/** Hot-plugged ones live under /machine/peripheral (with our id); boot ones cannot be unplugged. */
const hotplugged = (c: HotpluggableCpu): boolean => c['qom-path']?.startsWith('/machine/peripheral/') === true;

export async function setVcpusLive(s: QemuDriverState, d: QemuDomain, n: number): Promise<void> {
  const def = d.def;
  const max = def.vcpu.count;
  if (n > max) throw invalidArg(`requested vcpus is greater than max allowable vcpus for the live domain: ${n} > ${max}`);
  const current = def.vcpu.current ?? max;
  if (n === current) return;
  const cpus = await cpuEntities(d);
  if (cpus.some((c) => c['vcpus-count'] !== 1)) throw configUnsupported('target vm vcpu granularity does not allow the desired vcpu count');
  const online = (): number => cpus.filter((c) => c['qom-path'] !== undefined).length;
  try {
    if (n > current) {
      for (let i = 0; i < cpus.length && online() < n; i++) {
        const c = cpus[i];
        if (c['qom-path'] !== undefined) continue;
        await d.proc?.command('device_add', { driver: c.type, id: `vcpu${i}`, ...c.props }, d.name);
        c['qom-path'] = `/machine/peripheral/vcpu${i}`;
      }
      return;
    }
    const victims: number[] = [];
    for (let i = cpus.length - 1; i >= 0 && online() - victims.length > n; i--) {
      if (cpus[i]['qom-path'] === undefined) continue;
      if (!hotplugged(cpus[i])) break;
      victims.push(i);
    }
    if (online() - victims.length > n) {
      throw configUnsupported('failed to find appropriate hotpluggable vcpus to reach the desired target vcpu count');
    }
    const unplugs = unplugsOf(s);
    for (const i of victims) {
      const id = `vcpu${i}`;
      // QEMU 7.2 announces only the CPU's lapic child: the entity list says when it is gone.
      const gone = async (): Promise<boolean> => (await cpuEntities(d))[i]?.['qom-path'] === undefined;
      if (!(await unplugs.request(d, id, gone))) {
        throw operationTimeout('vcpu unplug request timed out. Unplug result must be manually inspected in the domain');
      }
      delete cpus[i]['qom-path'];
    }
  } finally {
    if (d.proc) {
      const now = online();
      def.vcpu.current = now === max ? undefined : now;
      def.sections.set('vcpus', [vcpusElement(cpus)]);
      s.saveStatus(d);
    }
  }
}

/**
 * At start (and before an incoming migration), the vCPUs the definition lists as enabled and
 * hotpluggable are plugged before the guest runs, so a restored guest has the CPUs it was saved with.
 */
export async function plugStartupVcpus(d: QemuDomain): Promise<void> {
  const ids = hotpluggedVcpuIds(d.def);
  if (ids.length === 0) return;
  const cpus = await cpuEntities(d);
  for (const i of ids) {
    const c = cpus[i];
    if (!c) throw configUnsupported(`vCPU ${i} does not exist in this guest's topology`);
    await d.proc?.command('device_add', { driver: c.type, id: `vcpu${i}`, ...c.props }, d.name);
  }
}

/** The live <vcpus> list libvirt shows once vCPUs were hot-plugged. */
function vcpusElement(cpus: readonly HotpluggableCpu[]): XmlEl {
  let order = 0;
  const children = cpus.map((c, id): XmlEl => {
    const on = c['qom-path'] !== undefined;
    const attrs: [string, string][] = [['id', String(id)], ['enabled', on ? 'yes' : 'no'], ['hotpluggable', on && !hotplugged(c) ? 'no' : 'yes']];
    if (on) attrs.push(['order', String(++order)]);
    return { name: 'vcpu', attrs, children: [] };
  });
  return { name: 'vcpus', attrs: [], children };
}
