// Network interfaces: a -netdev back-end and a NIC -device per <interface>.
import type { DomainNet } from '../../../api/xml/domain/types.js';
import { attr } from '../../../api/xml/tree.js';
import { unsupportedConfig, unsupportedElement } from './errors.js';
import { jsonArg } from './escape.js';
import { pciProps, type PciAddresses } from './pci.js';

const NIC_DRIVERS: Record<string, string> = { virtio: 'virtio-net-pci', e1000: 'e1000', e1000e: 'e1000e', rtl8139: 'rtl8139' };

/** NICs that are conventional PCI devices: q35 would need a PCIe-to-PCI bridge we do not build. */
const CONVENTIONAL_PCI = ['rtl8139', 'e1000'];

export function validateNet(n: DomainNet, q35 = false): void {
  if (!['user', 'ethernet', 'bridge'].includes(n.type)) throw unsupportedElement(`interface type '${n.type}'`);
  if (n.type === 'ethernet' && n.targetDev === undefined) throw unsupportedConfig('interface type ethernet needs a <target dev=...> tap device');
  if (n.type === 'bridge' && attr(n.source, 'bridge') === undefined) throw unsupportedConfig('interface type bridge needs <source bridge=...>');
  const model = n.model ?? 'rtl8139';
  if (!(model in NIC_DRIVERS)) throw unsupportedElement(`interface model '${model}'`);
  if (q35 && CONVENTIONAL_PCI.includes(model)) throw unsupportedElement(`interface model '${model}' on q35 (a conventional PCI device)`);
}

/**
 * The back-end. libvirt opens tap devices itself and passes their fds; Node cannot do the
 * TUNSETIFF ioctl, so QEMU opens the named tap (ethernet) or asks qemu-bridge-helper (bridge).
 */
function netdev(n: DomainNet, id: string): Record<string, unknown> {
  if (n.type === 'ethernet') return { type: 'tap', ifname: n.targetDev, script: 'no', downscript: 'no', id };
  if (n.type === 'bridge') return { type: 'bridge', br: attr(n.source, 'bridge'), id };
  return { type: 'user', id };
}

export function netArgs(n: DomainNet, index: number, pci: PciAddresses, bootIndex: number | undefined): string[] {
  const id = `hostnet${index}`;
  return [
    '-netdev', jsonArg(netdev(n, id)),
    '-device', jsonArg({
      driver: NIC_DRIVERS[n.model ?? 'rtl8139'],
      netdev: id,
      id: `net${index}`,
      mac: n.mac,
      ...(bootIndex !== undefined ? { bootindex: bootIndex } : {}),
      ...pciProps(pci, n),
    }),
  ];
}
