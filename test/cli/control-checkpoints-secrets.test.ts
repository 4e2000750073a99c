// A third batch of tsvirsh commands against stock virsh 9.0, byte for byte (stdout, stderr, exit
// code), in process on test:///default: snapshot and checkpoint parents, checkpoints, interface
// link state and addresses, CPU statistics, power management, keys, lifecycle actions, metadata,
// secrets (which the test driver refuses), storage, and the object event commands (timeouts).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { haveVirsh, runTool, shown, tsvirshLine } from '../harness/tsvirsh.js';

const dir = mkdtempSync(join(tmpdir(), 'tsvirsh-more3-'));
const VOL = join(dir, 'vol.xml');
writeFileSync(VOL, '<volume><name>cl</name><capacity>1000</capacity></volume>\n');
const SECRET = join(dir, 'secret.xml');
writeFileSync(SECRET, "<secret ephemeral='no' private='no'><usage type='volume'><volume>/x</volume></usage></secret>\n");
const UUID = '0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f';

const DOMAIN = [
  'snapshot-create-as test s1', 'snapshot-create-as test s2', 'snapshot-parent test s2', 'snapshot-parent test s1', 'snapshot-parent test --current',
  'snapshot-parent test nosuch', 'snapshot-parent test', 'snapshot-parent nosuch s1',
  'domif-getlink test testnet0', 'domif-getlink test aa:bb:cc:dd:ee:ff', 'domif-getlink test AA:BB:CC:DD:EE:FF', 'domif-getlink test vnet0',
  'domif-getlink test aa:bb:cc:dd:ee:00 --config', 'domif-getlink nosuch x',
  'domif-setlink test testnet0 down', 'domif-setlink test vnet0 down', 'domif-setlink test testnet0 sideways', 'domif-setlink test aa:bb:cc:dd:ee:ff up --config',
  'domifaddr test', 'domifaddr test --source arp', 'domifaddr test --source agent --full', 'domifaddr test --interface testnet0', 'domifaddr test --interface nosuch',
  'domifaddr test --source foo', 'domifaddr nosuch',
  'cpu-stats test', 'cpu-stats test --total', 'cpu-stats test --start 1', 'cpu-stats test --start 1 --count 1', 'cpu-stats test --count 0', 'cpu-stats test --count 5',
  'cpu-stats test --count -1', 'cpu-stats test --start -1', 'cpu-stats test --start 5', 'cpu-stats test --start 1 --total', 'cpu-stats nosuch',
  'nodecpumap', 'nodecpumap --pretty', 'domjobabort test', 'domjobabort test --postcopy', 'domjobabort nosuch',
  'metadata test http://x.org/', 'metadata test http://x.org/ --set "<a/>"', 'metadata test http://x.org/ --key x --set "<a><b/></a>"', 'metadata test http://x.org/',
  'metadata test http://x.org/ --key x --set "<c/>" --config', 'metadata test http://x.org/ --config', 'metadata test http://x.org/ --remove', 'metadata test http://x.org/',
  'metadata test http://x.org/ --key x --remove --set x', 'metadata test http://x.org/ --edit --set x', 'metadata test http://x.org/ --current --live', 'metadata nosuch u',
  'dompmsuspend test mem', 'dompmsuspend test disk --duration 5', 'dompmsuspend test foo', 'dompmsuspend test mem --duration -1', 'dompmwakeup test', 'dompmwakeup nosuch',
  'inject-nmi test', 'inject-nmi nosuch', 'send-key test KEY_A', 'send-key test 30 KEY_B 0x1e 010', 'send-key test --codeset xt 1', 'send-key test --codeset rfb 1',
  'send-key test --codeset foo 1', 'send-key test FOO', 'send-key test key_esc', 'send-key test 0x10000', 'send-key test --holdtime -1 1', 'send-key test --holdtime 50 1',
  'send-key test 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17', 'send-key test -- -1', 'send-key nosuch 1',
  'domblkerror test', 'domblkerror nosuch', 'domcontrol test', 'domcontrol nosuch',
  'set-lifecycle-action test poweroff restart', 'set-lifecycle-action test crash coredump-restart --config', 'set-lifecycle-action test reboot rename-restart --live',
  'set-lifecycle-action test foo restart', 'set-lifecycle-action test reboot foo', 'set-lifecycle-action test on_poweroff destroy', 'set-lifecycle-action test poweroff destroy --current --config',
  'blockresize test vda 1G', 'blockresize test vda 10', 'blockresize test vda x', 'blockresize nosuch vda 1',
  'send-key test 65535', 'domif-setlink test testnet0 down --print-xml', 'metadata test http://x.org/ --key x --set "<a/>" --live',
  'destroy test', 'inject-nmi test', 'send-key test KEY_A', 'domifaddr test', 'cpu-stats test', 'cpu-stats test --total', 'domcontrol test', 'domblkerror test', 'domif-setlink test testnet0 down',
  'domif-setlink test testnet0 up --print-xml', 'set-lifecycle-action test poweroff destroy', 'set-lifecycle-action test poweroff destroy --live',
];

