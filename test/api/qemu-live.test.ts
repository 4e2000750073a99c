// libvirt-qemu's API through the remote driver against a private real libvirtd's QEMU driver,
// with a running diskless TCG guest: monitor passthrough (QMP and HMP) as virsh prints it, QMP
// event subscriptions, and domain.qmp() seeing STOP after `virsh suspend`. tsvirsh's qemu-*
// commands are compared byte for byte with stock virsh on the same guest.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Connection } from '../../src/api/connection.js';
import type { Domain } from '../../src/api/domain.js';
import { connect } from '../../src/connect.js';
import type { QmpClient } from '../../src/qmp/index.js';
import { libvirtdSkipReason, startLibvirtd, type Libvirtd } from '../harness/libvirtd.js';
import { runVirsh } from '../harness/run.js';
import { tsvirsh } from '../harness/tsvirsh.js';

const NAME = 'tsvirt-qemu-api';
const XML = `<domain type='qemu'>
  <name>${NAME}</name>
  <uuid>5a1b2c3d-0000-4000-8000-00000000a902</uuid>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator><memballoon model='none'/></devices>
</domain>`;

/** libvirt numbers its monitor commands: the only part of a reply that differs run to run. */
const sameIds = (s: string) => s.replace(/"libvirt-\d+"/g, '"libvirt-N"');

describe('QEMU API against libvirtd', { skip: libvirtdSkipReason() }, () => {
  let real: Libvirtd;
  let c: Connection;
  let dom: Domain;
  let uri: string;

  before(async () => {
    real = await startLibvirtd();
    uri = real.uri('qemu');
    c = await connect(uri, { keepalive: false });
    dom = await c.defineDomain(XML);
    await dom.create();
  });

  after(async () => {
    // Kill every guest we started, whatever happened above.
    await dom?.destroy().catch(() => undefined);
    await dom?.undefine().catch(() => undefined);
    await c?.close();
    await real?.stop();
  });

  test('qemuMonitorCommand returns what virsh qemu-monitor-command prints', async () => {
    const cmd = '{"execute":"query-status"}';
    const ours = await dom.qemuMonitorCommand(cmd);
    assert.match(ours, /^\{"return":\{"status":"running","singlestep":false,"running":true\},"id":"libvirt-\d+"\}$/);
    const virsh = await runVirsh(uri, ['qemu-monitor-command', NAME, cmd]);
    assert.equal(virsh.code, 0, virsh.stderr);
    assert.equal(sameIds(virsh.stdout), `${sameIds(ours)}\n\n`);
    assert.equal(await dom.qemuMonitorCommand('info status', { hmp: true }), 'VM status: running\r\n');
  });

  test('tsvirsh qemu-monitor-command prints exactly what virsh prints', async () => {
    const cases = [
      ['qemu-monitor-command', NAME, '--pretty', '{"execute":"query-status"}'],
      ['qemu-monitor-command', NAME, '--return-value', 'query-status'],
      ['qemu-monitor-command', NAME, '--pretty', '--return-value', '{"execute":"query-iothreads"}'],
      ['qemu-monitor-command', NAME, 'qom-get', '"path":"/machine"', '"property":"type"'],
      ['qemu-monitor-command', NAME, '--hmp', 'info', 'status'],
      ['qemu-monitor-command', NAME, '--return-value', '{"execute":"nosuch"}'],
      ['qemu-monitor-command', NAME, '--hmp', '--pretty', 'x'],
      ['qemu-agent-command', NAME, '{"execute":"guest-ping"}'],
      ['qemu-attach', '0'],
      ['qemu-monitor-event', '--regex', '--event', '(', '--timeout', '1'],
    ];
    const stock = await Promise.all(cases.map((args) => runVirsh(uri, args)));
    for (const [i, args] of cases.entries()) {
      const [a, b] = [stock[i]!, await tsvirsh(uri, args)];
      assert.deepEqual([sameIds(b.stdout), b.stderr, b.code], [sameIds(a.stdout), a.stderr, a.code], args.join(' '));
    }
  });

  test('monitor events and domain.qmp() see STOP after virsh suspend', async () => {
    const events = await c.qemuMonitorEvents({ domain: dom, event: 'stop', nocase: true });
    let qmp: QmpClient | null = null;
    try {
      qmp = await dom.qmp({ timeoutMs: 10_000 });
      assert.equal(qmp.version?.qemu.major !== undefined, true);
      assert.deepEqual(await qmp.execute('query-status'), { status: 'running', singlestep: false, running: true });
      const qmpEvents = qmp.events({ names: ['STOP'] });
      const suspended = await runVirsh(uri, ['suspend', NAME]);
      assert.equal(suspended.code, 0, suspended.stderr);
      const ev = await events.next();
      assert.ok(!ev.done);
      assert.equal(ev.value.event, 'STOP');
      assert.equal(ev.value.domain.name, NAME);
      assert.equal(ev.value.details, null);
      assert.ok(ev.value.seconds > 0n);
      const qev = await qmpEvents.next();
      assert.ok(!qev.done);
      assert.equal(qev.value.event, 'STOP');
      assert.equal(qev.value.timestamp.seconds, Number(ev.value.seconds));
      assert.equal((await qmp.execute('query-status')).status, 'paused');
    } finally {
      await events.close();
      await qmp?.close();
      await runVirsh(uri, ['resume', NAME]);
    }
  });
});
