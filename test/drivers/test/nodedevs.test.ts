// Node devices of the test driver, in-process: XML of every device of test:///default and
// testdriver.xml byte for byte (dumps recorded from libvirt 9.0), capability filters, and the
// vHBA create/destroy mock with its events and quirks, as python-libvirt showed them.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DriverEvent } from '../../../src/api/driver.js';
import { TESTDRIVER_XML, call, errOf, open, repoRoot } from './helpers.js';

const FIXTURES = join(repoRoot, 'test/fixtures/xml/nodedev');
const VHBA = `<device><parent>scsi_host1</parent><capability type='scsi_host'><capability type='fc_host'><wwnn>2001001b32a9da4e</wwnn><wwpn>2101001b32a9da4e</wwpn></capability></capability></device>`;

for (const [set, uri] of [['default', 'test:///default'], ['testdriver', `test://${TESTDRIVER_XML}`]] as const) {
  test(`nodedev XML of ${set} matches libvirt 9.0`, async () => {
    const c = await open(uri);
    try {
      const files = readdirSync(join(FIXTURES, set)).sort();
      const names = call(c, 'NODE_LIST_DEVICES', { cap: null, maxnames: 1000, flags: 0 }).names;
      assert.deepEqual(names.map((n) => `nodedev-${n}.xml`).sort(), files);
      for (const f of files) {
        const name = f.slice('nodedev-'.length, -'.xml'.length);
        assert.equal(call(c, 'NODE_DEVICE_GET_XML_DESC', { name, flags: 0 }).xml, readFileSync(join(FIXTURES, set, f), 'utf8'), name);
      }
    } finally {
      c.close();
    }
  });
}

test('capability filters count nested caps; ListAll refuses the ACTIVE flag', async () => {
  const c = await open('test:///default');
  try {
    const all = (flags: number) => call(c, 'CONNECT_LIST_ALL_NODE_DEVICES', { needResults: 1, flags, }).devices.map((d) => d.name).sort();
    assert.deepEqual(all(1 << 9), ['scsi_host1', 'scsi_host11', 'scsi_host2']);
    assert.deepEqual(all(1 << 10), ['scsi_host1', 'scsi_host2']);
    assert.deepEqual(all(1), ['computer']);
    assert.equal(call(c, 'NODE_NUM_OF_DEVICES', { cap: 'fc_host', flags: 0 }).num, 3);
    assert.equal(call(c, 'NODE_NUM_OF_DEVICES', { cap: 'bogus', flags: 0 }).num, 0);
    assert.deepEqual(call(c, 'NODE_DEVICE_LIST_CAPS', { name: 'scsi_host1', maxnames: 10 }).names, ['scsi_host']);
    assert.deepEqual(errOf(() => all(0x80000000)), [8, 12, 'unsupported flags (0x80000000) in function testConnectListAllNodeDevices']);
    assert.deepEqual(errOf(() => all(1 << 22)), [8, 12, 'unsupported flags (0x400000) in function testConnectListAllNodeDevices']);
    assert.deepEqual(errOf(() => call(c, 'NODE_DEVICE_LOOKUP_BY_NAME', { name: 'nosuch' })), [53, 12, "Node device not found: no node device with matching name 'nosuch'"]);
    assert.equal(call(c, 'NODE_DEVICE_GET_PARENT', { name: 'scsi_host11' }).parentName, 'scsi_host1');
    assert.deepEqual(errOf(() => call(c, 'NODE_DEVICE_GET_PARENT', { name: 'computer' })), [1, 12, 'internal error: no parent for this device']);
  } finally {
    c.close();
  }
});

test('vHBA create copies scsi_host11; destroy checks the parent and raises events', async () => {
  const c = await open('test:///default');
  const events: string[] = [];
  c.onEvent((e: DriverEvent) => {
    const p = e.payload as { dev: { name: string }; event: number };
    if (e.family === 'node_device') events.push(`${p.dev.name}:${p.event}`);
  });
  try {
    assert.deepEqual(call(c, 'NODE_DEVICE_CREATE_XML', { xmlDesc: VHBA, flags: 0 }).dev, { name: 'scsi_host12' });
    const xml = call(c, 'NODE_DEVICE_GET_XML_DESC', { name: 'scsi_host12', flags: 0 }).xml;
    assert.match(xml, /<host>11<\/host>\n {4}<unique_id>10<\/unique_id>/);
    assert.match(xml, /<wwnn>2001001b32a9da4e<\/wwnn>\n {6}<wwpn>2101001b32a9da4e<\/wwpn>\n {6}<fabric_wwn>2000000043214321</);
    call(c, 'NODE_DEVICE_DESTROY', { name: 'scsi_host12' });
    call(c, 'NODE_DEVICE_DESTROY', { name: 'computer' }); // not an HBA: "succeeds", stays
    call(c, 'NODE_DEVICE_DESTROY', { name: 'scsi_host1' });
    call(c, 'NODE_DEVICE_DESTROY', { name: 'scsi_host11' }); // parent gone: "succeeds", stays
    assert.deepEqual(call(c, 'NODE_LIST_DEVICES', { cap: null, maxnames: 10, flags: 0 }).names.sort(), ['computer', 'scsi_host11', 'scsi_host2']);
    assert.deepEqual(events, ['scsi_host12:0', 'scsi_host12:1', 'scsi_host1:1']);
    const bad = (xmlDesc: string) => errOf(() => call(c, 'NODE_DEVICE_CREATE_XML', { xmlDesc, flags: 0 }));
    assert.deepEqual(bad(VHBA.replace('scsi_host1<', 'computer<')), [1, 22, 'internal error: Parent device computer is not capable of vport operations']);
    assert.deepEqual(bad(VHBA.replace('<parent>scsi_host1</parent>', "<parent wwnn='1' wwpn='2'/>")), [1, 22, "internal error: Could not find parent device for 'new device'"]);
    assert.deepEqual(bad("<device><capability type='scsi_host'/></device>"), [1, 22, 'internal error: Device is not a fibre channel HBA']);
    assert.deepEqual(bad('<device><parent>x</parent></device>'), [1, 22, "internal error: no device capabilities for 'new device'"]);
  } finally {
    c.close();
  }
});
