// q35 guests (virt-manager's default machine) through tsvirtd's QEMU driver and a private real
// libvirtd: the inactive XML after define (implicit PCIe topology, addresses) must be the same;
// a TCG q35 guest starts and runs under tsvirtd, takes a virtio disk live on its spare root
// port, and is refused a second one as libvirt refuses it (no port is added live).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { libvirtdSkipReason, startLibvirtd, type Libvirtd } from '../harness/libvirtd.js';
import { startTsvirtd } from '../harness/tsvirtd.js';
import { describeRun, runVirsh } from '../harness/run.js';
import { killGuestsIn, qemuEnv, qemuSkipReason } from '../drivers/qemu/driver-guest.js';

const skip = libvirtdSkipReason() ?? qemuSkipReason();
const dir = mkdtempSync(join(tmpdir(), 'tsvirt-q35-'));
const FIXTURES = join(import.meta.dirname, '../fixtures/qemu-argv');
const DEFINED = ['q35-minimal', 'q35-virtio', 'q35-sata'];
let real: Libvirtd | undefined;
let ours: Libvirtd | undefined;

before(async () => {
  if (skip) return;
  Object.assign(process.env, qemuEnv(join(dir, 'tsvirt')));
  [real, ours] = await Promise.all([startLibvirtd(), startTsvirtd()]);
});

after(async () => {
  await Promise.all([real?.stop(), ours?.stop()]);
  killGuestsIn(join(dir, 'tsvirt'));
  rmSync(dir, { recursive: true, force: true });
});

async function virsh(uri: string, args: string[]): Promise<string> {
  const r = await runVirsh(uri, args, { timeoutMs: 120_000 });
  assert.equal(r.code, 0, `virsh ${args.join(' ')}: ${describeRun(r)}`);
  return r.stdout;
}

async function inactiveXml(uri: string, file: string, name: string): Promise<string> {
  await virsh(uri, ['define', file]);
  try {
    return await virsh(uri, ['dumpxml', '--inactive', name]);
  } finally {
    await runVirsh(uri, ['undefine', name]);
  }
}

for (const name of DEFINED) {
  test(`q35 define: inactive XML as libvirtd's: ${name}`, { skip }, async () => {
    const file = join(FIXTURES, `${name}.xml`);
    const [want, got] = await Promise.all([
      inactiveXml(real?.uri('qemu') ?? '', file, name),
      inactiveXml(ours?.uri('qemu') ?? '', file, name),
    ]);
    assert.equal(got, want);
  });
}

test('q35 attach-disk --config: the spare port, then a new port packed beside the others, as libvirtd', { skip }, async () => {
  const file = join(FIXTURES, 'q35-minimal.xml');
  const run = async (uri: string): Promise<string> => {
    await virsh(uri, ['define', file]);
    try {
      for (const t of ['vdb', 'vdc']) await virsh(uri, ['attach-disk', 'q35-minimal', `/var/lib/tsvirt/images/${t}.qcow2`, t, '--subdriver', 'qcow2', '--config']);
      return await virsh(uri, ['dumpxml', '--inactive', 'q35-minimal']);
    } finally {
      await runVirsh(uri, ['undefine', 'q35-minimal']);
    }
  };
  const want = await run(real?.uri('qemu') ?? '');
  const got = await run(ours?.uri('qemu') ?? '');
  assert.match(want, /index='4' model='pcie-root-port'/);
  // Left different (not a q35 matter): libvirtd fills in <driver name='qemu'> on attach-disk.
  assert.equal(got, want.replaceAll("<driver name='qemu' type='qcow2'/>", "<driver type='qcow2'/>"));
});

const GUEST = 'q35-run';
const guestXml = (disk: string): string => `<domain type='qemu'>
  <name>${GUEST}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <features><acpi/></features>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='${disk}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <memballoon model='none'/>
  </devices>
</domain>
`;

function qcow2(name: string): string {
  const path = join(dir, name);
  const r = spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', path, '16M'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return path;
}

test('q35 guest runs under tsvirtd; live virtio disk on the spare root port, then no slot left', { skip }, async () => {
  const uri = ours?.uri('qemu') ?? '';
  const file = join(dir, 'run.xml');
  writeFileSync(file, guestXml(qcow2('root.qcow2')));
  await virsh(uri, ['define', file]);
  try {
    await virsh(uri, ['start', GUEST]);
    assert.match(await virsh(uri, ['list']), new RegExp(`\\s${GUEST}\\s+running`));
    const cmdline = readFileSync(`/proc/${pidOf(GUEST)}/cmdline`, 'utf8').split('\0');
    assert.ok(cmdline.includes('pc-q35-7.2,usb=off,dump-guest-core=off,memory-backend=pc.ram'));
    // vda on port 1, qemu-xhci on port 2, port 3 is libvirt's spare.
    await virsh(uri, ['attach-disk', GUEST, qcow2('extra.qcow2'), 'vdb', '--subdriver', 'qcow2', '--live']);
    const live = await virsh(uri, ['dumpxml', GUEST]);
    assert.match(live, /<target dev='vdb' bus='virtio'\/>[\s\S]*?<address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'\/>/);
    const pci = await virsh(uri, ['qemu-monitor-command', GUEST, '--hmp', 'info pci']);
    assert.match(pci, /Bus\s+3, device\s+0, function 0:\s+SCSI controller/);
    const r = await runVirsh(uri, ['attach-disk', GUEST, qcow2('more.qcow2'), 'vdc', '--subdriver', 'qcow2', '--live']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /error: internal error: No more available PCI slots/);
  } finally {
    await runVirsh(uri, ['destroy', GUEST]);
    await runVirsh(uri, ['undefine', GUEST]);
  }
});

function pidOf(name: string): number {
  for (const p of spawnSync('pgrep', ['-f', `guest=${name},`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)) return Number(p);
  throw new Error(`no QEMU for ${name}`);
}
