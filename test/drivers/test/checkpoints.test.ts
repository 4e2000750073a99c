// Checkpoints and network updates of the test driver, in-process, against what python-libvirt
// showed for the same sequences on libvirt 9.0's test:///default.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call, errOf, open } from './helpers.js';

const DOM = { name: 'test', uuid: new Uint8Array(Buffer.from('6695eb01f6a4830479aa97f2502e193f', 'hex')), id: 1 };
const NET = { name: 'default', uuid: new Uint8Array(Buffer.from('dd8fe8846c02601e7551cca97df1c5df', 'hex')) };
const chk = (name: string) => ({ name, dom: DOM });

test('checkpoints chain under the current one; snapshots and checkpoints exclude each other', async () => {
  const c = await open('test:///default');
  try {
    const create = (xmlDesc: string) => call(c, 'DOMAIN_CHECKPOINT_CREATE_XML', { dom: DOM, xmlDesc, flags: 0 }).checkpoint.name;
    assert.equal(create('<domaincheckpoint><name>c1</name><description>d</description></domaincheckpoint>'), 'c1');
    assert.deepEqual(errOf(() => create('<domaincheckpoint><name>c1</name></domaincheckpoint>')), [9, 20, 'operation failed: domain moment c1 already exists']);
    create("<domaincheckpoint><name>c2</name><disks><disk name='vda' checkpoint='no'/></disks></domaincheckpoint>");
    assert.deepEqual(errOf(() => create("<domaincheckpoint><name>c3</name><disks><disk name='vdz'/></disks></domaincheckpoint>")), [67, 69, "unsupported configuration: no disk named 'vdz'"]);
    const xml = call(c, 'DOMAIN_CHECKPOINT_GET_XML_DESC', { checkpoint: chk('c2'), flags: 2 }).xml;
    assert.match(xml, /^<domaincheckpoint>\n {2}<name>c2<\/name>\n {2}<parent>\n {4}<name>c1<\/name>\n {2}<\/parent>\n {2}<creationTime>\d+<\/creationTime>\n {2}<disks>\n {4}<disk name='vda' checkpoint='no'\/>\n {2}<\/disks>\n<\/domaincheckpoint>\n$/);
    assert.equal(call(c, 'DOMAIN_CHECKPOINT_GET_PARENT', { checkpoint: chk('c2'), flags: 0 }).parent.name, 'c1');
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_CHECKPOINT_GET_PARENT', { checkpoint: chk('c1'), flags: 0 })), [103, 12, "Domain checkpoint not found: checkpoint 'c1' does not have a parent"]);
    assert.deepEqual(call(c, 'DOMAIN_LIST_ALL_CHECKPOINTS', { dom: DOM, needResults: 1, flags: 2 }).checkpoints.map((x) => x.name), ['c1', 'c2']);
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_SNAPSHOT_CREATE_XML', { dom: DOM, xmlDesc: '<domainsnapshot/>', flags: 0 })), [84, 12, 'Operation not supported: cannot create snapshot while checkpoint exists']);
    call(c, 'DOMAIN_CHECKPOINT_DELETE', { checkpoint: chk('c1'), flags: 0 });
    assert.deepEqual(call(c, 'DOMAIN_LIST_ALL_CHECKPOINTS', { dom: DOM, needResults: 1, flags: 1 }).checkpoints.map((x) => x.name), ['c2']);
    call(c, 'DOMAIN_DESTROY', { dom: DOM });
    assert.deepEqual(errOf(() => create('<domaincheckpoint/>')), [84, 12, 'Operation not supported: cannot create checkpoint for inactive domain']);
  } finally {
    c.close();
  }
});

test('network update edits dhcp hosts, ranges and portgroups of the chosen definitions', async () => {
  const c = await open('test:///default');
  try {
    const upd = (command: number, section: number, xml: string, flags = 0) =>
      call(c, 'NETWORK_UPDATE', { net: NET, command, section, parentIndex: -1, xml, flags });
    upd(3, 4, "<host mac='00:11:22:33:44:55' name='x' ip='192.168.122.9'/>");
    assert.deepEqual(errOf(() => upd(3, 4, "<host mac='00:11:22:33:44:56' name='x' ip='192.168.122.8'/>")), [
      55, 19, `Requested operation is not valid: there is an existing dhcp host entry in network 'default' that matches "<host mac='00:11:22:33:44:56' name='x' ip='192.168.122.8'/>"`,
    ]);
    upd(4, 5, "<range start='192.168.122.100' end='192.168.122.120'/>");
    assert.deepEqual(errOf(() => upd(1, 5, "<range start='192.168.122.100' end='192.168.122.120'/>")), [84, 19, 'Operation not supported: dhcp ranges cannot be modified, only added or deleted']);
    upd(3, 9, "<portgroup name='pg'/>");
    assert.deepEqual(errOf(() => upd(3, 1, "<bridge name='x'/>")), [84, 19, "Operation not supported: can't update 'bridge' section of network 'default'"]);
    assert.deepEqual(errOf(() => upd(3, 9, "<portgroup name='q'/>", 8)), [8, 12, 'unsupported flags (0x8) in function testNetworkUpdate']);
    const xml = call(c, 'NETWORK_GET_XML_DESC', { net: NET, flags: 0 }).xml;
    assert.match(xml, /<dhcp>\n {6}<range start='192.168.122.100' end='192.168.122.120'\/>\n {6}<range start='192.168.122.2' end='192.168.122.254'\/>\n {6}<host mac='00:11:22:33:44:55' name='x' ip='192.168.122.9'\/>\n/);
    assert.match(xml, /<portgroup name='pg'>\n {2}<\/portgroup>\n<\/network>\n$/);
    call(c, 'NETWORK_DESTROY', { net: NET });
    assert.deepEqual(errOf(() => upd(3, 9, "<portgroup name='r'/>", 1)), [55, 19, 'Requested operation is not valid: network is not running']);
  } finally {
    c.close();
  }
});
