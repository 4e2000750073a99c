// Hot-plug in the QEMU driver against a real guest (the boot image: Linux answers ACPI unplug
// requests): disks and interfaces attached and detached live with libvirt's QMP sequence,
// node names, aliases and PCI slots (as recorded from libvirt 9.0 + QEMU 7.2), the
// DEVICE_REMOVED event, --config changes, CD-ROM media change, live vCPU changes, libvirt's
// errors; and attach-disk/detach-disk through tsvirtd with stock virsh.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DriverCallContext, DriverConnection, DriverEvent, DriverMethods } from '../../../src/api/driver.js';
import type { RemoteNonnullDomain } from '../../../src/protocol/gen/remote.js';
import { VirError } from '../../../src/rpc/errors.js';
import { qemuDriver, qemuDriverState, type QemuDriverState } from '../../../src/drivers/qemu/index.js';
import { bootImage, bootImageSkipReason, LOGIN_BANNER, QEMU_BINARY, type BootImage } from '../../harness/boot-image.js';
import { startTsvirtd } from '../../harness/tsvirtd.js';
import type { Libvirtd } from '../../harness/libvirtd.js';
import { describeRun, runVirsh } from '../../harness/run.js';
import { guestXml, killGuestsIn, qemuEnv } from './driver-guest.js';

const skip = bootImageSkipReason() ?? (existsSync('/usr/bin/qemu-img') ? undefined : 'qemu-img not installed');
const base = mkdtempSync(join(tmpdir(), 'tsvirt-qemu-hotplug-'));
const daemonBase = join(base, 'daemon');
const ctx: DriverCallContext = { readonly: false, stream: null };
const LIVE = 1;
const CONFIG = 2;
let conn: DriverConnection;
let m: DriverMethods;
let state: QemuDriverState;
let img: BootImage;
let daemon: Libvirtd | undefined;
let dom: RemoteNonnullDomain;
const removed: string[] = [];

const qcow2 = join(base, 'data.qcow2');
const raw = join(base, 'data.raw');
const iso = join(base, 'media.iso');

/** The boot image with hot-pluggable vCPUs, an empty IDE CD-ROM, a virtio NIC and a serial log. */
function liveXml(name: string): string {
  return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>128</memory>
  <vcpu current='1'>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${img.kernel}</kernel>
    <initrd>${img.initrd}</initrd>
    <cmdline>${img.cmdline}</cmdline>
  </os>
  <features><acpi/></features>
  <devices>
    <emulator>${QEMU_BINARY}</emulator>
    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><target dev='hdc' bus='ide'/><readonly/></disk>
    <interface type='user'><mac address='52:54:00:11:22:33'/><model type='virtio'/></interface>
    <serial type='file'><source path='${join(base, `${name}.serial`)}'/><target port='0'/></serial>
    <memballoon model='none'/>
  </devices>
</domain>
`;
}

const call = async <T>(p: T | Promise<T> | undefined): Promise<T> => (await p) as T;
const qmp = <T>(name: string, args?: object): Promise<T> => {
  const proc = state.list.findByName('hp-live')?.proc;
  assert.ok(proc, 'hp-live runs');
  return proc.command<T>(name, args, 'hp-live');
};
const xmlOf = async (flags = 0): Promise<string> => (await call(m.DOMAIN_GET_XML_DESC?.({ dom, flags }, ctx))).xml;
const attach = (xml: string, flags = LIVE): Promise<void> => call(m.DOMAIN_ATTACH_DEVICE_FLAGS?.({ dom, xml, flags }, ctx));
const detach = (xml: string, flags = LIVE): Promise<void> => call(m.DOMAIN_DETACH_DEVICE_FLAGS?.({ dom, xml, flags }, ctx));

async function rejects(p: Promise<unknown>, code: number, message: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof VirError, `VirError expected, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return;
  }
  assert.fail('expected an error');
}