const OBJECTS = [
  'checkpoint-list test', 'checkpoint-info test', 'checkpoint-parent test', 'checkpoint-info test nosuch', 'checkpoint-dumpxml test nosuch',
  'checkpoint-create-as test --print-xml --name a --description "x<y" --diskspec vda,checkpoint=bitmap,bitmap=b1 --diskspec vdb',
  'checkpoint-create-as test --diskspec vda,foo=bar', 'checkpoint-create-as test c1 --quiesce', 'checkpoint-create-as test c1', 'checkpoint-create-as test c2 desc',
  'checkpoint-create-as test c3 --diskspec vda,checkpoint=no', 'checkpoint-create-as nosuch',
  'checkpoint-list test --roots --parent', 'checkpoint-list test --tree --name', 'checkpoint-list test --roots --tree', 'checkpoint-list test --from c1',
  'checkpoint-list test --from c1 --descendants --name', 'checkpoint-list test --leaves --name', 'checkpoint-list test --no-leaves', 'checkpoint-list test --topological --name',
  'checkpoint-list test --tree', 'checkpoint-list test --tree --from c1', 'checkpoint-list test --parent --name', 'checkpoint-list test --from nosuch',
  'checkpoint-info test c1', 'checkpoint-info test c3', 'checkpoint-parent test c3', 'checkpoint-parent test c1',
  'checkpoint-dumpxml test c3 --no-domain', 'checkpoint-dumpxml test c3 --size --no-domain', 'checkpoint-dumpxml test c1', 'checkpoint-dumpxml test',
  'checkpoint-delete test c2 --children-only', 'checkpoint-list test --name', 'checkpoint-delete test c1 --children', 'checkpoint-delete test c1', 'checkpoint-delete test',
  'checkpoint-create-as test c4', 'checkpoint-delete test c4 --metadata', 'checkpoint-list test',
  'secret-list', 'secret-list --ephemeral', 'secret-list --no-private', `secret-define ${SECRET}`, 'secret-define /nonexistent',
  `secret-dumpxml ${UUID}`, 'secret-dumpxml foo', 'secret-undefine foo', `secret-undefine ${UUID}`, 'secret-set-value foo --base64 aGk=',
  `secret-set-value ${UUID} --base64 aGk=`, 'secret-set-value foo', 'secret-set-value x --file /etc/hostname --base64 aGk=', 'secret-get-value foo', `secret-get-value ${UUID} --plain`,
  'pool-capabilities', `vol-create-from default-pool ${VOL} nosuch`, 'vol-create-from default-pool /nonexistent x', `vol-create-from nosuch ${VOL} x`,
  'vol-create-as default-pool src 1M', `vol-create-from default-pool ${VOL} src`, `vol-create-from default-pool ${VOL} src --inputpool default-pool --prealloc-metadata`,
  `vol-create-from default-pool ${VOL} src --inputpool nosuch`, `vol-create-from default-pool ${VOL} src --inputpool default-pool`, 'vol-list default-pool',
  `vol-create-from default-pool /nonexistent src --inputpool default-pool`,
];

const EVENTS = [
  'net-event --list', 'pool-event --list', 'nodedev-event --list', 'secret-event --list', 'net-event', 'pool-event --event foo', 'nodedev-event', 'secret-event --event x',
  'net-event --event lifecycle --timeout 0', 'net-event --event lifecycle --timeout x', 'net-event --list --event foo', 'nodedev-event --event lifecycle --timeout 1 --device nosuch',
];

/** Waits of one second each: run together, they cost one second. */
const EVENT_WAITS = [
  'net-event --event lifecycle --timeout 1', 'net-event --event lifecycle --timeout 1 --timestamp --loop --network default', 'net-event --event lifecycle --timeout 1 --network nosuch',
  'pool-event --event refresh --timeout 1 --pool default-pool', 'pool-event --event lifecycle --timeout 1 --pool nosuch', 'nodedev-event --event update --timeout 1 --device computer',
  'nodedev-event --event lifecycle --timeout 1 --loop',
];

/** Checkpoints carry the clock's time of creation: virsh's run and ours may straddle a second. */
const clockless = (t: string) => t.replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}/g, '<time>').replace(/<creationTime>\d+<\/creationTime>/g, '<creationTime/>');

async function compare(line: string): Promise<void> {
  const want = await runTool('virsh', ['-c', 'test:///default', line]);
  const got = await tsvirshLine('test:///default', line);
  assert.equal(clockless(shown(got)), clockless(shown(want)), line);
}

after(() => rmSync(dir, { recursive: true, force: true }));

describe('domain control, checkpoints, secrets and object events vs virsh on test:///default', { skip: !haveVirsh && 'virsh not installed' }, () => {
  test('each domain command on its own', async () => {
    for (const line of DOMAIN) await compare(line);
  });
  test('domain commands as one command string (state carries over)', async () => {
    await compare(DOMAIN.join(' ; '));
  });
  test('checkpoints, secrets, storage', async () => {
    for (const line of OBJECTS) await compare(line);
    await compare(OBJECTS.join(' ; '));
  });
  test('event commands', async () => {
    for (const line of EVENTS) await compare(line);
    await Promise.all(EVENT_WAITS.map((l) => compare(l)));
  });
});
