// CONNECT_GET_DOMAIN_CAPABILITIES: what one emulator/machine/virt type combination offers, in
// libvirt 9.0's element order. The emulator is picked the way libvirt's cache lookup picks it
// (explicit binary, else the one serving the arch, else the host's), with libvirt's errors.
import { unsupportedConfig } from './command/errors.js';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { renderDoc, type Out } from '../../api/xml/tree.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';
import { kvmUsable, loadQemuCaps, type QemuCaps } from './caps.js';
import { invalidArg } from './errors.js';
import { GUEST_ARCHES, installedGuests } from './host-caps.js';
import { hostCpuModel } from './host-cpu.js';

export interface DomCapsQuery {
  emulatorbin: string | null;
  arch: string | null;
  machine: string | null;
  virttype: string | null;
}

const KNOWN_VIRT_TYPES = ['qemu', 'kqemu', 'kvm', 'xen', 'lxc', 'uml', 'openvz', 'test', 'vmware', 'hyperv', 'vbox', 'phyp', 'parallels', 'bhyve', 'vz'];


export async function domainCapabilitiesXml(q: DomCapsQuery, cacheDir: string): Promise<string> {
  const hostArch = process.arch === 'x64' ? 'x86_64' : process.arch;
  let path: string;
  let arch: string;
  if (q.emulatorbin !== null) {
    path = q.emulatorbin;
    if (!existsSync(path)) {
      throw VirError.format(VirErrorNumber.SYSTEM_ERROR, VirErrorDomain.QEMU, '%s', `Cannot check QEMU binary ${path}: No such file or directory`);
    }
    arch = GUEST_ARCHES.find((g) => g.binary === basename(path))?.arch ?? hostArch;
    if (q.arch !== null && q.arch !== arch) {
      throw invalidArg(`architecture from emulator '${arch}' doesn't match given architecture '${q.arch}'`);
    }
  } else {
    arch = q.arch ?? hostArch;
    const g = installedGuests().find((x) => x.arch === arch);
    if (!g) throw unsupportedConfig(`unable to find any emulator to serve '${arch}' architecture`);
    path = g.path;
  }
  const caps = await loadQemuCaps(path, { cacheDir });
  const kvm = caps.kvmPresent && (await kvmUsable());
  const virttype = q.virttype ?? (kvm ? 'kvm' : 'qemu');
  if (!KNOWN_VIRT_TYPES.includes(virttype)) throw invalidArg(`unknown virttype: ${virttype}`);
  if (virttype !== 'qemu' && !(virttype === 'kvm' && kvm)) {
    throw invalidArg(`Emulator '${path}' does not support virt type '${virttype}'`);
  }
  const wanted = q.machine ?? caps.machines.find((m) => m.isDefault)?.name;
  const machine = caps.machines.find((m) => m.name === wanted || m.alias === wanted);
  if (!machine) throw invalidArg(`the machine '${wanted ?? ''}' is not supported by emulator '${path}'`);
  return renderDoc({
    name: 'domainCapabilities',
    kids: [
      { name: 'path', text: path },
      { name: 'domain', text: virttype },
      { name: 'machine', text: machine.name },
      { name: 'arch', text: arch },
      { name: 'vcpu', attrs: [['max', machine.cpuMax]] },
      { name: 'iothreads', attrs: [['supported', 'yes']] },
      osXml(),
      cpuXml(caps, arch, virttype === 'kvm'),
      { name: 'memoryBacking', attrs: [['supported', 'yes']], kids: [values('sourceType', ['file', 'anonymous', 'memfd'])] },
      devicesXml(machine.name.includes('q35')),
      featuresXml(),
    ],
  });
}

const values = (name: string, vals: readonly string[]): Out => ({
  name: 'enum', attrs: [['name', name]], kids: vals.map((v): Out => ({ name: 'value', text: v })),
});

const supported = (name: string, kids: Out[]): Out => ({ name, attrs: [['supported', 'yes']], kids });

function osXml(): Out {
  return supported('os', [
    values('firmware', []),
    supported('loader', [values('type', ['rom', 'pflash']), values('readonly', ['yes', 'no']), values('secure', ['no'])]),
  ]);
}

