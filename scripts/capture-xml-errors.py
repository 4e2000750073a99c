#!/usr/bin/python3
# Records libvirt 9.0's error (code, domain, message) for bad XML definitions against
# test:///default, for test/xml/errors.test.ts. Run with Debian's /usr/bin/python3.
import json, sys
import libvirt

libvirt.registerErrorHandler(lambda *a: None, None)
OS = "<os><type>hvm</type></os>"
DOM = {
    'malformed': "<domain type='test'><name>x</name>",
    'malformed-final-newline': "<domain type='test'><name>bad</name>\n",
    'unterminated-start-tag': "<domain",
    'unterminated-inner-tag': "<domain type='test'>\n<name>x</name>\n<memory",
    'tag-mismatch': "<domain type='test'><name>x</nam></domain>",
    'empty': "",
    'wrong-root': "<network><name>x</name></network>",
    'no-name': "<domain type='test'><memory>1024</memory>" + OS + "</domain>",
    'no-type': "<domain><name>x</name><memory>1024</memory>" + OS + "</domain>",
    'bad-type': "<domain type='bogus'><name>x</name><memory>1024</memory>" + OS + "</domain>",
    'bad-uuid': "<domain type='test'><name>x</name><uuid>zzz</uuid><memory>1024</memory>" + OS + "</domain>",
    'no-os-type': "<domain type='test'><name>x</name><memory>1024</memory></domain>",
    'bad-os-type': "<domain type='test'><name>x</name><memory>1</memory><os><type>bogus</type></os></domain>",
    'bad-arch': "<domain type='test'><name>x</name><memory>1</memory><os><type arch='zz'>hvm</type></os></domain>",
    'bad-on-poweroff': "<domain type='test'><name>x</name><memory>1024</memory>" + OS + "<on_poweroff>bogus</on_poweroff></domain>",
    'bad-on-reboot': "<domain type='test'><name>x</name><memory>1024</memory>" + OS + "<on_reboot>zz</on_reboot></domain>",
    'bad-clock': "<domain type='test'><name>x</name><memory>1024</memory>" + OS + "<clock offset='zz'/></domain>",
    'no-memory': "<domain type='test'><name>x</name>" + OS + "</domain>",
    'bad-memory': "<domain type='test'><name>x</name><memory>abc</memory>" + OS + "</domain>",
    'bad-memory-unit': "<domain type='test'><name>x</name><memory unit='XB'>1024</memory>" + OS + "</domain>",
    'bad-vcpu': "<domain type='test'><name>x</name><memory>1024</memory>" + OS + "<vcpu>abc</vcpu></domain>",
    'graphics-no-type': "<domain type='test'><name>x</name><memory>1024</memory>" + OS + "<devices><graphics/></devices></domain>",
    'graphics-bad-type': "<domain type='test'><name>x</name><memory>1024</memory>" + OS + "<devices><graphics type='zz'/></devices></domain>",
    'disk-bad-device': "<domain type='test'><name>x</name><memory>1024</memory>" + OS + "<devices><disk type='file' device='zz'><target dev='vda'/></disk></devices></domain>",
    'disk-bad-type': "<domain type='test'><name>x</name><memory>1024</memory>" + OS + "<devices><disk type='bogus'><source file='/a'/><target dev='vda'/></disk></devices></domain>",
    'disk-no-target': "<domain type='test'><name>x</name><memory>1024</memory>" + OS + "<devices><disk type='file'><source file='/a'/></disk></devices></domain>",
    'bad-mac': "<domain type='test'><name>x</name><memory>1024</memory>" + OS + "<devices><interface type='network'><mac address='zz'/><source network='default'/></interface></devices></domain>",
}
NET = {
    'net-no-name': "<network><uuid>004b96e1-2d78-c30f-5aa5-f03c87d21e69</uuid></network>",
    'net-malformed': "<network><name>x</name>",
    'net-bad-forward': "<network><name>x</name><forward mode='bogus'/></network>",
    'net-bad-uuid': "<network><name>x</name><uuid>zz</uuid></network>",
    'net-wrong-root': "<domain><name>x</name></domain>",
}
POOL = {
    'pool-no-name': "<pool type='dir'><target><path>/x</path></target></pool>",
    'pool-no-type': "<pool><name>x</name><target><path>/x</path></target></pool>",
    'pool-bad-type': "<pool type='bogus'><name>x</name><target><path>/x</path></target></pool>",
    'pool-malformed': "<pool type='dir'><name>x</name>",
    'pool-no-path': "<pool type='dir'><name>x</name></pool>",
}
VOL = {
    'vol-no-name': "<volume><capacity>1</capacity></volume>",
    'vol-no-capacity': "<volume><name>v</name></volume>",
    'vol-malformed': "<volume><name>v</name>",
    'vol-bad-unit': "<volume><name>v</name><capacity unit='XB'>1</capacity></volume>",
}
IFACE = {
    'iface-no-name': "<interface type='ethernet'><mac address='aa:bb:cc:dd:ee:00'/></interface>",
    'iface-no-type': "<interface name='eth9'/>",
    'iface-bad-type': "<interface type='bogus' name='eth9'/>",
    'iface-malformed': "<interface type='ethernet' name='eth9'>",
}

c = libvirt.open("test:///default")
pool = c.storagePoolLookupByName('default-pool')
out = []
for kind, cases, fn, undo in [
    ('domain', DOM, c.defineXML, lambda o: o.undefine()),
    ('network', NET, c.networkDefineXML, lambda o: o.undefine()),
    ('pool', POOL, c.storagePoolDefineXML, lambda o: o.undefine()),
    ('volume', VOL, lambda x: pool.createXML(x), lambda o: o.delete()),
    ('interface', IFACE, c.interfaceDefineXML, lambda o: o.undefine()),
]:
    for name, xml in cases.items():
        try:
            undo(fn(xml))
            print(f'{name}: unexpectedly accepted', file=sys.stderr)
        except libvirt.libvirtError as e:
            out.append({'case': name, 'kind': kind, 'xml': xml, 'code': e.get_error_code(),
                        'domain': e.get_error_domain(), 'message': e.get_error_message()})
json.dump(out, sys.stdout, indent=1)
print()
