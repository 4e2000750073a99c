// Domain-wide options: what the builder accepts at the top level, clock/timer flags and boot order.
import type { DomainDef } from '../../../api/xml/domain/types.js';
import { attr } from '../../../api/xml/tree.js';
import { unsupportedConfig, unsupportedElement } from './errors.js';

/** Features that need nothing on an i440fx command line beyond -no-acpi when acpi is absent. */
const FEATURES = ['acpi', 'apic', 'pae'];
/** Top-level sections that only matter to cgroups/security setup or carry no QEMU argument. */
const IGNORED_SECTIONS = ['cputune', 'memtune', 'resource', 'seclabel', 'sysinfo', 'cpu', 'pm', 'perf', 'vcpus'];
const DEVICE_KINDS = ['input', 'memballoon', 'rng', 'watchdog'];
const OS_EXTRAS = ['smbios', 'bootmenu'];

export function validateDomain(def: DomainDef): void {
  if (def.os.type !== 'hvm') throw unsupportedElement(`OS type '${def.os.type}'`);
  // Without an arch attribute libvirt takes the host's (x86_64 here), not the parser's i686.
  if (def.os.arch !== 'x86_64' && !def.os.archDefaulted) throw unsupportedElement(`architecture '${def.os.arch}'`);
  if (def.os.loader || def.os.nvram || def.os.firmware) throw unsupportedElement('firmware selection (<loader>, <nvram>, firmware=)');
  if (def.os.dtb !== undefined) throw unsupportedElement('<dtb>');
  for (const e of def.os.rest) if (!OS_EXTRAS.includes(e.name)) throw unsupportedElement(`<os> element <${e.name}>`);
  for (const f of def.features) {
    if (!FEATURES.includes(f.name)) throw unsupportedElement(`feature <${f.name}>`);
    if (f.name !== 'acpi' && attr(f, 'state') === 'off') throw unsupportedElement(`feature <${f.name} state='off'>`);
  }
  for (const name of def.sections.keys()) if (!IGNORED_SECTIONS.includes(name)) throw unsupportedElement(`<${name}>`);
  const cpu = def.sections.get('cpu')?.[0];
  if (cpu?.children.some((c) => 'name' in c && c.name === 'numa')) throw unsupportedElement('guest NUMA topology (<cpu><numa>)');
  if (def.vcpu.placement !== 'static' || def.vcpu.cpuset !== undefined) throw unsupportedElement('vCPU placement and pinning (<vcpu placement/cpuset>)');
  for (const o of def.devices.others) {
    // The "none" audio back-end libvirt adds for VNC is the -audiodev the command line always has.
    if (o.kind === 'audio' && attr(o.el, 'type') === 'none' && attr(o.el, 'id') === '1') continue;
    if (!DEVICE_KINDS.includes(o.kind)) throw unsupportedElement(`<${o.kind}> device`);
  }
}

/** -rtc, the PIT tick policy and -no-hpet from <clock>. */
export function clockArgs(def: DomainDef): string[] {
  const { offset } = def.clock;
  if (offset !== 'utc' && offset !== 'localtime') throw unsupportedElement(`clock offset '${offset}'`);
  let rtc = `base=${offset}`;
  const extra: string[] = [];
  for (const t of def.clock.children) {
    if (t.name !== 'timer') throw unsupportedElement(`<clock> element <${t.name}>`);
    const name = attr(t, 'name') ?? '';
    const tick = attr(t, 'tickpolicy');
    const present = attr(t, 'present');
    if (name === 'rtc' && present === undefined) {
      if (tick === 'catchup') rtc += ',driftfix=slew';
      else if (tick !== undefined && tick !== 'delay') throw unsupportedElement(`rtc tickpolicy '${tick}'`);
    } else if (name === 'pit' && present === undefined) {
      if (tick === 'delay' || tick === 'discard') extra.push('-global', `kvm-pit.lost_tick_policy=${tick}`);
      else if (tick !== undefined) throw unsupportedElement(`pit tickpolicy '${tick}'`);
    } else if (name === 'hpet' && tick === undefined) {
      if (present === 'no') extra.push('-no-hpet');
    } else {
      throw unsupportedElement(`timer '${name}' with these settings`);
    }
  }
  return ['-rtc', rtc, ...extra];
}

/** -boot [menu=on,splash-time=N,]strict=on, then direct kernel boot. */
export function bootArgs(def: DomainDef): string[] {
  const menu = def.os.rest.find((e) => e.name === 'bootmenu');
  const opts: string[] = [];
  if (attr(menu, 'enable') === 'yes') {
    opts.push('menu=on');
    const timeout = attr(menu, 'timeout');
    if (timeout !== undefined) opts.push(`splash-time=${timeout}`);
  }
  opts.push('strict=on');
  const args = ['-boot', opts.join(',')];
  if (def.os.kernel !== undefined) args.push('-kernel', def.os.kernel);
  if (def.os.initrd !== undefined) args.push('-initrd', def.os.initrd);
  if (def.os.cmdline !== undefined) args.push('-append', def.os.cmdline);
  if (def.os.kernel === undefined && (def.os.initrd !== undefined || def.os.cmdline !== undefined)) {
    throw unsupportedConfig('<initrd> and <cmdline> need a <kernel>');
  }
  return args;
}

/**
 * bootindex per device. Per-device <boot order> wins; otherwise the n-th <os><boot dev> (1-based)
 * goes to the first disk, CD-ROM or interface of that kind, as libvirt does.
 */
export function bootIndexes(def: DomainDef): Map<object, number> {
  const out = new Map<object, number>();
  const { disks, nets } = def.devices;
  const order = (el: { boot?: { attrs: [string, string][] } }): number | undefined => {
    const v = el.boot?.attrs.find(([k]) => k === 'order')?.[1];
    return v === undefined ? undefined : Number(v);
  };
  for (const d of [...disks, ...nets]) {
    const o = order(d);
    if (o !== undefined) out.set(d, o);
  }
  if (out.size > 0) return out;
  def.os.boots.forEach((dev, i) => {
    let target: object | undefined;
    if (dev === 'hd') target = disks.find((d) => d.device === 'disk');
    else if (dev === 'cdrom') target = disks.find((d) => d.device === 'cdrom');
    else if (dev === 'network') target = nets[0];
    else if (dev !== 'fd') throw unsupportedElement(`boot device '${dev}'`);
    if (target !== undefined) out.set(target, i + 1);
  });
  return out;
}