const INTEL = /^(Westmere|Snowridge|Skylake|SandyBridge|SapphireRapids|Penryn|Nehalem|IvyBridge|Icelake|Haswell|Cooperlake|Conroe|Cascadelake|Broadwell|KnightsMill|Denverton|GraniteRapids|n270|coreduo|core2duo)/;
const AMD = /^(phenom|athlon|Opteron|EPYC)/;

function modelVendor(name: string): string {
  if (INTEL.test(name)) return 'Intel';
  if (AMD.test(name)) return 'AMD';
  if (name.startsWith('Dhyana')) return 'Hygon';
  return 'unknown';
}

function cpuXml(caps: QemuCaps, arch: string, kvm: boolean): Out {
  const host = hostCpuModel(arch);
  const onOff = (name: string, vals: string[]): Out => values(name, vals);
  // libvirt lists the named models only, not QEMU's versioned aliases or its special ones.
  const models = caps.cpuModels
    .filter((m) => !/-v\d+$/.test(m.name) && !['max', 'host', 'base'].includes(m.name))
    .sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
  return {
    name: 'cpu',
    kids: [
      kvm
        ? { name: 'mode', attrs: [['name', 'host-passthrough'], ['supported', 'yes']], kids: [onOff('hostPassthroughMigratable', arch === 'x86_64' ? ['on', 'off'] : ['off'])] }
        : { name: 'mode', attrs: [['name', 'host-passthrough'], ['supported', 'no']] },
      { name: 'mode', attrs: [['name', 'maximum'], ['supported', 'yes']], kids: [onOff('maximumMigratable', ['on', 'off'])] },
      {
        name: 'mode',
        attrs: [['name', 'host-model'], ['supported', 'yes']],
        kids: [
          { name: 'model', attrs: [['fallback', 'forbid']], text: host.model },
          host.vendor !== undefined && { name: 'vendor', text: host.vendor },
          ...host.features.map((f): Out => ({ name: 'feature', attrs: [['policy', 'require'], ['name', f]] })),
        ],
      },
      {
        name: 'mode',
        attrs: [['name', 'custom'], ['supported', 'yes']],
        kids: models.map((m): Out => ({
          name: 'model', attrs: [['usable', m.unavailableFeatures.length === 0 ? 'yes' : 'no'], ['vendor', modelVendor(m.name)]], text: m.name,
        })),
      },
    ],
  };
}

function devicesXml(q35: boolean): Out {
  const virtioModels = ['virtio', 'virtio-transitional', 'virtio-non-transitional'];
  return {
    name: 'devices',
    kids: [
      supported('disk', [
        values('diskDevice', ['disk', 'cdrom', 'floppy', 'lun']),
        values('bus', [...(q35 ? [] : ['ide']), 'fdc', 'scsi', 'virtio', 'usb', 'sata']),
        values('model', virtioModels),
      ]),
      supported('graphics', [values('type', ['sdl', 'vnc', 'spice', 'egl-headless', 'dbus'])]),
      supported('video', [values('modelType', ['vga', 'cirrus', 'vmvga', 'qxl', 'virtio', 'none', 'bochs', 'ramfb'])]),
      supported('hostdev', [
        values('mode', ['subsystem']),
        values('startupPolicy', ['default', 'mandatory', 'requisite', 'optional']),
        values('subsysType', ['usb', 'pci', 'scsi']),
        values('capsType', []),
        values('pciBackend', []),
      ]),
      supported('rng', [values('model', virtioModels), values('backendModel', ['random', 'egd', 'builtin'])]),
      supported('filesystem', [values('driverType', ['path', 'handle', 'virtiofs'])]),
      supported('tpm', [values('model', ['tpm-tis', 'tpm-crb']), values('backendModel', ['passthrough'])]),
      supported('redirdev', [values('bus', ['usb'])]),
      supported('channel', [values('type', ['pty', 'unix', 'spicevmc'])]),
    ],
  };
}

function featuresXml(): Out {
  const flag = (name: string, on: boolean): Out => ({ name, attrs: [['supported', on ? 'yes' : 'no']] });
  return {
    name: 'features',
    kids: [
      flag('gic', false), flag('vmcoreinfo', true), flag('genid', true), flag('backingStoreInput', true), flag('backup', true),
      flag('sev', false), flag('sgx', false),
      supported('hyperv', [values('features', ['spinlocks', 'vendor_id'])]),
    ],
  };
}
