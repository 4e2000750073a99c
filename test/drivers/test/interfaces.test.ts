import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InterfaceStore } from '../../../src/drivers/test/interfaces.js';
import { ROOT, call, callFails, loadConfig, realLibvirt } from './node-helpers.js';

const fresh = () => new InterfaceStore(loadConfig().interfaces, () => undefined).methods();
const ETH2 = "<interface type='ethernet' name='eth2'><mac address='aa:bb:cc:dd:ee:ff'/></interface>";

test('eth1 dumps like virsh iface-dumpxml and is found by MAC in any case', async () => {
  const m = fresh();
  const { iface } = await call(m, 'INTERFACE_LOOKUP_BY_NAME', { name: 'eth1' });
  assert.deepEqual(iface, { name: 'eth1', mac: 'aa:bb:cc:dd:ee:ff' });
  assert.equal((await call(m, 'INTERFACE_GET_XML_DESC', { iface, flags: 0 })).xml,
    readFileSync(join(ROOT, 'test/fixtures/xml/default/interface-eth1.xml'), 'utf8'));
  assert.deepEqual((await call(m, 'INTERFACE_LOOKUP_BY_MAC_STRING', { mac: 'AA:BB:CC:DD:EE:FF' })).iface, { name: 'eth1', mac: 'AA:BB:CC:DD:EE:FF' });
  await callFails(m, 'INTERFACE_LOOKUP_BY_MAC_STRING', { mac: '00:00:00:00:00:01' }, 57, 12, "Interface not found: no interface with matching mac '00:00:00:00:00:01'");
  await call(m, 'INTERFACE_DEFINE_XML', { xml: ETH2, flags: 0 });
  await callFails(m, 'INTERFACE_LOOKUP_BY_MAC_STRING', { mac: 'aa:bb:cc:dd:ee:ff' }, 59, 12, 'multiple matching interfaces found');
});

