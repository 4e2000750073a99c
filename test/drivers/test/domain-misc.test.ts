// Guest-agent fakes, metadata and rename of the test driver, in-process, against values
// recorded from libvirt 9.0's test:///default (python-libvirt).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call, errOf, open } from './helpers.js';

const DOM = { name: 'test', uuid: new Uint8Array(Buffer.from('6695eb01f6a4830479aa97f2502e193f', 'hex')), id: 1 };

test('guest time drives the fake control state', async () => {
  const c = await open('test:///default');
  try {
    assert.deepEqual(call(c, 'DOMAIN_GET_TIME', { dom: DOM, flags: 0 }), { seconds: 627319920n, nseconds: 0 });
    call(c, 'DOMAIN_SET_TIME', { dom: DOM, seconds: 12345n, nseconds: 7, flags: 0 });
    assert.deepEqual(call(c, 'DOMAIN_GET_CONTROL_INFO', { dom: DOM, flags: 0 }), { state: 2, details: 0, stateTime: 2345n });
    call(c, 'DOMAIN_SET_TIME', { dom: DOM, seconds: 40002n, nseconds: 0, flags: 0 });
    assert.deepEqual(call(c, 'DOMAIN_GET_CONTROL_INFO', { dom: DOM, flags: 0 }), { state: 3, details: 2, stateTime: 10002n });
  } finally {
    c.close();
  }
});

test('fs freeze/thaw count changed mount points; unknown ones fail', async () => {
  const c = await open('test:///default');
  try {
    assert.equal(call(c, 'DOMAIN_FSTHAW', { dom: DOM, mountpoints: ['/boot'], flags: 0 }).filesystems, 0);
    assert.equal(call(c, 'DOMAIN_FSFREEZE', { dom: DOM, mountpoints: ['/boot', '/'], flags: 0 }).filesystems, 2);
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_FSFREEZE', { dom: DOM, mountpoints: ['/x'], flags: 0 })), [55, 12, 'Requested operation is not valid: mount point not found: /x']);
    assert.equal(call(c, 'DOMAIN_FSTHAW', { dom: DOM, mountpoints: [], flags: 0 }).filesystems, 2);
  } finally {
    c.close();
  }
});

test('memory peek, process signals, per-CPU stats', async () => {
  const c = await open('test:///default');
  try {
    assert.deepEqual([...call(c, 'DOMAIN_MEMORY_PEEK', { dom: DOM, offset: 250n, size: 10, flags: 1 }).buffer], [250, 251, 252, 253, 254, 255, 0, 1, 2, 3]);
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_MEMORY_PEEK', { dom: DOM, offset: 0n, size: 4, flags: 0 })), [8, 12, 'invalid argument: flags parameter must be VIR_MEMORY_VIRTUAL or VIR_MEMORY_PHYSICAL']);
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_SEND_PROCESS_SIGNAL', { dom: DOM, pidValue: 1n, signum: 100, flags: 0 })), [8, 12, 'invalid argument: signum value 100 is out of range']);
    const per = call(c, 'DOMAIN_GET_CPU_STATS', { dom: DOM, nparams: 2, startCpu: 0, ncpus: 2, flags: 0 });
    assert.deepEqual(per.params.map((p) => (p.value.type === 4 ? p.value.ul : null)), [24386308517n, 23151740627n, 24386308518n, 23151740628n]);
  } finally {
    c.close();
  }
});

test('metadata and rename follow virDomainObjSetMetadata and virDomainObjListRename', async () => {
  const c = await open('test:///default');
  try {
    const events: string[] = [];
    c.onEvent((e) => {
      const p = e.payload as { type?: number; msg?: { event: number; detail: number } };
      events.push(p.msg ? `${e.eventID}:${p.msg.event}/${p.msg.detail}` : `${e.eventID}:type ${p.type}`);
    });
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_GET_METADATA', { dom: DOM, type: 0, uri: null, flags: 0 })), [80, 20, 'metadata not found: Requested metadata element is not present']);
    call(c, 'DOMAIN_SET_METADATA', { dom: DOM, type: 2, metadata: '<foo a="1"><bar/></foo>', key: 'k', uri: 'http://x/', flags: 0 });
    assert.equal(call(c, 'DOMAIN_GET_METADATA', { dom: DOM, type: 2, uri: 'http://x/', flags: 0 }).metadata, '<foo a="1">\n  <bar/>\n</foo>');
    assert.deepEqual(errOf(() => call(c, 'DOMAIN_RENAME', { dom: DOM, newName: 'zz', flags: 0 })), [55, 12, 'Requested operation is not valid: cannot rename active domain']);
    call(c, 'DOMAIN_DESTROY', { dom: DOM });
    call(c, 'DOMAIN_RENAME', { dom: DOM, newName: 'zz', flags: 0 });
    assert.equal(call(c, 'DOMAIN_LOOKUP_BY_NAME', { name: 'zz' }).dom.id, -1);
    // metadata change, destroyed, then undefined/renamed and defined/renamed
    assert.deepEqual(events, ['23:type 2', '0:5/1', '0:1/1', '0:0/2']);
  } finally {
    c.close();
  }
});
