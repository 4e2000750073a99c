// One scenario of API calls written twice: as libvirt-python expressions and as calls of our
// typed API. Both sides print [label, 'ok', value] or [label, 'err', code, domain, message], with
// values normalised to JSON (ints for booleans and bigints, lists for tuples), so a run of each
// against the same daemon must give identical transcripts.
import type { Connection } from '../../src/api/connection.js';
import type { Domain } from '../../src/api/domain.js';
import type { Network } from '../../src/api/network.js';
import type { DomainSnapshot } from '../../src/api/snapshot.js';
import type { StoragePool, StorageVol } from '../../src/api/storage.js';
import type { Interface } from '../../src/api/interface.js';
import { connect } from '../../src/connect.js';
import { VirError } from '../../src/rpc/errors.js';

export interface Ctx {
  uri: string;
  c: Connection;
  r: Connection;
  d: Domain;
  d2: Domain;
  n: Network;
  n2: Network;
  p: StoragePool;
  v: StorageVol;
  s: DomainSnapshot;
  i: Interface;
}

type Step =
  | { kind: 'call'; label: string; py: string; ts: (x: Ctx) => Promise<unknown> }
  | { kind: 'set'; py: string; ts: (x: Ctx) => Promise<void> };

const call = (label: string, py: string, ts: (x: Ctx) => Promise<unknown>): Step => ({ kind: 'call', label, py, ts });
const set = (py: string, ts: (x: Ctx) => Promise<void>): Step => ({ kind: 'set', py, ts });

const DOM2 = "<domain type='test'><name>d2</name><uuid>12345678-1234-1234-1234-123456789abc</uuid><memory>1048576</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>";
const TRANSIENT = "<domain type='test'><name>tr</name><memory>1048576</memory><os><type>hvm</type></os></domain>";
const NET2 = "<network><name>n2</name><uuid>aaaaaaaa-1234-1234-1234-123456789abc</uuid><bridge name='virbr9'/><ip address='192.168.99.1' netmask='255.255.255.0'/></network>";
const NET3 = "<network><name>n3</name><bridge name='virbr8'/></network>";
const VOL = "<volume><name>v1.img</name><capacity>1048576</capacity></volume>";
const POOL2 = "<pool type='dir'><name>p2</name><target><path>/p2</path></target></pool>";
const q = (s: string) => JSON.stringify(s);
/** libvirt-python's names for memory statistics, by tag. */
const PY_MEMSTAT = ['swap_in', 'swap_out', 'major_fault', 'minor_fault', 'unused', 'available', 'actual', 'rss', 'usable', 'last_update', 'disk_caches', 'hugetlb_pgalloc', 'hugetlb_pgfail'];

