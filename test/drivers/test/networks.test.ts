import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NetworkStore } from '../../../src/drivers/test/networks.js';
import { uuidBytes } from '../../../src/drivers/test/node-common.js';
import { ROOT, call, callFails, loadConfig, realLibvirt, recorder } from './node-helpers.js';

const DEFAULT_UUID = 'dd8fe884-6c02-601e-7551-cca97df1c5df';
const N2 = "<network><name>n2</name><uuid>11111111-2222-3333-4444-555555555555</uuid><bridge name='br9'/></network>";

function fresh() {
  const ev = recorder();
  const m = new NetworkStore(loadConfig().networks, ev.emit).methods();
  return { m, ev };
}

test('the default network dumps byte for byte as virsh net-dumpxml', async () => {
  const { m } = fresh();
  const { net } = await call(m, 'NETWORK_LOOKUP_BY_NAME', { name: 'default' });
  assert.deepEqual(net.uuid, uuidBytes(DEFAULT_UUID));
  const { xml } = await call(m, 'NETWORK_GET_XML_DESC', { net, flags: 0 });
  assert.equal(xml, readFileSync(join(ROOT, 'test/fixtures/xml/default/network-default.xml'), 'utf8'));
  await callFails(m, 'NETWORK_GET_XML_DESC', { net, flags: 1 }, 8, 12, 'unsupported flags (0x1) in function testNetworkGetXMLDesc');
  assert.deepEqual(await call(m, 'NETWORK_GET_BRIDGE_NAME', { net }), { name: 'virbr0' });
});

test('start/stop/undefine follow the test driver, events included', async () => {
  const { m, ev } = fresh();
  const net = (await call(m, 'NETWORK_LOOKUP_BY_NAME', { name: 'default' })).net;
  await callFails(m, 'NETWORK_CREATE', { net }, 55, 12, "Requested operation is not valid: Network 'default' is already running");
  await callFails(m, 'NETWORK_UNDEFINE', { net }, 55, 12, "Requested operation is not valid: Network 'default' is still running");
  await call(m, 'NETWORK_DESTROY', { net });
  // Destroying a stopped network is not refused and raises STOPPED again.
  await call(m, 'NETWORK_DESTROY', { net });
  assert.deepEqual(ev.take(), [
    ['network', 0, 'NETWORK_EVENT_LIFECYCLE', 'default', 3, 0],
    ['network', 0, 'NETWORK_EVENT_LIFECYCLE', 'default', 3, 0],
  ]);
  assert.deepEqual(await call(m, 'CONNECT_LIST_DEFINED_NETWORKS', { maxnames: 10 }), { names: ['default'] });
  assert.deepEqual(await call(m, 'NETWORK_IS_ACTIVE', { net }), { active: 0 });
  await call(m, 'NETWORK_CREATE', { net });
  assert.deepEqual(ev.take(), [['network', 0, 'NETWORK_EVENT_LIFECYCLE', 'default', 2, 0]]);
  await call(m, 'NETWORK_DESTROY', { net });
  await call(m, 'NETWORK_UNDEFINE', { net });
  assert.deepEqual(ev.take().map((r) => r[4]), [3, 1]);
  await callFails(m, 'NETWORK_LOOKUP_BY_NAME', { name: 'default' }, 43, 12, "Network not found: no network with matching name 'default'");
  await callFails(m, 'NETWORK_IS_ACTIVE', { net }, 43, 12, `Network not found: no network with matching uuid '${DEFAULT_UUID}'`);
});

