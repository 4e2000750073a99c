// libvirt-python (Debian's python3-libvirt) against tsvirtd and against a private real libvirtd:
// one script makes the same API calls on both and prints every result or raised error
// (code, domain, message); the two transcripts must be identical.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { libvirtdSkipReason, startLibvirtd, type Libvirtd } from '../harness/libvirtd.js';
import { runPython } from '../harness/run.js';
import { startTsvirtd } from '../harness/tsvirtd.js';

const skip = libvirtdSkipReason();

const SCRIPT = String.raw`
import libvirt, sys, json
uri = sys.argv[1]
out = []
def t(label, f):
    try:
        v = f()
        if isinstance(v, bytes): v = v.hex()
        out.append([label, 'ok', v])
    except libvirt.libvirtError as e:
        out.append([label, 'err', e.get_error_code(), e.get_error_domain(), e.get_error_message()])
    except Exception as e:
        out.append([label, 'pyerr', type(e).__name__, str(e)])

c = libvirt.open(uri)
t('type', c.getType)
t('version', c.getVersion)
t('libversion', c.getLibVersion)
t('hostname', c.getHostname)
t('info', c.getInfo)
t('maxvcpus', lambda: c.getMaxVcpus(None))
t('freemem', c.getFreeMemory)
t('cpumap', lambda: c.getCPUMap())
t('secmodel', c.getSecurityModel)
t('alive', c.isAlive)
t('encrypted', c.isEncrypted)
t('secure', c.isSecure)
t('listall', lambda: sorted([(d.name(), d.ID(), d.UUIDString()) for d in c.listAllDomains()]))
t('listall-active', lambda: [d.name() for d in c.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)])
t('listall-inactive', lambda: [d.name() for d in c.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE)])
t('ids', c.listDomainsID)
t('numdomains', c.numOfDomains)
t('defined', c.listDefinedDomains)
t('numdefined', c.numOfDefinedDomains)
d = c.lookupByName('test')
t('d.info', lambda: d.info()[:4])
t('d.state', lambda: d.state())
t('d.maxmem', d.maxMemory)
t('d.maxvcpus', d.maxVcpus)
t('d.ostype', d.OSType)
t('d.persistent', d.isPersistent)
t('d.active', d.isActive)
t('d.updated', d.isUpdated)
t('d.autostart', d.autostart)
t('d.vcpus-flags', lambda: d.vcpusFlags(0))
t('d.seclabel', d.securityLabel)
t('d.msgs', lambda: d.messages(0))
t('d.hasmanaged', lambda: d.hasManagedSaveImage(0))
t('d.memstats', d.memoryStats)
# The test driver derives block statistics from the clock: compare their shape only.
t('d.blockstats', lambda: [type(x).__name__ for x in d.blockStats('vda')])
t('d.ifstats', lambda: d.interfaceStats('vnet0'))
t('byid', lambda: c.lookupByID(d.ID()).name())
t('byuuid', lambda: c.lookupByUUIDString('6695eb01-f6a4-8304-79aa-97f2502e193f').name())
t('noname', lambda: c.lookupByName('nosuch'))
t('noid', lambda: c.lookupByID(4242))
t('nouuid', lambda: c.lookupByUUIDString('11111111-2222-3333-4444-555555555555'))
t('suspend', d.suspend)
t('state-paused', d.state)
t('suspend-again', d.suspend)
t('resume', d.resume)
t('resume-again', d.resume)
t('shutdown', d.shutdown)
t('state-off', d.state)
t('create', d.create)
t('create-again', d.create)
t('reboot', lambda: d.reboot(0))
t('reset', lambda: d.reset(0))
t('setmem', lambda: d.setMemoryFlags(1048576, libvirt.VIR_DOMAIN_AFFECT_LIVE))
t('info-after-setmem', lambda: d.info()[:4])
t('setmem-toolarge', lambda: d.setMemoryFlags(99999999, libvirt.VIR_DOMAIN_AFFECT_LIVE))
t('setvcpus', lambda: d.setVcpusFlags(1, libvirt.VIR_DOMAIN_AFFECT_LIVE))
t('vcpus-live', lambda: d.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_LIVE))
t('vcpus-config', lambda: d.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_CONFIG))
t('setautostart', lambda: d.setAutostart(1))
t('autostart', d.autostart)
t('snap', lambda: d.snapshotCreateXML('<domainsnapshot><name>s1</name></domainsnapshot>').getName())
t('snapnum', lambda: d.snapshotNum())
t('snapnames', lambda: d.snapshotListNames())
t('snapcurrent', lambda: d.snapshotCurrent().getName())
t('snapxmlname', lambda: 's1' in d.snapshotLookupByName('s1').getXMLDesc())
t('snapdup', lambda: d.snapshotCreateXML('<domainsnapshot><name>s1</name></domainsnapshot>').getName())
t('snapnone', lambda: d.snapshotLookupByName('nope'))
t('managedsave', lambda: d.managedSave(0))
t('state-saved', d.state)
t('hasmanaged2', lambda: d.hasManagedSaveImage(0))
t('start-restore', d.create)
t('define-bad', lambda: c.defineXML('<domain'))
t('define-noname', lambda: c.defineXML("<domain type='test'><memory>1024</memory><os><type>hvm</type></os></domain>"))
t('define-dup-uuid', lambda: c.defineXML("<domain type='test'><name>other</name><uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid><memory>1024</memory><os><type>hvm</type></os></domain>"))
t('define-ok', lambda: c.defineXML("<domain type='test'><name>d2</name><uuid>12345678-1234-1234-1234-123456789abc</uuid><memory>1024</memory><os><type>hvm</type></os></domain>").name())
n = c.lookupByName('d2')
t('d2.state', n.state)
t('d2.id', n.ID)
t('d2.start', n.create)
t('d2.id-after', n.ID)
t('d2.destroy', n.destroy)
t('d2.undefine', n.undefine)
t('d2.gone', lambda: c.lookupByName('d2'))
t('nets', lambda: sorted(x.name() for x in c.listAllNetworks()))
net = c.networkLookupByName('default')
t('net.active', net.isActive)
t('net.bridge', net.bridgeName)
t('net.autostart', net.autostart)
t('net.destroy', net.destroy)
t('net.destroy2', net.destroy)
t('net.create', net.create)
t('pools', lambda: sorted(x.name() for x in c.listAllStoragePools()))
p = c.storagePoolLookupByName('default-pool')
t('pool.info', p.info)
t('pool.vols', lambda: sorted(p.listVolumes()))
t('vol.create', lambda: p.createXML("<volume><name>v1.img</name><capacity>1048576</capacity></volume>", 0).name())
t('vol.info', lambda: p.storageVolLookupByName('v1.img').info())
t('vol.path', lambda: p.storageVolLookupByName('v1.img').path())
t('vol.dup', lambda: p.createXML("<volume><name>v1.img</name><capacity>1048576</capacity></volume>", 0).name())
t('vol.delete', lambda: p.storageVolLookupByName('v1.img').delete(0))
t('ifaces', lambda: sorted(x.name() for x in c.listAllInterfaces()))
t('iface.mac', lambda: c.interfaceLookupByName('eth1').MACString())
r = libvirt.openReadOnly(uri)
rd = r.lookupByName('test')
t('ro.suspend', rd.suspend)
t('ro.define', lambda: r.defineXML('<domain/>'))
t('ro.xmlsecure', lambda: rd.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE))
t('ro.info', lambda: rd.info()[:4])
t('console', lambda: d.openConsole(None, c.newStream(0), 0))
print(json.dumps(out, indent=0))
`;

describe('libvirt-python against tsvirtd and libvirtd', { skip }, () => {
  let real: Libvirtd;
  let ours: Libvirtd;
  before(async () => {
    [real, ours] = await Promise.all([startLibvirtd(), startTsvirtd()]);
  });
  after(async () => {
    await Promise.all([real?.stop(), ours?.stop()]);
  });

  test('the same calls give the same results and the same errors', async () => {
    const [a, b] = await Promise.all([real, ours].map((d) => runPython(SCRIPT, [d.uri('test')], { timeoutMs: 60_000 })));
    assert.equal(a!.code, 0, a!.stderr);
    assert.equal(b!.code, 0, b!.stderr);
    const want = JSON.parse(a!.stdout) as unknown[][];
    const got = JSON.parse(b!.stdout) as unknown[][];
    const diffs = want.flatMap((w, i) => (JSON.stringify(got[i]) === JSON.stringify(w) ? [] : [`libvirtd ${JSON.stringify(w)}\ntsvirtd  ${JSON.stringify(got[i])}`]));
    assert.equal(diffs.length, 0, `${diffs.length} of ${want.length} calls differ:\n${diffs.join('\n')}`);
    assert.equal(got.length, want.length);
  });
});