export const STEPS: Step[] = [
  call('type', 'c.getType()', (x) => x.c.type()),
  call('version', 'c.getVersion()', (x) => x.c.version()),
  call('libversion', 'c.getLibVersion()', (x) => x.c.libVersion()),
  call('hostname', 'c.getHostname()', (x) => x.c.hostname()),
  call('info', 'c.getInfo()', async (x) => {
    const i = await x.c.nodeInfo();
    // python reports MiB here.
    return [i.model, Number(i.memory) >> 10, i.cpus, i.mhz, i.nodes, i.sockets, i.cores, i.threads];
  }),
  call('caps', 'c.getCapabilities()', (x) => x.c.capabilities()),
  call('sysinfo', 'c.getSysinfo(0)', (x) => x.c.sysinfo()),
  call('maxvcpus', 'c.getMaxVcpus(None)', (x) => x.c.maxVcpus()),
  call('freemem', 'c.getFreeMemory()', (x) => x.c.nodeFreeMemory()),
  call('cellsfree', 'c.getCellsFreeMemory(0, 2)', (x) => x.c.nodeCellsFreeMemory(0, 2)),
  call('cpumap', 'c.getCPUMap()', async (x) => {
    const m = await x.c.nodeCpuMap();
    return [m.cpus.length, m.cpus, m.online];
  }),
  call('cpustats', 'c.getCPUStats(-1)', (x) => x.c.nodeCpuStats(-1)),
  call('cpumodels', "c.getCPUModelNames('x86_64')", (x) => x.c.cpuModelNames('x86_64')),
  call('secmodel', 'c.getSecurityModel()', async (x) => Object.values(await x.c.securityModel())),
  call('alive', 'c.isAlive()', async (x) => x.c.isAlive()),
  call('encrypted', 'c.isEncrypted()', (x) => x.c.isEncrypted()),
  call('secure', 'c.isSecure()', (x) => x.c.isSecure()),
  call('listall', 'sorted([(d.name(), d.ID(), d.UUIDString()) for d in c.listAllDomains()])', async (x) =>
    (await x.c.listAllDomains()).map((d) => [d.name, d.id, d.uuid]).sort()),
  call('listall-active', '[d.name() for d in c.listAllDomains(1)]', async (x) => (await x.c.listAllDomains(1)).map((d) => d.name)),
  call('listall-inactive', '[d.name() for d in c.listAllDomains(2)]', async (x) => (await x.c.listAllDomains(2)).map((d) => d.name)),
  call('ids', 'c.listDomainsID()', (x) => x.c.listDomainIDs()),
  call('numdomains', 'c.numOfDomains()', (x) => x.c.numOfDomains()),
  call('defined', 'c.listDefinedDomains()', (x) => x.c.listDefinedDomainNames()),
  call('numdefined', 'c.numOfDefinedDomains()', (x) => x.c.numOfDefinedDomains()),
  set("d = c.lookupByName('test')", async (x) => void (x.d = await x.c.domainLookupByName('test'))),
  call('d.handle', '[d.name(), d.ID(), d.UUIDString()]', async (x) => [x.d.name, x.d.id, x.d.uuid]),
  call('d.info', 'd.info()[:4]', async (x) => Object.values(await x.d.info()).slice(0, 4)),
  call('d.state', 'd.state()', async (x) => Object.values(await x.d.state())),
  call('d.xml', "'<name>test</name>' in d.XMLDesc(0)", async (x) => (await x.d.xmlDesc()).includes('<name>test</name>')),
  call('d.xml-inactive', "'<name>test</name>' in d.XMLDesc(2)", async (x) => (await x.d.xmlDesc(2)).includes('<name>test</name>')),
  call('d.maxmem', 'd.maxMemory()', (x) => x.d.maxMemory()),
  call('d.maxvcpus', 'd.maxVcpus()', (x) => x.d.maxVcpus()),
  call('d.ostype', 'd.OSType()', (x) => x.d.osType()),
  call('d.hostname', 'd.hostname(0)', (x) => x.d.hostname()),
  call('d.persistent', 'd.isPersistent()', (x) => x.d.isPersistent()),
  call('d.active', 'd.isActive()', (x) => x.d.isActive()),
  call('d.updated', 'd.isUpdated()', (x) => x.d.isUpdated()),
  call('d.autostart', 'd.autostart()', (x) => x.d.autostart()),
  call('d.vcpus-flags', 'd.vcpusFlags(0)', (x) => x.d.vcpus(0)),
  call('d.vcpuinfo', '[[v[0], v[1], v[3]] for v in d.vcpus()[0]] + [list(m) for m in d.vcpus()[1]]', async (x) => {
    const v = await x.d.vcpuInfo();
    return [...v.map((e) => [e.number, e.state, e.cpu]), ...v.map((e) => e.affinity)];
  }),
  call('d.seclabel', 'd.securityLabel()', async (x) => Object.values(await x.d.securityLabel())),
  call('d.msgs', 'd.messages(0)', (x) => x.d.messages()),
  call('d.hasmanaged', 'd.hasManagedSaveImage(0)', (x) => x.d.hasManagedSaveImage()),
  call('d.memstats', 'sorted(d.memoryStats().keys())', async (x) => (await x.d.memoryStats()).map((s) => PY_MEMSTAT[s.tag]).sort()),
  call('d.blockstats', 'len(d.blockStats("vda"))', async (x) => Object.keys(await x.d.blockStats('vda')).length),
  call('d.ifstats', 'd.interfaceStats("vnet0")', async (x) => Object.values(await x.d.interfaceStats('vnet0'))),
  call('d.blockinfo', 'd.blockInfo("vda", 0)', async (x) => {
    const b = await x.d.blockInfo('vda');
    return [b.capacity, b.allocation, b.physical];
  }),
  call('d.schedtype', 'd.schedulerType()', async (x) => Object.values(await x.d.schedulerType())),
  call('d.schedparams', 'd.schedulerParameters()', async (x) => Object.fromEntries(Object.entries(await x.d.schedulerParameters()).map(([k, v]) => [k, v.value]))),
  call('d.schedparams-flags', 'd.schedulerParametersFlags(0)', async (x) => Object.fromEntries(Object.entries(await x.d.schedulerParameters(0)).map(([k, v]) => [k, v.value]))),
  call('d.setsched', "d.setSchedulerParameters({'weight': 100})", (x) => x.d.setSchedulerParameters({ weight: { type: 'uint', value: 100 } })),
  call('byid', 'c.lookupByID(d.ID()).name()', async (x) => (await x.c.domainLookupByID(x.d.id)).name),
  call('byuuid', "c.lookupByUUIDString('6695eb01-f6a4-8304-79aa-97f2502e193f').name()", async (x) => (await x.c.domainLookupByUUID('6695eb01-f6a4-8304-79aa-97f2502e193f')).name),
  call('noname', "c.lookupByName('nosuch')", (x) => x.c.domainLookupByName('nosuch')),
  call('noid', 'c.lookupByID(4242)', (x) => x.c.domainLookupByID(4242)),
  call('nouuid', "c.lookupByUUIDString('11111111-2222-3333-4444-555555555555')", (x) => x.c.domainLookupByUUID('11111111-2222-3333-4444-555555555555')),
  call('suspend', 'd.suspend()', (x) => x.d.suspend()),
  call('state-paused', 'd.state()', async (x) => Object.values(await x.d.state())),
  call('suspend-again', 'd.suspend()', (x) => x.d.suspend()),
  call('resume', 'd.resume()', (x) => x.d.resume()),
  call('resume-again', 'd.resume()', (x) => x.d.resume()),
  call('shutdown', 'd.shutdown()', (x) => x.d.shutdown()),
  call('state-off', 'd.state()', async (x) => Object.values(await x.d.state())),
  call('shutdown-off', 'd.shutdownFlags(1)', (x) => x.d.shutdown(1)),
  call('create', 'd.create()', (x) => x.d.create()),
  call('id-after-create', 'd.ID()', async (x) => x.d.id),
  call('create-again', 'd.create()', (x) => x.d.create()),
  call('reboot', 'd.reboot(0)', (x) => x.d.reboot()),
  call('reset', 'd.reset(0)', (x) => x.d.reset()),
  call('setmem', 'd.setMemoryFlags(1048576, 1)', (x) => x.d.setMemory(1048576, 1)),
  call('info-after-setmem', 'd.info()[:4]', async (x) => Object.values(await x.d.info()).slice(0, 4)),
  call('setmem-plain', 'd.setMemory(2097152)', (x) => x.d.setMemory(2097152)),
  call('setmem-toolarge', 'd.setMemoryFlags(99999999, 1)', (x) => x.d.setMemory(99999999, 1)),
  call('setmaxmem', 'd.setMaxMemory(8388608)', (x) => x.d.setMaxMemory(8388608)),
  call('setvcpus', 'd.setVcpusFlags(1, 1)', (x) => x.d.setVcpus(1, 1)),
  call('setvcpus-plain', 'd.setVcpus(2)', (x) => x.d.setVcpus(2)),
  call('vcpus-live', 'd.vcpusFlags(1)', (x) => x.d.vcpus(1)),
  call('vcpus-config', 'd.vcpusFlags(2)', (x) => x.d.vcpus(2)),
  call('setautostart', 'd.setAutostart(1)', (x) => x.d.setAutostart(true)),
  call('autostart', 'd.autostart()', (x) => x.d.autostart()),
  call('snap', "d.snapshotCreateXML('<domainsnapshot><name>s1</name></domainsnapshot>').getName()", async (x) => (await x.d.createSnapshot('<domainsnapshot><name>s1</name></domainsnapshot>')).name),
  call('snap2', "d.snapshotCreateXML('<domainsnapshot><name>s2</name></domainsnapshot>').getName()", async (x) => (await x.d.createSnapshot('<domainsnapshot><name>s2</name></domainsnapshot>')).name),
  call('snapnum', 'd.snapshotNum()', (x) => x.d.snapshotNum()),
  call('snapnames', 'sorted(d.snapshotListNames())', async (x) => (await x.d.snapshotListNames()).sort()),
  call('snapall', 'sorted(s.getName() for s in d.listAllSnapshots())', async (x) => (await x.d.listAllSnapshots()).map((s) => s.name).sort()),
  call('snapcurrent', 'd.snapshotCurrent().getName()', async (x) => (await x.d.currentSnapshot()).name),
  call('hascurrent', 'd.hasCurrentSnapshot()', (x) => x.d.hasCurrentSnapshot()),
  set("s = d.snapshotLookupByName('s2')", async (x) => void (x.s = await x.d.snapshotLookupByName('s2'))),
  call('snap.xml', "'<name>s2</name>' in s.getXMLDesc()", async (x) => (await x.s.xmlDesc()).includes('<name>s2</name>')),
  call('snap.parent', 's.getParent().getName()', async (x) => (await x.s.parent()).name),
  call('snap.iscurrent', 's.isCurrent()', (x) => x.s.isCurrent()),
  call('snap.hasmeta', 's.hasMetadata()', (x) => x.s.hasMetadata()),
  call('snap.numchildren', "d.snapshotLookupByName('s1').numChildren()", async (x) => (await x.d.snapshotLookupByName('s1')).numChildren()),
  call('snap.childnames', "d.snapshotLookupByName('s1').listChildrenNames()", async (x) => (await x.d.snapshotLookupByName('s1')).listChildrenNames()),
  call('snap.allchildren', "[z.getName() for z in d.snapshotLookupByName('s1').listAllChildren()]", async (x) => (await (await x.d.snapshotLookupByName('s1')).listAllChildren()).map((z) => z.name)),
  call('snap.revert', "d.revertToSnapshot(d.snapshotLookupByName('s1'))", async (x) => (await x.d.snapshotLookupByName('s1')).revert()),
  call('snap.delete', 's.delete()', (x) => x.s.delete()),
  call('snapdup', "d.snapshotCreateXML('<domainsnapshot><name>s1</name></domainsnapshot>').getName()", async (x) => (await x.d.createSnapshot('<domainsnapshot><name>s1</name></domainsnapshot>')).name),
  call('snapnone', "d.snapshotLookupByName('nope')", (x) => x.d.snapshotLookupByName('nope')),
  call('managedsave', 'd.managedSave(0)', (x) => x.d.managedSave()),
  call('state-saved', 'd.state()', async (x) => Object.values(await x.d.state())),
  call('hasmanaged2', 'd.hasManagedSaveImage(0)', (x) => x.d.hasManagedSaveImage()),
  call('managedremove', 'd.managedSaveRemove(0)', (x) => x.d.managedSaveRemove()),
  call('hasmanaged3', 'd.hasManagedSaveImage(0)', (x) => x.d.hasManagedSaveImage()),
  call('start-flags', 'd.createWithFlags(1)', (x) => x.d.create(1)),
  call('state-startpaused', 'd.state()', async (x) => Object.values(await x.d.state())),
  call('destroy-flags', 'd.destroyFlags(0)', (x) => x.d.destroy(0)),
  call('destroy-graceful-off', 'd.destroyFlags(1)', (x) => x.d.destroy(1)),
  call('define-bad', "c.defineXML('<domain')", (x) => x.c.defineDomain('<domain')),
  call('define-ok', `c.defineXML(${q(DOM2)}).name()`, async (x) => (await x.c.defineDomain(DOM2)).name),
  call('define-flags', `c.defineXMLFlags(${q(DOM2)}, 0).name()`, async (x) => (await x.c.defineDomain(DOM2, 0)).name),
  set("d2 = c.lookupByName('d2')", async (x) => void (x.d2 = await x.c.domainLookupByName('d2'))),
  call('d2.state', 'd2.state()', async (x) => Object.values(await x.d2.state())),
  call('d2.id', 'd2.ID()', async (x) => x.d2.id),
  call('d2.start', 'd2.create()', (x) => x.d2.create()),
  call('d2.id-after', 'd2.ID() > 0', async (x) => x.d2.id > 0),
  call('d2.destroy', 'd2.destroy()', (x) => x.d2.destroy()),
  call('d2.id-destroyed', 'd2.ID()', async (x) => x.d2.id),
  call('d2.undefine-flags', 'd2.undefineFlags(0)', (x) => x.d2.undefine(0)),
  call('d2.gone', "c.lookupByName('d2')", (x) => x.c.domainLookupByName('d2')),
  call('create-xml', `c.createXML(${q(TRANSIENT)}, 0).name()`, async (x) => (await x.c.createDomain(TRANSIENT)).name),
  call('tr.persistent', "c.lookupByName('tr').isPersistent()", async (x) => (await x.c.domainLookupByName('tr')).isPersistent()),
  call('tr.destroy', "c.lookupByName('tr').destroy()", async (x) => (await x.c.domainLookupByName('tr')).destroy()),
  call('tr.gone', "c.lookupByName('tr')", (x) => x.c.domainLookupByName('tr')),
  call('nets', 'sorted(x.name() for x in c.listAllNetworks())', async (x) => (await x.c.listAllNetworks()).map((n) => n.name).sort()),
  call('netnames', 'c.listNetworks()', (x) => x.c.listNetworkNames()),
  call('netdefnames', 'c.listDefinedNetworks()', (x) => x.c.listDefinedNetworkNames()),
  call('numnets', '[c.numOfNetworks(), c.numOfDefinedNetworks()]', async (x) => [await x.c.numOfNetworks(), await x.c.numOfDefinedNetworks()]),
  set("n = c.networkLookupByName('default')", async (x) => void (x.n = await x.c.networkLookupByName('default'))),
  call('net.uuid', 'c.networkLookupByUUIDString(n.UUIDString()).name()', async (x) => (await x.c.networkLookupByUUID(x.n.uuid)).name),
  call('net.active', 'n.isActive()', (x) => x.n.isActive()),
  call('net.persistent', 'n.isPersistent()', (x) => x.n.isPersistent()),
  call('net.bridge', 'n.bridgeName()', (x) => x.n.bridgeName()),
  call('net.xml', "'<name>default</name>' in n.XMLDesc(0)", async (x) => (await x.n.xmlDesc()).includes('<name>default</name>')),
  call('net.autostart', 'n.autostart()', (x) => x.n.autostart()),
  call('net.setautostart', 'n.setAutostart(0)', (x) => x.n.setAutostart(false)),
  call('net.autostart2', 'n.autostart()', (x) => x.n.autostart()),
  call('net.destroy', 'n.destroy()', (x) => x.n.destroy()),
  call('net.destroy2', 'n.destroy()', (x) => x.n.destroy()),
  call('net.create', 'n.create()', (x) => x.n.create()),
  call('net.define', `c.networkDefineXML(${q(NET2)}).name()`, async (x) => (await x.c.defineNetwork(NET2)).name),
  set("n2 = c.networkLookupByName('n2')", async (x) => void (x.n2 = await x.c.networkLookupByName('n2'))),
  call('net2.active', 'n2.isActive()', (x) => x.n2.isActive()),
  call('net2.undefine', 'n2.undefine()', (x) => x.n2.undefine()),
  call('net.createxml', `c.networkCreateXML(${q(NET3)}).name()`, async (x) => (await x.c.createNetwork(NET3)).name),
  call('net3.destroy', "c.networkLookupByName('n3').destroy()", async (x) => (await x.c.networkLookupByName('n3')).destroy()),
  call('net.none', "c.networkLookupByName('nope')", (x) => x.c.networkLookupByName('nope')),
  call('pools', 'sorted(x.name() for x in c.listAllStoragePools())', async (x) => (await x.c.listAllStoragePools()).map((p) => p.name).sort()),
  call('poolnames', '[c.listStoragePools(), c.listDefinedStoragePools(), c.numOfStoragePools(), c.numOfDefinedStoragePools()]', async (x) => [
    await x.c.listStoragePoolNames(), await x.c.listDefinedStoragePoolNames(), await x.c.numOfStoragePools(), await x.c.numOfDefinedStoragePools(),
  ]),
  set("p = c.storagePoolLookupByName('default-pool')", async (x) => void (x.p = await x.c.storagePoolLookupByName('default-pool'))),
  call('pool.uuid', 'c.storagePoolLookupByUUIDString(p.UUIDString()).name()', async (x) => (await x.c.storagePoolLookupByUUID(x.p.uuid)).name),
  call('pool.info', 'p.info()', async (x) => Object.values(await x.p.info())),
  call('pool.xml', "'<name>default-pool</name>' in p.XMLDesc(0)", async (x) => (await x.p.xmlDesc()).includes('<name>default-pool</name>')),
  call('pool.active', '[p.isActive(), p.isPersistent(), p.autostart()]', async (x) => [await x.p.isActive(), await x.p.isPersistent(), await x.p.autostart()]),
  call('pool.setautostart', 'p.setAutostart(1)', (x) => x.p.setAutostart(true)),
  call('pool.refresh', 'p.refresh(0)', (x) => x.p.refresh()),
  call('vol.create', `p.createXML(${q(VOL)}, 0).name()`, async (x) => (await x.p.createVolume(VOL)).name),
  call('pool.vols', 'sorted(p.listVolumes())', async (x) => (await x.p.listVolumeNames()).sort()),
  call('pool.numvols', 'p.numOfVolumes()', (x) => x.p.numOfVolumes()),
  call('pool.allvols', 'sorted(v.name() for v in p.listAllVolumes())', async (x) => (await x.p.listAllVolumes()).map((v) => v.name).sort()),
  set("v = p.storageVolLookupByName('v1.img')", async (x) => void (x.v = await x.p.volumeLookupByName('v1.img'))),
  call('vol.info', 'v.info()', async (x) => Object.values(await x.v.info())),
  call('vol.path', 'v.path()', (x) => x.v.path()),
  call('vol.key', '[v.key(), v.name()]', async (x) => [x.v.key, x.v.name]),
  call('vol.xml', "'<name>v1.img</name>' in v.XMLDesc(0)", async (x) => (await x.v.xmlDesc()).includes('<name>v1.img</name>')),
  call('vol.bykey', 'c.storageVolLookupByKey(v.key()).name()', async (x) => (await x.c.storageVolLookupByKey(x.v.key)).name),
  call('vol.bypath', 'c.storageVolLookupByPath(v.path()).name()', async (x) => (await x.c.storageVolLookupByPath(await x.v.path())).name),
  call('vol.pool', 'v.storagePoolLookupByVolume().name()', async (x) => (await x.v.pool()).name),
  call('vol.clone', `p.createXMLFrom(${q(VOL.replace('v1.img', 'v2.img'))}, v, 0).name()`, async (x) => (await x.p.createVolumeFrom(VOL.replace('v1.img', 'v2.img'), x.v)).name),
  call('vol.dup', `p.createXML(${q(VOL)}, 0).name()`, async (x) => (await x.p.createVolume(VOL)).name),
  call('vol.delete', 'v.delete(0)', (x) => x.v.delete()),
  call('vol2.delete', "p.storageVolLookupByName('v2.img').delete(0)", async (x) => (await x.p.volumeLookupByName('v2.img')).delete()),
  call('pool.define', `c.storagePoolDefineXML(${q(POOL2)}, 0).name()`, async (x) => (await x.c.defineStoragePool(POOL2)).name),
  call('pool2.build', "c.storagePoolLookupByName('p2').build(0)", async (x) => (await x.c.storagePoolLookupByName('p2')).build()),
  call('pool2.create', "c.storagePoolLookupByName('p2').create(0)", async (x) => (await x.c.storagePoolLookupByName('p2')).create()),
  call('pool2.destroy', "c.storagePoolLookupByName('p2').destroy()", async (x) => (await x.c.storagePoolLookupByName('p2')).destroy()),
  call('pool2.delete', "c.storagePoolLookupByName('p2').delete(0)", async (x) => (await x.c.storagePoolLookupByName('p2')).delete()),
  call('pool2.undefine', "c.storagePoolLookupByName('p2').undefine()", async (x) => (await x.c.storagePoolLookupByName('p2')).undefine()),
  call('pool.createxml', `c.storagePoolCreateXML(${q(POOL2)}, 0).name()`, async (x) => (await x.c.createStoragePool(POOL2)).name),
  call('pool.sources', "c.findStoragePoolSources('logical', None, 0)", (x) => x.c.findStoragePoolSources('logical')),
  call('ifaces', 'sorted(x.name() for x in c.listAllInterfaces())', async (x) => (await x.c.listAllInterfaces()).map((i) => i.name).sort()),
  call('ifnames', '[c.listInterfaces(), c.listDefinedInterfaces(), c.numOfInterfaces(), c.numOfDefinedInterfaces()]', async (x) => [
    await x.c.listInterfaceNames(), await x.c.listDefinedInterfaceNames(), await x.c.numOfInterfaces(), await x.c.numOfDefinedInterfaces(),
  ]),
  set("i = c.interfaceLookupByName('eth1')", async (x) => void (x.i = await x.c.interfaceLookupByName('eth1'))),
  call('iface.mac', 'i.MACString()', async (x) => x.i.mac),
  call('iface.bymac', 'c.interfaceLookupByMACString(i.MACString()).name()', async (x) => (await x.c.interfaceLookupByMAC(x.i.mac)).name),
  call('iface.active', 'i.isActive()', (x) => x.i.isActive()),
  call('iface.xml', "'eth1' in i.XMLDesc(0)", async (x) => (await x.i.xmlDesc()).includes('eth1')),
  call('iface.begin', 'c.changeBegin(0)', (x) => x.c.interfaceChangeBegin()),
  call('iface.destroy', 'i.destroy(0)', (x) => x.i.destroy()),
  call('iface.create', 'i.create(0)', (x) => x.i.create()),
  call('iface.rollback', 'c.changeRollback(0)', (x) => x.c.interfaceChangeRollback()),
  call('iface.commit', 'c.changeCommit(0)', (x) => x.c.interfaceChangeCommit()),
  set('r = libvirt.openReadOnly(uri)', async (x) => void (x.r = await connect(x.uri, { readonly: true }))),
  call('ro.suspend', "r.lookupByName('test').suspend()", async (x) => (await x.r.domainLookupByName('test')).suspend()),
  call('ro.define', "r.defineXML('<domain/>')", (x) => x.r.defineDomain('<domain/>')),
  call('ro.xmlsecure', "r.lookupByName('test').XMLDesc(1)", async (x) => (await x.r.domainLookupByName('test')).xmlDesc(1)),
  call('ro.info', "r.lookupByName('test').info()[:4]", async (x) => Object.values(await (await x.r.domainLookupByName('test')).info()).slice(0, 4)),
  call('d.undefine-running', 'd.undefine()', (x) => x.d.undefine()),
  call('d.state-after', 'd.state()', async (x) => Object.values(await x.d.state())),
];

