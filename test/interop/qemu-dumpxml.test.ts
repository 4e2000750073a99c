// The live domain XML of a running QEMU guest (what virt-manager reads), from tsvirtd's QEMU
// driver and from a private real libvirtd's, for the same guest: qcow2 virtio disk, cdrom, user
// NIC, pty serial console, VNC autoport, video, balloon, RNG and USB tablet. Live, --inactive and
// --security-info dumps, domblklist and domiflist must agree once run-specific values are normalised.
//
// Left different on purpose (removed before comparing):
// - <resource><partition>/machine</partition></resource>: libvirtd puts the guest in a cgroup
//   partition; tsvirtd does no cgroup placement.
// - <cpu>: libvirtd writes the CPU model it resolved with QEMU (qemu64, check='none' in the
//   definition; check='full' plus the features QEMU's expansion added when running); tsvirtd does
//   no CPU model expansion.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { libvirtdSkipReason, startLibvirtd, type Libvirtd } from '../harness/libvirtd.js';
import { startTsvirtd } from '../harness/tsvirtd.js';
import { describeRun, runVirsh } from '../harness/run.js';
import { killGuestsIn, qemuEnv, qemuSkipReason } from '../drivers/qemu/driver-guest.js';

const skip = libvirtdSkipReason() ?? qemuSkipReason();
const dir = mkdtempSync(join(tmpdir(), 'tsvirt-qemu-dumpxml-'));
const NAME = 'xml-guest';
const xmlFile = join(dir, 'guest.xml');
const GUEST = `<domain type='qemu'>
  <name>${NAME}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='${dir}/disk.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='${dir}/cd.iso'/>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>
    <interface type='user'><model type='virtio'/></interface>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <input type='tablet' bus='usb'/>
    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>
    <video><model type='vga'/></video>
    <memballoon model='virtio'/>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
  </devices>
</domain>
`;
let real: Libvirtd | undefined;
let ours: Libvirtd | undefined;

before(async () => {
  if (skip) return;
  spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'disk.qcow2'), '16M']);
  writeFileSync(join(dir, 'cd.iso'), Buffer.alloc(2048 * 16));
  writeFileSync(xmlFile, GUEST);
  Object.assign(process.env, qemuEnv(join(dir, 'tsvirt')));
  [real, ours] = await Promise.all([startLibvirtd(), startTsvirtd()]);
});

after(async () => {
  await Promise.all([real?.stop(), ours?.stop()]);
  killGuestsIn(join(dir, 'tsvirt'));
  rmSync(dir, { recursive: true, force: true });
});

/** Only what differs between any two runs: uuid, id, pty paths, ports, MAC addresses, the test dir. */
function normalise(text: string): string {
  return text
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'UUID')
    .replace(/ id='\d+'>/g, " id='ID'>")
    .replace(/\/dev\/pts\/\d+/g, '/dev/pts/N')
    .replace(/ port='59\d\d'/g, " port='PORT'")
    .replace(/([0-9a-f]{2}:){5}[0-9a-f]{2}/g, 'MAC')
    .split(dir).join('DIR')
    // Deliberate differences, see the header.
    .replace(/ {2}<resource>\n[\s\S]*?<\/resource>\n/g, '')
    .replace(/ {2}<cpu [\s\S]*?<\/cpu>\n/g, '');
}

const SCRIPT: string[][] = [
  ['define', xmlFile],
  ['start', NAME],
  ['dumpxml', NAME],
  ['dumpxml', '--inactive', NAME],
  ['dumpxml', '--security-info', NAME],
  ['domblklist', NAME],
  ['domblklist', '--details', NAME],
  ['domiflist', NAME],
  ['destroy', NAME],
  ['dumpxml', NAME],
  ['undefine', NAME],
];

async function transcript(d: Libvirtd): Promise<{ text: string; outs: string[] }> {
  let text = '';
  const outs: string[] = [];
  for (const args of SCRIPT) {
    const r = await runVirsh(d.uri('qemu'), args, { timeoutMs: 40_000 });
    assert.ok(!r.timedOut, `virsh ${args.join(' ')}: ${describeRun(r)}`);
    outs.push(normalise(r.stdout));
    text += `$ virsh ${args.join(' ')} [${r.code}]\n${r.stdout}${r.stderr}`;
  }
  return { text: normalise(text), outs };
}

test('live, inactive and secure dumpxml, domblklist and domiflist: tsvirtd as libvirtd', { skip, timeout: 60_000 }, async () => {
  const [theirs, mine] = await Promise.all([transcript(real!), transcript(ours!)]);
  assert.equal(mine.text, theirs.text);
  const [live, inactive] = [mine.outs[2], mine.outs[3]];
  // What only a running guest shows.
  for (const s of ["<alias name='virtio-disk0'/>", "<alias name='net0'/>", "<alias name='serial0'/>", "<alias name='video0'/>",
    "<alias name='balloon0'/>", "<alias name='input0'/>", "<alias name='usb'/>", "<alias name='pci.0'/>", "<alias name='ide'/>",
    "<alias name='rng0'/>", "<source path='/dev/pts/N'/>", "<console type='pty' tty='/dev/pts/N'>", "index='2'/>", '<backingStore/>',
    "<graphics type='vnc' port='PORT' autoport='yes' listen='127.0.0.1'>", "<seclabel type='dynamic' model='dac' relabel='yes'>"]) {
    assert.ok(live.includes(s), `live XML lacks ${s}`);
    assert.ok(!inactive.includes(s), `inactive XML has ${s}`);
  }
  assert.match(inactive, /<graphics type='vnc' port='-1' autoport='yes'/);
});
