// Device commands, tsvirsh against stock virsh: the XML attach-disk/attach-interface build and the
// nodes detach-disk/detach-interface/change-media pick (--print-xml, no daemon support needed),
// option checks, and the errors of the test driver, which implements no hotplug in 9.0 — in
// process on test:///default, and through tsvirtd and a private libvirtd.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { libvirtdSkipReason, startLibvirtd, type Libvirtd } from '../harness/libvirtd.js';
import { startTsvirtd } from '../harness/tsvirtd.js';
import type { RunResult } from '../harness/run.js';
import { haveVirsh, runTool, shown, tsvirshLine } from '../harness/tsvirsh.js';

const dir = mkdtempSync(join(tmpdir(), 'tsvirsh-dev-'));
const CD = join(dir, 'cd.xml');
writeFileSync(CD, `<domain type='test'><name>cd</name><uuid>5b0c5a1e-1111-4222-8333-944455556666</uuid><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os>
<devices>
<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='/tmp/a.iso'/><target dev='hdc' bus='ide'/><readonly/></disk>
<disk type='file' device='floppy'><target dev='fda'/></disk>
<disk type='block' device='disk'><source dev='/dev/loop0'/><target dev='vdb'/><serial>a&amp;b&apos;c</serial></disk>
<interface type='network'><mac address='52:54:00:00:00:01'/><source network='default'/></interface>
<interface type='network'><mac address='52:54:00:00:00:02'/><source network='default'/></interface>
<interface type='bridge'><mac address='52:54:00:00:00:03'/><source bridge='br"0'/></interface>
</devices></domain>
`);
const DEV = join(dir, 'disk.xml');
writeFileSync(DEV, `<disk type='file'><source file='/x.img'/><target dev='vdz'/></disk>\n`);
const NOFILE = join(dir, 'missing.xml');

const ATTACH_DISK = [
  '/tmp/x.img vdb', '/dev/loop0 vdb', '/dev/loop0 vdb --driver file', '/dev/loop0 vdb --driver tap', "'' hdc --type cdrom",
  '/dev/sda vdb --driver qemu --subdriver qcow2 --cache none --io native --iothread 1 --type cdrom --mode readonly --sourcetype file --targetbus virtio --serial S1 --wwn 0x5000c50015ea71ac --alias ua-d1 --rawio --address pci:0000.00.0a.0 --multifunction',
  '/etc/hostname sdb --address scsi:0.0.3', '/etc/hostname hdb --address ide:0.1.0 --mode shareable', 'x hdb --shareable',
  'vol vdc --source-protocol rbd --source-host-name h1:6789', 'vol vdc --source-protocol nbd --source-host-transport unix --source-host-socket /s',
  'x vdb --address ccw:0xfe.0.0001', 'x vdb --sourcetype block', 'x vdb --sourcetype net', 'x vdb --sourcetype network',
  'x vdb --mode rw', 'x vdb --address foo', 'x vdb --address scsi:0.0.1', 'x sdb --address pci:0.0.1.0', 'x hdb --address scsi:0.0.1',
  'x xvdb --address pci:0.0.1.0', 'x vdb --wwn bad', 'x vdb --wwn 5000c50015ea71ac', `"a'b\\"<&>" vdb --serial "s<&'" --alias "x'y"`,
  `"s'" "v'db" --driver "d'" --subdriver "t'" --iothread "i'" --cache "c'" --io "o'" --type "c'd" --targetbus "b'"`,
  'x vdb --source-protocol rbd --sourcetype block', 'x vdb --source-host-name h', 'x vdb --source-protocol rbd --source-host-name h --source-host-socket /s',
  'x vdb --source-protocol rbd --source-host-name "[::1]:2"', "x vdb --source-protocol rbd --source-host-name ''", "'' vdb --source-protocol nbd",
  'x vdb --address pci:0000.00.0a.0.1', 'x vdb --address pci:zz.0.0.0', 'x vdb --address pci:1:2:3:4', 'x vdb --address pci:0x1.0x2.0x3.0x4',
  'x vdb --address pci:1.2.3', 'x vdb --address pci:1.2.3.4x', 'x vdb --address pci:-1.2.3.4', 'x vdb --address pci:100000000.0.0.0',
  'x vdb --address "pci: 1.2.3.4"', 'x vdb --address pci:1..3.4', 'x vdb --address ccw:1.2', 'x sdb --address scsi:1.2.99999999999',
  'x sdb --address sata:1.2', 'x sdb --address usb:1', 'x sdb --address usb:1.2.3', 'x sdb --address sata:0.0.1', 'x hdb --address ide:x',
  'x vdb --multifunction', 'x vdb --live --current', 'x vdb --persistent --current', 'x vdb --config --current',
].map((a) => `attach-disk test ${a} --print-xml`);

const ATTACH_IFACE = [
  'network default', 'bridge br0 --target vnet7 --mac 52:54:00:aa:bb:cc --script /s --model virtio --alias ua-n --managed',
  'direct eth0', 'hostdev 0000:00:19.0', 'hostdev bogus', 'vhostuser /sock --source-mode server', 'vhostuser /sock',
  'vhostuser /sock --source-mode x', 'user x', 'nosuch x', 'network default --inbound 100,200,300,400 --outbound 10,20,30',
  'network default --inbound ,,,5', 'network default --inbound 0', 'network default --outbound 1,2,3,4', 'network default --outbound ,2',
  'network default --inbound a', 'network default --inbound 1,2,3,4,5', "network \"d'\" --mac \"m'\"", 'network default --live --current',
].map((a) => `attach-interface test ${a} --print-xml`);

