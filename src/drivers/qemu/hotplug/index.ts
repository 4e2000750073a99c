// attach-device / detach-device / detach-device-alias / update-device for the QEMU driver, with
// libvirt's LIVE/CONFIG/CURRENT rules: the persistent change is prepared first, the live one
// applied, and only then the persistent definition written.
import type { DriverMethods } from '../../../api/driver.js';
import type { DomainDef } from '../../../api/xml/domain/types.js';
import { parseDeviceXml, type DomainDeviceFragment } from '../../../api/xml/domain/parse.js';
import type { RemoteNonnullDomain } from '../../../protocol/gen/remote.js';
import { VirErrorDomain } from '../../../rpc/errors.js';
import { modificationImpact, type QemuDomain } from '../domain-obj.js';
import { checkFlags, internalError, xmlParse } from '../errors.js';
import type { QemuDriverState } from '../state.js';
import { AFFECT_CONFIG, AFFECT_LIVE, configUnsupported, replacePersistent } from './common.js';
import {
  attachDiskConfig, attachDiskLive, detachDiskConfig, detachDiskLive, updateDiskConfig, updateDiskLive,
} from './disk.js';
import { attachNetConfig, attachNetLive, detachFound, detachNetConfig, detachNetLive, netByAlias } from './net.js';
import { diskAlias } from './qemu-args.js';
import { unplugsOf } from './unplug.js';

export { setVcpusLive } from './vcpu.js';

const DEVICE_MODIFY_FORCE = 4;

type Kind = 'attach' | 'detach' | 'update';

/** Parses the device twice (one for each definition), keeping a generated MAC the same. */
function parsePair(xml: string): [DomainDeviceFragment, DomainDeviceFragment] {
  const a = xmlParse(() => parseDeviceXml(xml));
  const b = xmlParse(() => parseDeviceXml(xml));
  if ('net' in a && 'net' in b) b.net.mac = a.net.mac;
  return [a, b];
}

export function hotplugMethods(s: QemuDriverState): DriverMethods {
  const unplugs = unplugsOf(s);
  const r = (h: RemoteNonnullDomain): QemuDomain => s.domain(h);

  const configChange = (kind: Kind, pd: DomainDef, f: DomainDeviceFragment): DomainDef => {
    if ('disk' in f) return kind === 'attach' ? attachDiskConfig(pd, f.disk) : kind === 'detach' ? detachDiskConfig(pd, f.disk) : updateDiskConfig(pd, f.disk);
    if ('net' in f && kind === 'attach') return attachNetConfig(pd, f.net);
    if ('net' in f && kind === 'detach') return detachNetConfig(pd, f.net, f.macGiven);
    throw configUnsupported(`persistent ${kind} of device '${f.type}' is not supported`);
  };

  const liveChange = async (kind: Kind, d: QemuDomain, f: DomainDeviceFragment): Promise<void> => {
    if ('disk' in f) {
      if (kind === 'attach') return attachDiskLive(s, d, f.disk);
      if (kind === 'detach') return detachDiskLive(s, unplugs, d, f.disk);
      return updateDiskLive(s, d, f.disk);
    }
    if ('net' in f && kind === 'attach') return attachNetLive(s, d, f.net);
    if ('net' in f && kind === 'detach') return detachNetLive(s, unplugs, d, f.net, f.macGiven);
    throw configUnsupported(`live ${kind} of device '${f.type}' is not supported`);
  };

  const change = (kind: Kind, fn: string, h: RemoteNonnullDomain, xml: string, flags: number, allowed: number): Promise<void> => {
    checkFlags(fn, flags, allowed);
    const d = r(h);
    return d.withJob(async () => {
      const { live, config } = modificationImpact(d, flags);
      const [forLive, forConfig] = parsePair(xml);
      const next = config ? configChange(kind, d.persistentDef(), forConfig) : undefined;
      if (live) {
        if (!d.proc) throw internalError('monitor must not be NULL');
        await liveChange(kind, d, forLive);
      }
      if (next) {
        replacePersistent(d, next);
        s.saveConfig(next);
      }
    });
  };

  const detachAlias = (h: RemoteNonnullDomain, alias: string, flags: number): Promise<void> => {
    checkFlags('qemuDomainDetachDeviceAlias', flags, AFFECT_LIVE | AFFECT_CONFIG);
    const d = r(h);
    return d.withJob(async () => {
      const { live, config } = modificationImpact(d, flags);
      const missing = () => internalError(`no device found with alias ${alias}`, VirErrorDomain.DOMAIN);
      // Persistent definitions carry no aliases (libvirt formats them for live ones only).
      if (config) throw missing();
      if (!live) return;
      const disk = d.def.devices.disks.find((x) => diskAlias(d.def, x) === alias);
      if (disk) return detachDiskLive(s, unplugs, d, disk, false);
      const net = await netByAlias(d, alias);
      if (net) return detachFound(s, unplugs, d, net, false);
      throw missing();
    });
  };

  return {
    DOMAIN_ATTACH_DEVICE: ({ dom, xml }) => change('attach', 'qemuDomainAttachDeviceFlags', dom, xml, AFFECT_LIVE, 3),
    DOMAIN_ATTACH_DEVICE_FLAGS: ({ dom, xml, flags }) => change('attach', 'qemuDomainAttachDeviceFlags', dom, xml, flags, 3),
    DOMAIN_DETACH_DEVICE: ({ dom, xml }) => change('detach', 'qemuDomainDetachDeviceFlags', dom, xml, AFFECT_LIVE, 3),
    DOMAIN_DETACH_DEVICE_FLAGS: ({ dom, xml, flags }) => change('detach', 'qemuDomainDetachDeviceFlags', dom, xml, flags, 3),
    DOMAIN_DETACH_DEVICE_ALIAS: ({ dom, alias, flags }) => detachAlias(dom, alias, flags),
    DOMAIN_UPDATE_DEVICE_FLAGS: ({ dom, xml, flags }) =>
      change('update', 'qemuDomainUpdateDeviceFlags', dom, xml, flags & ~DEVICE_MODIFY_FORCE, 3),
  };
}
