// What the argv builder refuses (VIR_ERR_CONFIG_UNSUPPORTED from the QEMU driver, naming the
// element) and host facts that change the argv.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDomainXml } from '../../../src/api/xml/domain/parse.js';
import { buildQemuCommand, type QemuHostFacts } from '../../../src/drivers/qemu/command/index.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../../../src/rpc/errors.js';

const HOST: QemuHostFacts = {
  binary: '/usr/bin/qemu-system-x86_64',
  version: 7_002_000,
  kvmUsable: true,
  machineAliases: new Map([['pc', 'pc-i440fx-7.2'], ['q35', 'pc-q35-7.2']]),
  monitorPath: '/run/tsvirt/qemu/d/monitor.sock',
};

const Q35 = "<type arch='x86_64' machine='q35'>hvm</type>";

function domainXml(opts: { type?: string; name?: string; os?: string; devices?: string; top?: string } = {}): string {
  return `<domain type='${opts.type ?? 'qemu'}'>
  <name>${opts.name ?? 'd'}</name>
  <uuid>11111111-2222-4333-8444-555555555555</uuid>
  <memory unit='MiB'>64</memory>
  ${opts.top ?? ''}
  <os>${opts.os ?? "<type arch='x86_64' machine='pc'>hvm</type>"}</os>
  <devices>${opts.devices ?? ''}</devices>
</domain>`;
}

const build = (xml: string, host: Partial<QemuHostFacts> = {}): string[] => buildQemuCommand(parseDomainXml(xml), { ...HOST, ...host }).argv;

function assertUnsupported(xml: string, message: RegExp, host: Partial<QemuHostFacts> = {}): void {
  assert.throws(() => build(xml, host), (e: unknown) => {
    assert.ok(e instanceof VirError, String(e));
    assert.equal(e.code, VirErrorNumber.CONFIG_UNSUPPORTED);
    assert.equal(e.domain, VirErrorDomain.QEMU);
    assert.match(e.message, /^unsupported configuration: /);
    assert.match(e.message, message);
    return true;
  });
}

