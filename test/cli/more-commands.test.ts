// More tsvirsh commands against stock virsh, byte for byte (stdout, stderr, exit code): host
// statistics and capabilities, domain monitoring, tuning queries, host devices, network updates
// and interface lifecycle — in process on test:///default, and a daemon pass (virsh on a private
// libvirtd, tsvirsh on tsvirtd) for a subset, one command string per run.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { libvirtdSkipReason, startLibvirtd, type Libvirtd } from '../harness/libvirtd.js';
import { startTsvirtd } from '../harness/tsvirtd.js';
import { haveVirsh, runTool, shown, tsvirshLine } from '../harness/tsvirsh.js';

const dir = mkdtempSync(join(tmpdir(), 'tsvirsh-more-'));
const IFACE = join(dir, 'iface.xml');
writeFileSync(IFACE, `<interface type='ethernet' name='eth9'><start mode='onboot'/><mac address='aa:bb:cc:dd:ee:09'/></interface>\n`);
const HOSTXML = join(dir, 'host.xml');
writeFileSync(HOSTXML, `<host mac='52:54:00:00:00:97' ip='192.168.122.97'/>\n`);
const SHOT = join(dir, 'shot.png');

const HOST = [
  'freecell', 'freecell --all', 'freecell --cellno 0', 'freecell --cellno 1', 'freecell --cellno 5', 'freecell --all --cellno 0', 'freecell --cellno x',
  'nodememstats', 'nodememstats --cell 0', 'nodecpustats', 'nodecpustats --cpu 0', 'nodecpustats --cpu x', 'maxvcpus', 'maxvcpus --type test',
  "maxvcpus --type ''", 'domcapabilities', "domcapabilities --arch ''", 'sysinfo', 'cpu-models x86_64', 'cpu-models foo',
];

const MONITOR = [
  'domblkinfo test vda', 'domblkinfo test vda --human', 'domblkinfo test --all', 'domblkinfo test --all --human', 'domblkinfo test',
  'domblkinfo test nosuch', 'domblkinfo test vda --all', 'domblkinfo nosuch vda',
  'domstats', 'domstats --raw', 'domstats test', 'domstats test test', 'domstats test nosuch', 'domstats --list-inactive', 'domstats --list-active --list-running',
  'domstats --state --cpu-total --balloon --vcpu --interface --block --perf --iothread --memory --dirtyrate --vm', 'domstats --enforce --perf',
  'domstats --backing --block', 'domstats --nowait',
  'domtime test', 'domtime test --pretty', 'domtime test --now', 'domtime test --sync', 'domtime test --time 5', 'domtime test --time 5 --now',
  'domtime test --time x', 'domtime nosuch', 'domhostname test', 'domhostname test --source x', 'domhostname test --source agent', 'domhostname test --source lease',
  'domfsinfo test', 'desc test', 'desc test --title', 'desc test --title --new-desc "hello world"', 'desc test --title', 'desc test --new-desc "a  b" c',
  'desc test', 'desc test --live --config', 'desc test --config', 'desc test --current --live', 'desc nosuch',
  'domrename test t2', 'domdisplay test', 'vncdisplay test', 'domjobinfo test', 'save-image-dumpxml /nonexistent', 'managedsave-dumpxml test',
  `screenshot test ${SHOT}`, `screenshot test ${SHOT} --screen 1`, 'screenshot nosuch',
];

const TUNING = [
  'vcpupin test', 'vcpupin test 0', 'vcpupin test --vcpu 5', 'vcpupin test --config', 'vcpupin test 0 0-1', 'vcpupin test 1 x', 'vcpupin test 0 100', 'vcpupin test 0 1024', 'vcpupin test 0 1-100000000', 'vcpupin test 0 ^1', 'vcpupin test 0 r', 'emulatorpin test 3-2', 'vcpupin test --cpulist 1',
  'emulatorpin test', 'emulatorpin test 0,2', 'emulatorpin test --config', 'memtune test', 'memtune test --config', 'blkiotune test', 'blkiotune test --live',
  'numatune test', 'numatune test --config', 'numatune nosuch', 'vcpupin test --live --current',
];