const DETACH = [
  'detach-disk test vda --print-xml', 'detach-disk test /guest/diskimage1 --print-xml', 'detach-disk test nosuch --print-xml',
  'detach-disk test vda', 'detach-disk test vda --config', 'detach-disk test vda --persistent', 'detach-disk nosuch vda', "detach-disk test ''",
  'detach-interface test network --print-xml', 'detach-interface test bridge --print-xml', 'detach-interface test bridge',
  'detach-interface test network --mac AA:BB:CC:DD:EE:FF --print-xml', 'detach-interface test network --mac 00:11:22:33:44:55 --print-xml',
  'detach-interface test network --mac bad --print-xml', "detach-interface test network --mac ''", "detach-interface test network --mac '' --print-xml",
  'detach-interface test network --config --live --print-xml', 'detach-interface test network --config --print-xml',
  'detach-interface test bridge --print-xml --config', 'detach-interface test network --mac 00:11:22:33:44:55 --print-xml --live',
  'detach-interface test network', 'detach-interface test network --config --live', 'detach-interface test network --persistent',
  'detach-interface nosuch network', 'detach-interface test network --current --live',
  `attach-device test ${DEV}`, `attach-device test ${DEV} --config`, `attach-device test ${DEV} --current`, `attach-device test ${DEV} --persistent`,
  `attach-device test ${NOFILE}`, `attach-device nosuch ${DEV}`, `attach-device test ${DEV} --persistent --current`,
  `detach-device test ${DEV}`, `detach-device test ${DEV} --live`, `update-device test ${DEV}`, `update-device test ${DEV} --force --config`,
  'detach-device-alias test ua-x', 'detach-device-alias test ua-x --config', 'detach-device-alias test ua-x --current --config',
];

/** Each after defining "cd" (CD-ROM, floppy, a disk with a backing store, three interfaces). */
const ON_CD = [
  'detach-disk cd vdb --print-xml', 'detach-disk cd hdc --print-xml', 'detach-interface cd network --print-xml',
  'detach-interface cd network --mac 52:54:00:00:00:02 --print-xml', 'detach-interface cd network --mac 52:54:00:00:00:2 --print-xml',
  'detach-interface cd bridge --print-xml', 'dumpxml cd',
  'change-media cd hdc --eject --print-xml', 'change-media cd hdc /tmp/b.iso --print-xml', 'change-media cd hdc /tmp/b.iso --insert --print-xml',
  'change-media cd fda /tmp/f.img --insert --print-xml', 'change-media cd hdc --update /x --print-xml', 'change-media cd hdc --print-xml',
  'change-media cd vdb --eject --print-xml', 'change-media cd nosuch --eject', 'change-media cd hdc --eject', 'change-media cd hdc --eject --insert',
  'change-media cd hdc --eject --config', 'change-media cd /tmp/a.iso --eject --print-xml', 'change-media cd hdc /dev/loop0 --block --print-xml',
  'change-media cd hdc --eject --force --live', 'change-media cd fda --eject --print-xml', 'change-media cd hdc --insert --print-xml',
  'change-media cd hdc --eject --block', 'change-media cd hdc x --update --insert', 'change-media cd hdc x', 'change-media cd hdc x --insert --config',
].map((c) => `define ${CD}; ${c}`);

async function compareLine(line: string, virshUri: string, oursUri: string, ours: (uri: string, line: string) => Promise<RunResult>): Promise<RunResult> {
  const want = await runTool('virsh', ['-c', virshUri, line]);
  const got = await ours(oursUri, line);
  assert.equal(shown(got), shown(want), line);
  return want;
}

after(() => rmSync(dir, { recursive: true, force: true }));

describe('device commands vs virsh on test:///default', { skip: !haveVirsh && 'virsh not installed' }, () => {
  for (const [name, lines] of [['attach-disk --print-xml', ATTACH_DISK], ['attach-interface --print-xml', ATTACH_IFACE], ['detach and attach', DETACH], ['change-media and finding devices', ON_CD]] as const) {
    test(name, async () => {
      for (const line of lines) await compareLine(line, 'test:///default', 'test:///default', tsvirshLine);
    });
  }
});

describe('device commands through libvirtd and tsvirtd', { skip: libvirtdSkipReason() ?? (!haveVirsh ? 'virsh not installed' : undefined) }, () => {
  let real: Libvirtd;
  let ours: Libvirtd;
  before(async () => {
    [real, ours] = await Promise.all([startLibvirtd(), startTsvirtd()]);
  });
  after(async () => {
    await Promise.all([real?.stop(), ours?.stop()]);
  });
  test('the test driver refuses hotplug with libvirt\'s errors; found devices print the same', async () => {
    const lines = [...DETACH.filter((l) => !l.includes('nosuch')), ...ON_CD.slice(0, 8), ...ON_CD.slice(14, 18)];
    // virsh on the real daemon is the reference; tsvirsh talks to tsvirtd. One command string per
    // tool (two processes instead of two per line); none of these lines fails to parse, so every
    // command runs and its output lands in the one transcript compared.
    const want = await compareLine(lines.join(' ; '), real.uri('test'), ours.uri('test'), (uri, l) => runTool('tsvirsh', ['-c', uri, l]));
    // Every command ran: virsh ends each one's output with an empty line.
    assert.ok(want.stdout.split('\n').length > lines.length, 'the whole command string was parsed and run');
  });
});