const CASES: [string, string, RegExp, Partial<QemuHostFacts>?][] = [
  ['spice graphics', domainXml({ devices: "<graphics type='spice' autoport='yes'/>" }), /graphics type 'spice'/],
  ['isapc machine', domainXml({ os: "<type arch='x86_64' machine='isapc'>hvm</type>" }), /machine type 'isapc'/],
  ['IDE disk on q35', domainXml({ os: Q35, devices: "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk>" }), /IDE controllers are unsupported for this QEMU binary or machine type/],
  ['conventional PCI NIC on q35', domainXml({ os: Q35, devices: "<interface type='user'/>" }), /interface model 'rtl8139' on q35/],
  ['i6300esb on q35', domainXml({ os: Q35, devices: "<watchdog model='i6300esb'/>" }), /watchdog model 'i6300esb' on q35/],
  ['q35 device on a missing root port', domainXml({ os: Q35, devices: "<interface type='user'><model type='virtio'/><address type='pci' domain='0' bus='5' slot='0' function='0'/></interface>" }), /no pcie-root-port with index 5/],
  ['sound card', domainXml({ devices: "<sound model='ich6'/>" }), /<sound> device/],
  ['hostdev', domainXml({ devices: "<hostdev mode='subsystem' type='pci'><source><address domain='0' bus='1' slot='0' function='0'/></source></hostdev>" }), /<hostdev> device/],
  ['network interface', domainXml({ devices: "<interface type='network'><source network='default'/></interface>" }), /interface type 'network'/],
  ['interface model', domainXml({ devices: "<interface type='user'><model type='ne2k_pci'/></interface>" }), /interface model 'ne2k_pci'/],
  ['usb disk', domainXml({ devices: "<disk type='file'><source file='/x.img'/><target dev='sda' bus='usb'/></disk>" }), /disk bus 'usb'/],
  ['vmdk disk', domainXml({ devices: "<disk type='file'><driver name='qemu' type='vmdk'/><source file='/x.vmdk'/><target dev='vda' bus='virtio'/></disk>" }), /disk format 'vmdk'/],
  ['network disk', domainXml({ devices: "<disk type='network'><source protocol='nbd' name='x'><host name='h'/></source><target dev='vda' bus='virtio'/></disk>" }), /disk type 'network'/],
  ['floppy', domainXml({ devices: "<disk type='file' device='floppy'><source file='/f.img'/><target dev='fda' bus='fdc'/></disk>" }), /disk device 'floppy'/],
  ['virtio console', domainXml({ devices: "<console type='pty'><target type='virtio'/></console>" }), /console target type 'virtio'/],
  ['channel', domainXml({ devices: "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>" }), /<channel> device/],
  ['tcp serial', domainXml({ devices: "<serial type='tcp'><source mode='bind' host='127.0.0.1' service='4555'/><protocol type='raw'/></serial>" }), /serial type 'tcp'/],
  ['qxl video', domainXml({ devices: "<video><model type='qxl'/></video>" }), /video model 'qxl'/],
  ['uefi loader', domainXml({ os: "<type arch='x86_64' machine='pc'>hvm</type><loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>" }), /firmware selection/],
  ['i686', domainXml({ os: "<type arch='i686' machine='pc'>hvm</type>" }), /architecture 'i686'/],
  ['hugepages', domainXml({ top: '<memoryBacking><hugepages/></memoryBacking>' }), /<memoryBacking>/],
  ['host-model CPU', domainXml({ top: "<cpu mode='host-model'/>" }), /CPU mode 'host-model'/],
  ['host-passthrough under TCG', domainXml({ top: "<cpu mode='host-passthrough'/>" }), /host-passthrough requires domain type kvm/],
  ['topology mismatch', domainXml({ top: "<vcpu>3</vcpu><cpu><topology sockets='1' cores='2' threads='1'/></cpu>" }), /topology doesn't match/],
  ['kvm without /dev/kvm', domainXml({ type: 'kvm' }), /requires \/dev\/kvm/, { kvmUsable: false }],
  ['virtio-serial controller', domainXml({ devices: "<controller type='virtio-serial'/>" }), /controller type 'virtio-serial'/],
  ['vnc password', domainXml({ devices: "<graphics type='vnc' passwd='secret'/>" }), /VNC password/],
  ['hyperv feature', domainXml({ top: "<features><hyperv><relaxed state='on'/></hyperv></features>" }), /feature <hyperv>/],
  ['kvmclock timer', domainXml({ top: "<clock offset='utc'><timer name='kvmclock' present='yes'/></clock>" }), /timer 'kvmclock'/],
  ['PCI slot clash', domainXml({ devices: "<interface type='user'><address type='pci' domain='0' bus='0' slot='1' function='0'/></interface>" }), /slot 0x1 is reserved/],
];

for (const [what, xml, message, host] of CASES) {
  test(`unsupported: ${what}`, () => assertUnsupported(xml, message, host));
}

test('type qemu runs under TCG whether or not /dev/kvm is usable', () => {
  const withKvm = build(domainXml());
  assert.deepEqual(build(domainXml(), { kvmUsable: false }), withKvm);
  assert.equal(withKvm[withKvm.indexOf('-accel') + 1], 'tcg');
  const kvm = build(domainXml({ type: 'kvm' }));
  assert.equal(kvm[kvm.indexOf('-accel') + 1], 'kvm');
});

test('autoport VNC uses the reserved port; a fixed port and listen address are kept', () => {
  const auto = build(domainXml({ devices: "<graphics type='vnc' autoport='yes'/>" }), { vncPort: 5903 });
  assert.equal(auto[auto.indexOf('-vnc') + 1], '127.0.0.1:3,audiodev=audio1');
  const fixed = build(domainXml({ devices: "<graphics type='vnc' port='5910' autoport='no' listen='::1'/>" }), { vncPort: 5903 });
  assert.equal(fixed[fixed.indexOf('-vnc') + 1], '[::1]:10,audiodev=audio1');
  assert.ok(!fixed.includes('-display'), 'no -display none with graphics');
});

test('commas in names and paths are doubled in QEMU option strings', () => {
  const argv = build(domainXml({ name: 'a,b', devices: "<serial type='file'><source path='/tmp/x,y.log'/></serial>" }), { monitorPath: '/run/m,s.sock' });
  assert.equal(argv[argv.indexOf('-name') + 1], 'guest=a,,b,debug-threads=on');
  assert.ok(argv.includes('socket,id=charmonitor,path=/run/m,,s.sock,server=on,wait=off'));
  assert.ok(argv.includes('file,id=charserial0,path=/tmp/x,,y.log'));
});

test('explicit PCI addresses are honoured and auto assignment skips them', () => {
  const argv = build(domainXml({
    devices: "<interface type='user'><mac address='52:54:00:00:00:01'/><address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/></interface>"
      + "<interface type='user'><mac address='52:54:00:00:00:02'/></interface>",
  }));
  const nics = argv.filter((a) => a.includes('"netdev":"hostnet'));
  assert.match(nics[0], /"addr":"0x2"/);
  assert.match(nics[1], /"addr":"0x3"/);
  assert.ok(argv.some((a) => a.includes('"virtio-balloon-pci"') && a.includes('"addr":"0x4"')));
});

test("a definition without arch runs as the host's x86_64, like libvirt", () => {
  const argv = build(domainXml({ os: '<type>hvm</type>' }));
  assert.equal(argv[argv.indexOf('-machine') + 1], 'pc-i440fx-7.2,usb=off,dump-guest-core=off,memory-backend=pc.ram');
});
