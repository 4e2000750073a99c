// The capabilities document of libvirt 9.0's test driver: an i686 host with pae/nonpae,
// four page sizes, NUMA cells only for test:///default, the "testSecurity" model, and
// hvm and xen guests on the test hypervisor.

export interface NodeCell {
  /** KiB */
  mem: number;
  /** KiB, what virNodeGetFreeMemory adds up */
  freeMem: number;
  cpus: { id: number; socketId: number; coreId: number }[];
}

/** test:///default's two cells of 8 CPUs (2 and 4 GiB). */
export function defaultCells(): NodeCell[] {
  return [0, 1].map((i) => ({
    mem: (i + 1) * 2048 * 1024,
    freeMem: (i + 1) * 1024 * 1024,
    cpus: Array.from({ length: 8 }, (_, k) => ({ id: i * 8 + k, socketId: i, coreId: k })),
  }));
}

const PAGE_SIZES = [4, 8, 2048, 1048576];

function cellXml(c: NodeCell, i: number): string[] {
  // Cell 1 reports its memory in 8 KiB pages, the others in 4 KiB ones; huge pages are empty.
  const small = i === 1 ? PAGE_SIZES[1] : PAGE_SIZES[0];
  return [
    `        <cell id='${i}'>`,
    `          <memory unit='KiB'>${c.mem}</memory>`,
    `          <pages unit='KiB' size='${small}'>${Math.floor(c.mem / small)}</pages>`,
    ...PAGE_SIZES.slice(2).map((s) => `          <pages unit='KiB' size='${s}'>0</pages>`),
    `          <cpus num='${c.cpus.length}'>`,
    ...c.cpus.map((p) => `            <cpu id='${p.id}' socket_id='${p.socketId}' die_id='0' core_id='${p.coreId}' siblings='${p.id}'/>`),
    '          </cpus>',
    '        </cell>',
  ];
}

function guestXml(osType: string): string[] {
  return [
    '  <guest>',
    `    <os_type>${osType}</os_type>`,
    "    <arch name='i686'>",
    '      <wordsize>32</wordsize>',
    '      <emulator>/usr/bin/test-hv</emulator>',
    "      <domain type='test'/>",
    '    </arch>',
    '    <features>',
    '      <pae/>',
    '      <nonpae/>',
    '    </features>',
    '  </guest>',
    '',
  ];
}

export function capabilitiesXml(cells: NodeCell[]): string {
  return [
    '<capabilities>',
    '',
    '  <host>',
    '    <cpu>',
    '      <arch>i686</arch>',
    '      <features>',
    '        <pae/>',
    '        <nonpae/>',
    '      </features>',
    ...PAGE_SIZES.map((s) => `      <pages unit='KiB' size='${s}'/>`),
    '    </cpu>',
    '    <power_management/>',
    "    <iommu support='no'/>",
    '    <topology>',
    `      <cells num='${cells.length}'>`,
    ...cells.flatMap(cellXml),
    '      </cells>',
    '    </topology>',
    '    <secmodel>',
    '      <model>testSecurity</model>',
    '      <doi></doi>',
    '    </secmodel>',
    '  </host>',
    '',
    ...guestXml('hvm'),
    ...guestXml('xen'),
    '</capabilities>',
    '',
  ].join('\n');
}