async function until(pred: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** The guest must be up (its ACPI hot-plug driver loaded) before it can answer unplug requests. */
async function waitBanner(name: string): Promise<void> {
  const file = join(base, `${name}.serial`);
  const ok = await until(() => existsSync(file) && readFileSync(file, 'utf8').includes(LOGIN_BANNER), 90_000);
  assert.ok(ok, `${name} reached no login banner:\n${existsSync(file) ? readFileSync(file, 'utf8').slice(-2000) : '(no serial log)'}`);
}

before(async () => {
  if (skip) return;
  img = await bootImage();
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', qcow2, '16M']);
  execFileSync('qemu-img', ['create', '-q', '-f', 'raw', raw, '8M']);
  execFileSync('qemu-img', ['create', '-q', '-f', 'raw', iso, '1M']);
  // The daemon gets driver directories of its own, inherited from the environment at spawn.
  Object.assign(process.env, qemuEnv(daemonBase));
  daemon = await startTsvirtd();
  Object.assign(process.env, qemuEnv(base));
  const c = await qemuDriver.open(new URL('qemu:///system'), { readonly: false });
  assert.ok(c);
  conn = c;
  m = c.methods;
  state = (await qemuDriverState()).state;
  conn.onEvent((e: DriverEvent) => {
    if (e.eventID === 15) removed.push((e.payload as { msg: { devAlias: string } }).msg.devAlias);
  });
  dom = (await call(m.DOMAIN_DEFINE_XML?.({ xml: liveXml('hp-live') }, ctx))).dom;
  await call(m.DOMAIN_CREATE?.({ dom }, ctx));
  await waitBanner('hp-live');
});

after(async () => {
  conn?.close();
  await daemon?.stop();
  killGuestsIn(base);
  rmSync(base, { recursive: true, force: true });
});

const diskXml = (dev: string, file: string, format: string, extra = ''): string =>
  `<disk type='file' device='disk'><driver name='qemu' type='${format}'/><source file='${file}'/><target dev='${dev}' bus='virtio'/>${extra}</disk>`;

interface BlockInfo { device: string; qdev?: string; inserted?: { 'node-name': string; file: string; drv: string } }
interface NodeInfo { 'node-name': string }

test('a qcow2 disk attached live: libvirt node names, alias and slot; detach waits for DEVICE_DELETED', { skip, timeout: 60_000 }, async () => {
  await attach(diskXml('vdb', qcow2, 'qcow2'));
  const blocks = await qmp<BlockInfo[]>('query-block');
  const b = blocks.find((x) => x.qdev?.startsWith('/machine/peripheral/virtio-disk1') === true);
  assert.ok(b?.inserted, `virtio-disk1 in query-block: ${JSON.stringify(blocks)}`);
  // The guest started with one (empty) disk: libvirt counts node names on from there.
  assert.equal(b.inserted['node-name'], 'libvirt-2-format');
  assert.equal(b.inserted.drv, 'qcow2');
  assert.equal(b.inserted.file, qcow2);
  const live = await xmlOf();
  // The NIC sits in slot 2, so the disk gets 3.
  assert.match(live, /<target dev='vdb' bus='virtio'\/>\s*<alias name='virtio-disk1'\/>\s*<address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'\/>/);
  assert.doesNotMatch(await xmlOf(2), /vdb/, 'a live attach leaves the persistent definition alone');
  const pci = await qmp<{ bus: number; devices: { slot: number; qdev_id: string }[] }[]>('query-pci');
  assert.deepEqual(pci[0].devices.filter((d) => d.slot === 3).map((d) => d.qdev_id), ['virtio-disk1']);

  // Live, libvirtd 9.0 validates the would-be definition: an XML error naming both sources.
  await rejects(attach(diskXml('vdb', raw, 'raw')), 27, /^XML error: target 'vdb' duplicated for disk sources '.*data\.qcow2' and '.*data\.raw'$/);

  await detach(diskXml('vdb', qcow2, 'qcow2'));
  assert.deepEqual(removed, ['virtio-disk1']);
  assert.doesNotMatch(await xmlOf(), /vdb/);
  const nodes = await qmp<NodeInfo[]>('query-named-block-nodes', { flat: true });
  assert.deepEqual(nodes.map((n) => n['node-name']).filter((n) => n.startsWith('libvirt-2')), [], 'nodes deleted after the unplug');
  await rejects(detach(diskXml('vdb', qcow2, 'qcow2')), 99, /^device not found: disk vdb not found$/);
});

test('an e1000 interface attached live gets the next netN alias and the lowest free slot', { skip, timeout: 60_000 }, async () => {
  removed.length = 0;
  const nic = "<interface type='user'><mac address='52:54:00:aa:bb:cc'/><model type='e1000'/></interface>";
  await attach(nic);
  const peripherals = await qmp<{ name: string; type: string }[]>('qom-list', { path: '/machine/peripheral' });
  assert.ok(peripherals.some((p) => p.name === 'net1' && p.type === 'child<e1000>'), JSON.stringify(peripherals));
  assert.equal(await qmp<string>('qom-get', { path: '/machine/peripheral/net1', property: 'mac' }), '52:54:00:aa:bb:cc');
  assert.match(await xmlOf(), /<mac address='52:54:00:aa:bb:cc'\/>\s*<model type='e1000'\/>\s*<alias name='net1'\/>\s*<address type='pci' domain='0x0000' bus='0x00' slot='0x03'/);

  await rejects(detach("<interface type='user'><mac address='52:54:00:de:ad:00'/></interface>"), 99,
    /^device not found: no device found at address '\(<null>\)' matching MAC address '52:54:00:de:ad:00' and alias '\(<null>\)'$/);
  await rejects(detach("<interface type='user'/>"), 9, /^operation failed: multiple matching devices found$/);
  await detach(nic);
  assert.deepEqual(removed, ['net1']);
  assert.ok(!(await qmp<{ name: string }[]>('qom-list', { path: '/machine/peripheral' })).some((p) => p.name === 'net1'));
  assert.equal((await xmlOf()).match(/<interface/g)?.length, 1);
});

test('detach-device-alias unplugs by alias and reports the removal when QEMU finishes', { skip, timeout: 60_000 }, async () => {
  removed.length = 0;
  await attach(diskXml('vdc', raw, 'raw'));
  await call(m.DOMAIN_DETACH_DEVICE_ALIAS?.({ dom, alias: 'virtio-disk2', flags: LIVE }, ctx));
  assert.ok(await until(() => removed.includes('virtio-disk2'), 10_000), 'DEVICE_REMOVED for virtio-disk2');
  assert.ok(await until(async () => !(await xmlOf()).includes('vdc'), 2000));
  await rejects(call(m.DOMAIN_DETACH_DEVICE_ALIAS?.({ dom, alias: 'nosuch', flags: LIVE }, ctx)), 1, /^internal error: no device found with alias nosuch$/);
});

test('--config changes only the persistent definition', { skip, timeout: 30_000 }, async () => {
  await attach(diskXml('vdd', raw, 'raw'), CONFIG);
  await attach("<interface type='user'><mac address='52:54:00:00:00:42'/><model type='virtio'/></interface>", CONFIG);
  const persistent = await xmlOf(2);
  assert.match(persistent, /<target dev='vdd' bus='virtio'\/>/);
  assert.match(persistent, /52:54:00:00:00:42/);
  assert.match(readFileSync(join(base, 'etc', 'hp-live.xml'), 'utf8'), /vdd/, 'written to the definition file');
  const live = await xmlOf();
  assert.doesNotMatch(live, /vdd|52:54:00:00:00:42/);
  assert.ok(!(await qmp<BlockInfo[]>('query-block')).some((b) => b.qdev?.includes('virtio-disk3')));
  await rejects(attach(diskXml('vdd', raw, 'raw'), CONFIG), 55, /^Requested operation is not valid: target vdd already exists$/);
  await detach(diskXml('vdd', raw, 'raw'), CONFIG);
  await detach("<interface type='user'><mac address='52:54:00:00:00:42'/></interface>", CONFIG);
  assert.doesNotMatch(await xmlOf(2), /vdd|52:54:00:00:00:42/);
  await rejects(detach(diskXml('vdd', raw, 'raw'), CONFIG), 99, /^device not found: no target device vdd$/);
});

test('update-device changes and ejects the CD-ROM medium', { skip, timeout: 30_000 }, async () => {
  const cd = (src: string): string =>
    `<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>${src}<target dev='hdc' bus='ide'/><readonly/></disk>`;
  const update = (xml: string, flags = LIVE): Promise<void> => call(m.DOMAIN_UPDATE_DEVICE_FLAGS?.({ dom, xml, flags }, ctx));
  const hdc = async (): Promise<BlockInfo | undefined> => (await qmp<BlockInfo[]>('query-block')).find((b) => b.qdev === 'ide0-1-0' || b.qdev?.endsWith('/ide0-1-0') === true);
  await update(cd(`<source file='${iso}'/>`));
  assert.equal((await hdc())?.inserted?.file, iso);
  assert.match(await xmlOf(), new RegExp(`<source file='${iso}' index='\\d+'/>\\s*<backingStore/>\\s*<target dev='hdc'`));
  await update(cd(''));
  assert.equal((await hdc())?.inserted, undefined);
  assert.doesNotMatch(await xmlOf(), /media\.iso/);
  await rejects(update(diskXml('vdz', raw, 'raw')), 1, /^internal error: disk 'vdz' not found$/);
  await rejects(update(diskXml('vdz', raw, 'raw'), CONFIG), 8, /^invalid argument: target vdz doesn't exist\.$/);
});

test('setvcpus --live plugs and unplugs vCPU entities', { skip, timeout: 60_000 }, async () => {
  const count = async (flags: number): Promise<number> => (await call(m.DOMAIN_GET_VCPUS_FLAGS?.({ dom, flags }, ctx))).num;
  const setv = (n: number, flags = LIVE): Promise<void> => call(m.DOMAIN_SET_VCPUS_FLAGS?.({ dom, nvcpus: n, flags }, ctx));
  assert.equal(await count(LIVE), 1);
  await setv(2);
  assert.equal(await count(LIVE), 2);
  assert.equal(await count(CONFIG), 1, 'the persistent count stays');
  const cpus = await qmp<{ 'qom-path': string }[]>('query-cpus-fast');
  assert.deepEqual(cpus.map((c) => c['qom-path']).sort(), ['/machine/peripheral/vcpu1', '/machine/unattached/device[0]']);
  assert.match(await xmlOf(), /<vcpu placement='static'>2<\/vcpu>[\s\S]*<vcpu id='1' enabled='yes' hotpluggable='yes' order='2'\/>/);
  await rejects(setv(3), 8, /^invalid argument: requested vcpus is greater than max allowable vcpus for the live domain: 3 > 2$/);
  await setv(1);
  assert.equal(await count(LIVE), 1);
  assert.equal((await qmp<unknown[]>('query-cpus-fast')).length, 1);
  await rejects(setv(0), 8, /argument out of range/);
});

test('libvirt errors for bad device XML, unsupported hot-plug and shut-off domains', { skip, timeout: 30_000 }, async () => {
  await rejects(attach('<foo/>'), 67, /^unsupported configuration: unknown device type 'foo'$/);
  await rejects(attach("<disk type='file'><source file='/x'/></disk>"), 20, /^missing target information for device \/x$/);
  await rejects(attach('<disk'), 35, /^\(device_definition\):\d+: Couldn't find end of Start Tag disk/);
  await rejects(attach(`<disk type='file' device='cdrom'><source file='${iso}'/><target dev='vdc' bus='virtio'/></disk>`), 67,
    /^unsupported configuration: disk type of 'vdc' does not support ejectable media$/);
  await rejects(attach(diskXml('vde', join(base, 'nope.raw'), 'raw')), 38, /^Cannot access storage file '.*nope\.raw': No such file or directory$/);
  // IDE has no hot-plug: QEMU refuses the device and the nodes added for it go again.
  await rejects(attach(`<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${raw}'/><target dev='hdb' bus='ide'/></disk>`), 1,
    /^internal error: unable to execute QEMU command 'device_add': Bus 'ide.0' does not support hotplugging$/);
  assert.ok(!(await qmp<NodeInfo[]>('query-named-block-nodes', { flat: true })).some((n) => n['node-name'].includes(raw)));
  const before = (await qmp<NodeInfo[]>('query-named-block-nodes', { flat: true })).length;
  assert.equal(before, 0, 'no node left behind by failed attaches');
  await rejects(attach("<hostdev mode='subsystem' type='usb'/>"), 67, /^unsupported configuration: live attach of device 'hostdev' is not supported$/);

  const off = (await call(m.DOMAIN_DEFINE_XML?.({ xml: guestXml({ name: 'hp-off' }) }, ctx))).dom;
  await rejects(call(m.DOMAIN_ATTACH_DEVICE?.({ dom: off, xml: diskXml('vdb', raw, 'raw') }, ctx)), 55, /^Requested operation is not valid: domain is not running$/);
  await rejects(call(m.DOMAIN_SET_VCPUS_FLAGS?.({ dom: off, nvcpus: 1, flags: LIVE }, ctx)), 55, /domain is not running/);
  // CURRENT on a shut-off domain means its definition.
  await call(m.DOMAIN_ATTACH_DEVICE_FLAGS?.({ dom: off, xml: diskXml('vdb', raw, 'raw'), flags: 0 }, ctx));
  assert.match((await call(m.DOMAIN_GET_XML_DESC?.({ dom: off, flags: 0 }, ctx))).xml, /<target dev='vdb' bus='virtio'\/>\s*<address type='pci' domain='0x0000' bus='0x00' slot='0x02'/);
});

test('tsvirtd: virsh attach-disk, domblklist, detach-disk', { skip, timeout: 90_000 }, async () => {
  assert.ok(daemon);
  const uri = daemon.uri('qemu');
  const xmlFile = join(base, 'virsh-guest.xml');
  writeFileSync(xmlFile, liveXml('hp-virsh'));
  const v = async (...args: string[]): Promise<string> => {
    const r = await runVirsh(uri, args);
    assert.equal(r.code, 0, describeRun(r));
    return r.stdout;
  };
  await v('create', xmlFile);
  await waitBanner('hp-virsh');
  assert.match(await v('attach-disk', 'hp-virsh', qcow2, 'vdb', '--driver', 'qemu', '--subdriver', 'qcow2', '--live'), /Disk attached successfully/);
  assert.match(await v('domblklist', 'hp-virsh'), /vdb\s+\S*data\.qcow2/);
  const q = await v('qemu-monitor-command', 'hp-virsh', '{"execute":"query-block"}');
  assert.match(q, /"node-name":\s*"libvirt-2-format"/);
  assert.match(await v('detach-disk', 'hp-virsh', 'vdb', '--live'), /Disk detached successfully/);
  assert.doesNotMatch(await v('domblklist', 'hp-virsh'), /vdb/);
  const bad = await runVirsh(uri, ['detach-device-alias', 'hp-virsh', 'nosuch']);
  assert.match(bad.stderr, /error: internal error: no device found with alias nosuch/);
  await v('destroy', 'hp-virsh');
});