test('start/stop, transactions and lists behave as in real libvirt', async () => {
  const real = realLibvirt(`
c = libvirt.open("test:///default")
out = []
def t(f):
    try:
        r = f()
        out.append(["ok", r if isinstance(r, (int, str, list)) else [r.name(), r.MACString()]])
    except libvirt.libvirtError as e:
        out.append([e.get_error_code(), e.get_error_domain(), e.get_error_message()])
i = c.interfaceLookupByName("eth1")
t(lambda: i.create(0))
t(lambda: i.destroy(0))
t(lambda: i.destroy(0))
t(lambda: i.destroy(1))
t(lambda: [x.name() for x in c.listAllInterfaces(1)])
t(lambda: c.listAllInterfaces(4))
t(lambda: i.create(0))
t(lambda: c.interfaceDefineXML(${JSON.stringify(ETH2)}, 0))
t(lambda: c.interfaceDefineXML("<interface type='ethernet' name='eth2'><mac address='11:22:33:44:55:66'/></interface>", 1))
t(lambda: c.interfaceDefineXML(${JSON.stringify(ETH2)}, 2))
t(lambda: c.interfaceLookupByName("eth2").isActive())
t(lambda: c.interfaceDefineXML("<interface type='bridge' name='br0'><bridge><interface type='ethernet' name='eth0'/></bridge></interface>", 0))
t(lambda: c.interfaceLookupByName("br0").XMLDesc(0))
t(lambda: c.interfaceDefineXML("<interface type='foo' name='x'/>", 0))
t(lambda: c.interfaceDefineXML("<interface type='ethernet'/>", 0))
t(lambda: c.changeBegin(0))
t(lambda: c.changeBegin(0))
t(lambda: c.interfaceLookupByName("eth2").undefine())
t(lambda: c.interfaceLookupByName("eth2"))
t(lambda: c.changeRollback(0))
t(lambda: [c.listInterfaces(), sorted(c.listDefinedInterfaces()), c.numOfInterfaces(), c.numOfDefinedInterfaces()])
t(lambda: c.changeCommit(0))
t(lambda: c.changeBegin(1))
t(lambda: c.interfaceLookupByName("eth1").undefine())
t(lambda: c.interfaceLookupByName("eth1"))
print(json.dumps(out))
`);
  const m = fresh();
  const ours: unknown[] = [];
  const t = async (f: () => Promise<unknown>) => {
    try {
      const r = await f();
      ours.push(['ok', r === undefined ? 0 : r]);
    } catch (e) {
      const v = e as { code: number; domain: number; message: string };
      ours.push([v.code, v.domain, v.message]);
    }
  };
  const look = async (name: string) => (await call(m, 'INTERFACE_LOOKUP_BY_NAME', { name })).iface;
  const h = (r: { iface: { name: string; mac: string } }) => [r.iface.name, r.iface.mac];
  const iface = await look('eth1');
  await t(() => call(m, 'INTERFACE_CREATE', { iface, flags: 0 }));
  await t(() => call(m, 'INTERFACE_DESTROY', { iface, flags: 0 }));
  await t(() => call(m, 'INTERFACE_DESTROY', { iface, flags: 0 }));
  await t(() => call(m, 'INTERFACE_DESTROY', { iface, flags: 1 }));
  await t(async () => (await call(m, 'CONNECT_LIST_ALL_INTERFACES', { needResults: 1, flags: 1 })).ifaces.map((i) => i.name));
  await t(() => call(m, 'CONNECT_LIST_ALL_INTERFACES', { needResults: 1, flags: 4 }));
  await t(() => call(m, 'INTERFACE_CREATE', { iface, flags: 0 }));
  await t(async () => h(await call(m, 'INTERFACE_DEFINE_XML', { xml: ETH2, flags: 0 })));
  await t(async () => h(await call(m, 'INTERFACE_DEFINE_XML', { xml: "<interface type='ethernet' name='eth2'><mac address='11:22:33:44:55:66'/></interface>", flags: 1 })));
  await t(async () => h(await call(m, 'INTERFACE_DEFINE_XML', { xml: ETH2, flags: 2 })));
  await t(async () => (await call(m, 'INTERFACE_IS_ACTIVE', { iface: await look('eth2') })).active);
  await t(async () => h(await call(m, 'INTERFACE_DEFINE_XML', { xml: "<interface type='bridge' name='br0'><bridge><interface type='ethernet' name='eth0'/></bridge></interface>", flags: 0 })));
  await t(async () => (await call(m, 'INTERFACE_GET_XML_DESC', { iface: await look('br0'), flags: 0 })).xml);
  await t(async () => h(await call(m, 'INTERFACE_DEFINE_XML', { xml: "<interface type='foo' name='x'/>", flags: 0 })));
  await t(async () => h(await call(m, 'INTERFACE_DEFINE_XML', { xml: "<interface type='ethernet'/>", flags: 0 })));
  await t(() => call(m, 'INTERFACE_CHANGE_BEGIN', { flags: 0 }));
  await t(() => call(m, 'INTERFACE_CHANGE_BEGIN', { flags: 0 }));
  await t(async () => call(m, 'INTERFACE_UNDEFINE', { iface: await look('eth2') }));
  await t(async () => [(await look('eth2')).name, (await look('eth2')).mac]);
  await t(() => call(m, 'INTERFACE_CHANGE_ROLLBACK', { flags: 0 }));
  await t(async () => [
    (await call(m, 'CONNECT_LIST_INTERFACES', { maxnames: 10 })).names,
    (await call(m, 'CONNECT_LIST_DEFINED_INTERFACES', { maxnames: 10 })).names.sort(),
    (await call(m, 'CONNECT_NUM_OF_INTERFACES', undefined)).num,
    (await call(m, 'CONNECT_NUM_OF_DEFINED_INTERFACES', undefined)).num,
  ]);
  await t(() => call(m, 'INTERFACE_CHANGE_COMMIT', { flags: 0 }));
  await t(() => call(m, 'INTERFACE_CHANGE_BEGIN', { flags: 1 }));
  await t(async () => call(m, 'INTERFACE_UNDEFINE', { iface: await look('eth1') }));
  await t(async () => (await look('eth1')).name);
  assert.deepEqual(ours, real);
});
