// What libvirt's test driver adds to a domain when it is defined: host-side interface
// names "testnetN" for NICs without a <target dev>.
import type { DomainDef } from '../../../api/xml/domain/types.js';

export function applyTestDomainDefaults(def: DomainDef): void {
  let n = 0;
  for (const nic of def.devices.nets) if (nic.targetDev === undefined) nic.targetDev = `testnet${n++}`;
}
