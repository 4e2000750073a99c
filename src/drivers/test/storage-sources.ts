// virConnectFindStoragePoolSources for the test driver: canned answers for logical and
// netfs pools, and libvirt's quirk that "dir" (pool type 0) reads as an unknown type.
import { parseXml, attr, child } from '../../api/xml/tree.js';
import { ErrDomain } from '../../api/xml/errors.js';
import { internalError, invalidArg, noSupport, parsing } from './node-common.js';

const LOGICAL_SOURCES = `<sources>
  <source>
    <device path='/dev/sda20'/>
    <name>testvg1</name>
    <format type='lvm2'/>
  </source>
  <source>
    <device path='/dev/sda21'/>
    <name>testvg2</name>
    <format type='lvm2'/>
  </source>
</sources>
`;

const netfsSources = (host: string) => `<sources>
  <source>
    <host name='${host}'/>
    <dir path='/testshare'/>
    <format type='nfs'/>
  </source>
</sources>
`;

export function findPoolSources(type: string, srcSpec: string | null): string {
  // virStoragePoolTypeFromString gives 0 for "dir", which the test driver treats as failure.
  if (type === 'dir') throw internalError(`unknown storage pool type ${type}`);
  const host = srcSpec === null
    ? undefined
    : attr(child(parsing(() => parseXml(srcSpec, 'source', 'srcSpec', ErrDomain.storage)), 'host'), 'name');
  if (type === 'logical') return LOGICAL_SOURCES;
  if (type === 'netfs') {
    if (host === undefined) throw invalidArg('hostname must be specified for netfs sources');
    return netfsSources(host);
  }
  throw noSupport(`pool type '${type}' does not support source discovery`);
}