export const PY_PRELUDE = String.raw`
import libvirt, sys, json
uri = sys.argv[1]
out = []
def norm(v):
    if isinstance(v, bool): return int(v)
    if isinstance(v, (list, tuple)): return [norm(x) for x in v]
    if isinstance(v, dict): return {str(k): norm(x) for k, x in v.items()}
    if isinstance(v, bytes): return v.hex()
    return v
def t(label, f):
    try:
        out.append([label, 'ok', norm(f())])
    except libvirt.libvirtError as e:
        out.append([label, 'err', e.get_error_code(), e.get_error_domain(), e.get_error_message()])
c = libvirt.open(uri)
`;

export function pythonScript(): string {
  const body = STEPS.map((s) => (s.kind === 'call' ? `t(${JSON.stringify(s.label)}, lambda: ${s.py})` : s.py)).join('\n');
  return `${PY_PRELUDE}${body}\nprint(json.dumps(out))\n`;
}

function norm(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  // libvirt-python returns the C API's 0 for calls without a result.
  if (v === undefined) return 0;
  if (Array.isArray(v)) return v.map(norm);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
  return v;
}

/** Runs the scenario with our API; the transcript has python's shape. */
export async function runOurs(uri: string): Promise<unknown[][]> {
  const x = { uri, c: await connect(uri) } as Ctx;
  const out: unknown[][] = [];
  try {
    for (const s of STEPS) {
      if (s.kind === 'set') {
        await s.ts(x);
        continue;
      }
      try {
        const v = await s.ts(x);
        // Methods returning objects: compare what python prints for them (None for void calls).
        out.push([s.label, 'ok', norm(v && typeof v === 'object' && !Array.isArray(v) && 'handle' in v ? null : v)]);
      } catch (e) {
        if (!(e instanceof VirError)) throw e;
        out.push([s.label, 'err', e.code, e.domain, e.message]);
      }
    }
  } finally {
    await x.r?.close();
    await x.c.close();
  }
  return out;
}