const OBJECTS = [
  'nodedev-list', 'nodedev-list --all', 'nodedev-list --tree', 'nodedev-list --inactive', 'nodedev-list --cap system', 'nodedev-list --cap foo', 'nodedev-list --cap scsi_host,pci',
  'nodedev-list --tree --cap pci', 'nodedev-dumpxml computer', 'nodedev-dumpxml nosuch', 'nodedev-info computer', 'nodedev-info nosuch',
  `net-update default add ip-dhcp-host "<host mac='52:54:00:00:00:99' name='h' ip='192.168.122.99'/>"`,
  `net-update default add ip-dhcp-host "<host mac='52:54:00:00:00:98' ip='192.168.122.98'/>" --config`,
  `net-update default delete ip-dhcp-host "<host mac='52:54:00:00:00:99'/>" --live --config`, `net-update default add-first ip-dhcp-host ${HOSTXML}`,
  'net-update default foo ip-dhcp-host x', 'net-update default add bar x', 'net-update default modify ip-dhcp-host /nonexistent',
  "net-update nosuch add ip-dhcp-host '<host/>'", 'net-dumpxml default', 'net-dhcp-leases default', 'net-dhcp-leases default --mac 52:54:00:00:00:01',
  'iface-start eth1', 'iface-destroy eth1', 'iface-start eth1', 'iface-undefine eth1', 'iface-undefine nosuch', 'iface-define /nonexistent',
  `iface-define ${IFACE}`, 'iface-list --all', 'iface-start eth9', 'iface-destroy eth9', 'iface-undefine aa:bb:cc:dd:ee:09',
];

async function compareLine(line: string): Promise<void> {
  const want = await runTool('virsh', ['-c', 'test:///default', line]);
  const wantShot = line.startsWith('screenshot') ? readFileSync(SHOT, 'utf8').length : 0;
  const got = await tsvirshLine('test:///default', line);
  assert.equal(shown(got), shown(want), line);
  if (wantShot) assert.equal(readFileSync(SHOT, 'utf8').length, wantShot, `${line}: the image`);
}

after(() => rmSync(dir, { recursive: true, force: true }));

describe('more commands vs virsh on test:///default', { skip: !haveVirsh && 'virsh not installed' }, () => {
  for (const [name, lines] of [['host', HOST], ['domain monitoring', MONITOR], ['tuning queries', TUNING], ['node devices, networks, interfaces', OBJECTS]] as const) {
    test(name, async () => {
      for (const line of lines) await compareLine(line);
    });
  }
  test('nodecpustats --percent (one second apart)', async () => {
    const [want, got] = await Promise.all([runTool('virsh', ['-c', 'test:///default', 'nodecpustats --percent']), tsvirshLine('test:///default', 'nodecpustats --percent')]);
    assert.equal(shown(got), shown(want));
  });
  test('a whole sequence as one command string (state carries over)', async () => {
    const line = [...MONITOR.filter((l) => !l.startsWith('screenshot')), ...OBJECTS].join(' ; ');
    const [want, got] = [await runTool('virsh', ['-c', 'test:///default', line]), await tsvirshLine('test:///default', line)];
    assert.equal(shown(got), shown(want));
  });
});

describe('more commands through libvirtd and tsvirtd', { skip: libvirtdSkipReason() ?? (!haveVirsh ? 'virsh not installed' : undefined) }, () => {
  let real: Libvirtd;
  let ours: Libvirtd;
  before(async () => {
    [real, ours] = await Promise.all([startLibvirtd(), startTsvirtd()]);
  });
  after(async () => {
    await Promise.all([real?.stop(), ours?.stop()]);
  });
  test('virsh on libvirtd and tsvirsh on tsvirtd print the same', async () => {
    const pick = (l: string) => !l.startsWith('screenshot') && !l.includes('/nonexistent') && !l.startsWith('save-image');
    const line = [...HOST, ...MONITOR, ...TUNING, ...OBJECTS].filter(pick).join(' ; ');
    const want = await runTool('virsh', ['-c', real.uri('test'), line]);
    const got = await runTool('tsvirsh', ['-c', ours.uri('test'), line]);
    assert.equal(shown(got), shown(want));
  });
});
