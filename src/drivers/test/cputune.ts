// The parts of a domain definition the pinning and IOThread calls change: <cputune>'s pins and
// <iothreads>/<iothreadids>. DomainDef carries these sections as raw elements, so they are read
// into this small model and written back in libvirt's element order after each change.
import type { DomainDef } from '../../api/xml/domain/types.js';
import { attr, elementsOf, textOf, type XmlEl } from '../../api/xml/tree.js';

/** A CPU set as sorted CPU numbers. */
export type Cpus = number[];

/** virBitmapParse: "0-3,^2,5" (a malformed part is ignored). */
export function parseCpuset(s: string): Cpus {
  const on = new Set<number>();
  for (const raw of s.split(',')) {
    const part = raw.trim();
    const neg = part.startsWith('^');
    const m = /^(\d+)(?:-(\d+))?$/.exec(neg ? part.slice(1) : part);
    if (!m) continue;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let i = lo; i <= hi; i++) {
      if (neg) on.delete(i);
      else on.add(i);
    }
  }
  return [...on].sort((a, b) => a - b);
}

/** virBitmapFormat: ranges joined by commas; an empty set is ''. */
export function formatCpuset(cpus: Cpus): string {
  const out: string[] = [];
  for (let i = 0; i < cpus.length; ) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === (cpus[j] ?? 0) + 1) j++;
    out.push(i === j ? String(cpus[i]) : `${cpus[i]}-${cpus[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/** A wire cpumap (bit i of byte i/8) to CPU numbers. */
export function cpusFromMap(map: Uint8Array): Cpus {
  const cpus: Cpus = [];
  for (let i = 0; i < map.length * 8; i++) if ((map[i >> 3] ?? 0) & (1 << (i & 7))) cpus.push(i);
  return cpus;
}

/** CPU numbers written into `maplen` bytes at `offset` of `out` (bits past the map are dropped). */
export function writeMap(cpus: Cpus, out: Uint8Array, offset: number, maplen: number): void {
  for (const c of cpus) if (c < maplen * 8) out[offset + (c >> 3)] = (out[offset + (c >> 3)] ?? 0) | (1 << (c & 7));
}

export const range = (n: number): Cpus => Array.from({ length: n }, (_, i) => i);

/** <cputune> children that come before the pins, in libvirt's order. */
const HEAD = ['shares', 'global_period', 'global_quota', 'period', 'quota', 'emulator_period', 'emulator_quota', 'iothread_period', 'iothread_quota'];

export interface Cputune {
  head: XmlEl[];
  vcpupin: Map<number, Cpus>;
  emulatorpin: Cpus | undefined;
  iothreadpin: Map<number, Cpus>;
  tail: XmlEl[];
}

export function readCputune(def: DomainDef): Cputune {
  const t: Cputune = { head: [], vcpupin: new Map(), emulatorpin: undefined, iothreadpin: new Map(), tail: [] };
  const el = def.sections.get('cputune')?.[0];
  for (const c of el ? elementsOf(el) : []) {
    if (c.name === 'vcpupin') t.vcpupin.set(Number(attr(c, 'vcpu')), parseCpuset(attr(c, 'cpuset') ?? ''));
    else if (c.name === 'emulatorpin') t.emulatorpin = parseCpuset(attr(c, 'cpuset') ?? '');
    else if (c.name === 'iothreadpin') t.iothreadpin.set(Number(attr(c, 'iothread')), parseCpuset(attr(c, 'cpuset') ?? ''));
    else if (HEAD.includes(c.name)) t.head.push(c);
    else t.tail.push(c);
  }
  return t;
}

const leaf = (name: string, attrs: [string, string][]): XmlEl => ({ name, attrs, children: [] });

/** Writes the pins back: vcpus in order, emulator, then IOThreads in <iothreadids> order. */
export function writeCputune(def: DomainDef, t: Cputune): void {
  const order = readIothreads(def).map((x) => x.id);
  const pins = [...t.iothreadpin.keys()].filter((id) => order.includes(id)).sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const head = [...t.head].sort((a, b) => HEAD.indexOf(a.name) - HEAD.indexOf(b.name));
  const children: XmlEl[] = [
    ...head,
    ...[...t.vcpupin.entries()].sort(([a], [b]) => a - b).map(([v, c]) => leaf('vcpupin', [['vcpu', String(v)], ['cpuset', formatCpuset(c)]])),
    ...(t.emulatorpin ? [leaf('emulatorpin', [['cpuset', formatCpuset(t.emulatorpin)]])] : []),
    ...pins.map((id) => leaf('iothreadpin', [['iothread', String(id)], ['cpuset', formatCpuset(t.iothreadpin.get(id) ?? [])]])),
    ...t.tail,
  ];
  if (children.length === 0) def.sections.delete('cputune');
  else def.sections.set('cputune', [{ name: 'cputune', attrs: [], children }]);
}

export interface Iothread {
  id: number;
  /** Implied by <iothreads>N</iothreads> rather than listed in <iothreadids>. */
  autofill: boolean;
  el: XmlEl;
}

/** The domain's IOThreads: <iothreadids> entries, then ids filled in up to the <iothreads> count. */
export function readIothreads(def: DomainDef): Iothread[] {
  const ids = def.sections.get('iothreadids')?.[0];
  const list: Iothread[] = (ids ? elementsOf(ids, 'iothread') : []).map((el) => ({ id: Number(attr(el, 'id')), autofill: false, el }));
  const count = Number(textOf(def.sections.get('iothreads')?.[0]) ?? 0);
  for (let next = 1; list.length < count; next++) {
    if (!list.some((x) => x.id === next)) list.push({ id: next, autofill: true, el: leaf('iothread', [['id', String(next)]]) });
  }
  return list;
}

/** <iothreads> always holds the count; <iothreadids> appears once any id was chosen explicitly. */
export function writeIothreads(def: DomainDef, list: Iothread[]): void {
  if (list.length === 0) {
    def.sections.delete('iothreads');
    def.sections.delete('iothreadids');
    return;
  }
  def.sections.set('iothreads', [{ name: 'iothreads', attrs: [], children: [{ text: String(list.length) }] }]);
  if (list.every((x) => x.autofill)) def.sections.delete('iothreadids');
  else def.sections.set('iothreadids', [{ name: 'iothreadids', attrs: [], children: list.map((x) => x.el) }]);
}