test('list-all filters and autostart', async () => {
  const { m } = fresh();
  const names = async (flags: number) => (await call(m, 'CONNECT_LIST_ALL_NETWORKS', { needResults: 1, flags })).nets.map((n) => n.name);
  await call(m, 'NETWORK_DEFINE_XML', { xml: N2 });
  await call(m, 'NETWORK_CREATE_XML', { xml: '<network><name>n4</name></network>' });
  const n4 = (await call(m, 'NETWORK_LOOKUP_BY_NAME', { name: 'n4' })).net;
  await call(m, 'NETWORK_SET_AUTOSTART', { net: n4, autostart: 1 });
  assert.deepEqual(await names(0), ['default', 'n2', 'n4']);
  assert.deepEqual(await names(1), ['n2']);
  assert.deepEqual(await names(2), ['default', 'n4']);
  assert.deepEqual(await names(4), ['default', 'n2']);
  assert.deepEqual(await names(8), ['n4']);
  assert.deepEqual(await names(16), ['n4']);
  assert.deepEqual(await names(32), ['default', 'n2']);
  assert.deepEqual(await call(m, 'CONNECT_LIST_ALL_NETWORKS', { needResults: 0, flags: 0 }), { nets: [], ret: 3 });
  await callFails(m, 'CONNECT_LIST_ALL_NETWORKS', { needResults: 1, flags: 64 }, 8, 12, 'unsupported flags (0x40) in function testConnectListAllNetworks');
  assert.deepEqual(await call(m, 'CONNECT_LIST_NETWORKS', { maxnames: 1 }), { names: ['default'] });
  await callFails(m, 'NETWORK_GET_BRIDGE_NAME', { net: n4 }, 1, 12, "internal error: network 'n4' does not have a bridge name.");
  // A transient network disappears when stopped.
  await call(m, 'NETWORK_DESTROY', { net: n4 });
  assert.deepEqual(await names(0), ['default', 'n2']);
});

test('matches real libvirt for define/create duplicates and parse errors', async () => {
  const script = `
c = libvirt.open("test:///default")
out = []
def t(f):
    try:
        r = f()
        out.append(["ok", r if isinstance(r, (int, str)) else r.name()])
    except libvirt.libvirtError as e:
        out.append([e.get_error_code(), e.get_error_domain(), e.get_error_message()])
x2 = ${JSON.stringify(N2)}
t(lambda: c.networkDefineXML(x2))
t(lambda: c.networkDefineXML(x2.replace("1111111", "2222222")))
t(lambda: c.networkDefineXML(x2.replace("n2", "n3")))
t(lambda: c.networkCreateXML(x2))
t(lambda: c.networkCreateXML(x2))
t(lambda: c.networkLookupByName("n2").XMLDesc(0))
t(lambda: c.networkDefineXMLFlags(x2, 2))
t(lambda: c.networkCreateXMLFlags(x2, 1))
t(lambda: c.networkDefineXML("<network/>"))
t(lambda: c.networkDefineXML("<domain/>"))
t(lambda: c.networkDefineXML("<network><name>x</name><forward mode='bogus'/></network>"))
t(lambda: c.numOfNetworks())
t(lambda: c.numOfDefinedNetworks())
print(json.dumps(out))
`;
  const real = realLibvirt(script);
  const { m } = fresh();
  const ours: unknown[] = [];
  const t = async (f: () => Promise<unknown>) => {
    try {
      const r = await f();
      ours.push(['ok', r]);
    } catch (e) {
      const v = e as { code: number; domain: number; message: string };
      ours.push([v.code, v.domain, v.message]);
    }
  };
  const name = async (p: Promise<{ net: { name: string } }>) => (await p).net.name;
  await t(() => name(call(m, 'NETWORK_DEFINE_XML', { xml: N2 })));
  await t(() => name(call(m, 'NETWORK_DEFINE_XML', { xml: N2.replace('1111111', '2222222') })));
  await t(() => name(call(m, 'NETWORK_DEFINE_XML', { xml: N2.replace('n2', 'n3') })));
  await t(() => name(call(m, 'NETWORK_CREATE_XML', { xml: N2 })));
  await t(() => name(call(m, 'NETWORK_CREATE_XML', { xml: N2 })));
  await t(async () => (await call(m, 'NETWORK_GET_XML_DESC', { net: (await call(m, 'NETWORK_LOOKUP_BY_NAME', { name: 'n2' })).net, flags: 0 })).xml);
  await t(() => name(call(m, 'NETWORK_DEFINE_XML_FLAGS', { xml: N2, flags: 2 })));
  await t(() => name(call(m, 'NETWORK_CREATE_XML_FLAGS', { xml: N2, flags: 1 })));
  await t(() => name(call(m, 'NETWORK_DEFINE_XML', { xml: '<network/>' })));
  await t(() => name(call(m, 'NETWORK_DEFINE_XML', { xml: '<domain/>' })));
  await t(() => name(call(m, 'NETWORK_DEFINE_XML', { xml: "<network><name>x</name><forward mode='bogus'/></network>" })));
  await t(async () => (await call(m, 'CONNECT_NUM_OF_NETWORKS', undefined)).num);
  await t(async () => (await call(m, 'CONNECT_NUM_OF_DEFINED_NETWORKS', undefined)).num);
  assert.deepEqual(ours, real);
});
