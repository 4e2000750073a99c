// Stock virsh against tsvirtd and against a private real libvirtd, side by side, for the test
// driver's less common procedures (guest agent fakes, tuning, core dumps, save images...).
// Every step's stdout, stderr and exit code must match, normalised only for clock-derived values.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { holdDefault } from '../harness/holder.js';
import { libvirtdSkipReason, startLibvirtd, type Libvirtd } from '../harness/libvirtd.js';
import { runVirsh } from '../harness/run.js';
import { startTsvirtd } from '../harness/tsvirtd.js';

const skip = libvirtdSkipReason();
const files = mkdtempSync(join(tmpdir(), 'tsvirt-interop-more-'));
const CORE = join(files, 'test.core');
const SAVE = join(files, 'test.save');
const SMALL = join(files, 'small.xml');
const VHBA = join(files, 'vhba.xml');
const VHBA_NOPARENT = join(files, 'vhba-noparent.xml');
const VHBA_BADPARENT = join(files, 'vhba-badparent.xml');
const NOT_HBA = join(files, 'not-hba.xml');
const vhba = (parent: string) =>
  `<device>${parent}<capability type='scsi_host'><capability type='fc_host'><wwnn>2001001b32a9da4e</wwnn><wwpn>2101001b32a9da4e</wwpn></capability></capability></device>\n`;
writeFileSync(VHBA, vhba('<parent>scsi_host1</parent>'));
writeFileSync(VHBA_NOPARENT, vhba(''));
writeFileSync(VHBA_BADPARENT, vhba("<parent wwnn='1' wwpn='2'/>"));
writeFileSync(NOT_HBA, `<device><parent>scsi_host1</parent><capability type='scsi_host'/></device>\n`);
const SMALLNET = join(files, 'smallnet.xml');
writeFileSync(SMALLNET, `<network><name>small</name><uuid>2f6c1d1e-7a0b-4c3d-9e8f-0a1b2c3d4e60</uuid><bridge name='vbs'/><ip address='10.1.0.1' netmask='255.255.255.0'/></network>\n`);
const TESTDRIVER = new URL('../fixtures/xml/sources/virt-manager-testdriver/testdriver.xml', import.meta.url).pathname;
writeFileSync(SMALL, `<domain type='test'><name>small</name><uuid>2f6c1d1e-7a0b-4c3d-9e8f-0a1b2c3d4e5f</uuid><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>\n`);

const SCENARIOS: Record<string, string[][]> = {
  agent: [
    ['domcontrol', 'test'], ['domtime', 'test'], ['domtime', 'test', '--time', '12345'], ['domtime', 'test'], ['domcontrol', 'test'],
    ['domtime', 'test', '--time', '40002'], ['domcontrol', 'test'], ['domtime', 'test', '--sync'], ['domtime', 'test'],
    ['domfsinfo', 'test'], ['domfsfreeze', 'test', '--mountpoint', '/boot'], ['domfsfreeze', 'test'], ['domfsthaw', 'test', '--mountpoint', '/'],
    ['domfsthaw', 'test'], ['domfsfreeze', 'test', '--mountpoint', '/nosuch'], ['domfstrim', 'test'], ['domfstrim', 'test', '--mountpoint', '/x'],
    ['domblkerror', 'test'], ['domifaddr', 'test'], ['domifaddr', 'test', '--source', 'lease'], ['domifaddr', 'test', '--full'],
    ['cpu-stats', 'test'], ['cpu-stats', 'test', '--total'], ['cpu-stats', 'test', '--start', '1', '--count', '1'], ['cpu-stats', 'test', '--start', '9'],
    ['send-key', 'test', 'KEY_A'], ['send-key', 'test', '--codeset', 'xt', '30'], ['send-key', 'test', '99999'], ['inject-nmi', 'test'],
    ['send-process-signal', 'test', '1', 'SIGTERM'], ['send-process-signal', 'test', '2', '15'],
    ['set-user-password', 'test', 'root', 'secret'], ['domlaunchsecinfo', 'test'], ['domhostname', 'test'],
  ],
  tuning: [
    ['dommemstat', 'test', '--period', '5'], ['dumpxml', 'test'], ['dommemstat', 'test', '--period', '0', '--live'],
    ['perf', 'test'], ['perf', 'test', '--enable', 'cmt,cpu_cycles'], ['perf', 'test'], ['perf', 'test', '--disable', 'cmt', '--config'],
    ['perf', 'test', '--config'], ['dumpxml', 'test', '--inactive'],
    ['set-lifecycle-action', 'test', 'poweroff', 'restart'], ['set-lifecycle-action', 'test', 'reboot', 'coredump-destroy'],
    ['set-lifecycle-action', 'test', 'crash', 'coredump-restart', '--config'], ['dumpxml', 'test'], ['dumpxml', 'test', '--inactive'],
  ],
  metadata: [
    ['desc', 'test'], ['desc', 'test', '--title'], ['desc', 'test', 'hello & <world>'], ['desc', 'test'], ['desc', 'test', '--config'],
    ['desc', 'test', '--title', 'My title'], ['desc', 'test', '--title'], ['list', '--title'], ['desc', 'test', '--title', 'a\nb'],
    ['metadata', 'test', 'http://example.org/x'], ['metadata', 'test', 'http://example.org/x', '--key', 'ex', '--set', '<foo a="1"><bar>t</bar></foo>'],
    ['metadata', 'test', 'http://example.org/x'], ['dumpxml', 'test'], ['metadata', 'test', 'http://example.org/x', '--remove'],
    ['metadata', 'test', 'http://example.org/x', '--key', 'ex', '--set', '<foo'], ['dumpxml', 'test'], ['desc', 'test', ''], ['desc', 'test'],
    ['domrename', 'test', 'other'], ['destroy', 'test'], ['domrename', 'test', 'test'], ['domrename', 'test', 'a/b'],
    ['domrename', 'test', 'renamed'], ['list', '--all'], ['dominfo', 'renamed'], ['domrename', 'renamed', 'test'], ['start', 'test'],
  ],
  dumps: [
    ['dump', 'test', CORE], ['domstate', 'test', '--reason'], ['dump', 'test', CORE, '--format', 'kdump-zlib'],
    ['dump', 'test', CORE, '--crash'], ['domstate', 'test', '--reason'], ['dump', 'test', CORE], ['domcontrol', 'test'], ['domtime', 'test'],
    ['start', 'test'], ['save', 'test', SAVE], ['save-image-dumpxml', SAVE], ['save-image-dumpxml', '/nonexistent'],
    ['define', SMALL], ['save-image-define', SAVE, SMALL], ['save-image-dumpxml', SAVE], ['undefine', 'small'],
  ],
  pinning: [
    ['vcpupin', 'test'], ['vcpupin', 'test', '0', '1'], ['vcpupin', 'test'], ['vcpupin', 'test', '--config'], ['vcpupin', 'test', '1', '0-1', '--config'],
    ['vcpupin', 'test', '5', '1'], ['vcpuinfo', 'test'], ['emulatorpin', 'test'], ['emulatorpin', 'test', '0'], ['emulatorpin', 'test'],
    ['emulatorpin', 'test', '2-3', '--config'], ['emulatorpin', 'test', '--config'], ['iothreadinfo', 'test'], ['iothreadadd', 'test', '3'],
    ['iothreadadd', 'test', '3'], ['iothreadadd', 'test', '5', '--config'], ['iothreadinfo', 'test'], ['iothreadinfo', 'test', '--config'],
    ['iothreadpin', 'test', '3', '1,3-4'], ['iothreadpin', 'test', '9', '1'], ['iothreadinfo', 'test'], ['iothreadset', 'test', '3', '--poll-max-ns', '100'],
    ['iothreadset', 'test', '5', '--poll-max-ns', '1'], ['iothreadset', 'test', '3', '--thread-pool-max', '1'], ['dumpxml', 'test'],
    ['dumpxml', 'test', '--inactive'], ['iothreaddel', 'test', '3'], ['iothreaddel', 'test', '7'], ['iothreadinfo', 'test'], ['destroy', 'test'],
    ['iothreadinfo', 'test'], ['iothreadpin', 'test', '5', '1'], ['vcpupin', 'test', '0', '1'], ['setvcpus', 'test', '1', '--config'],
    ['iothreadadd', 'test', '2'], ['iothreadinfo', 'test'], ['dumpxml', 'test'], ['start', 'test'], ['vcpupin', 'test'], ['vcpupin', 'test', '1', '0'],
    ['iothreaddel', 'test', '5', '--config'], ['dumpxml', 'test', '--inactive'], ['setvcpus', 'test', '2', '--config'], ['iothreaddel', 'test', '2', '--config'],
    ['destroy', 'test'], ['start', 'test'],
  ],
  params: [
    ['blkiotune', 'test'], ['blkiotune', 'test', '--weight', '500'], ['blkiotune', 'test', '--device-weights', '/dev/sda,300,/dev/sdb,20', '--device-read-iops-sec', '/dev/sda,10'],
    ['blkiotune', 'test'], ['blkiotune', 'test', '--device-weights', '/dev/sda,0'], ['blkiotune', 'test'], ['blkiotune', 'test', '--device-weights', '/dev/sda'],
    ['blkiotune', 'test', '--device-weights', '/dev/sda,x'], ['blkiotune', 'test', '--config'], ['blkiotune', 'test', '--weight', '50', '--config'],
    ['memtune', 'test'], ['memtune', 'test', '--hard-limit', '1000', '--soft-limit', '500'], ['memtune', 'test', '--swap-hard-limit', '100'],
    ['memtune', 'test', '--swap-hard-limit', '2000'], ['memtune', 'test'], ['memtune', 'test', '--config', '--hard-limit', '2000'], ['memtune', 'test', '--config'],
    ['numatune', 'test'], ['numatune', 'test', '--mode', 'interleave'], ['numatune', 'test', '--nodeset', '0-1'], ['numatune', 'test', '--mode', 'preferred'],
    ['numatune', 'test', '--nodeset', 'abc'], ['numatune', 'test', '--nodeset', '^0'], ['numatune', 'test', '--config', '--mode', 'preferred', '--nodeset', '0,1,3'],
    ['numatune', 'test'], ['numatune', 'test', '--config'],
    ['domiftune', 'test', 'testnet0'], ['domiftune', 'test', 'testnet0', '--inbound', '100,200,300,400', '--outbound', '50,60,70'], ['domiftune', 'test', 'testnet0'],
    ['domiftune', 'test', 'aa:bb:cc:dd:ee:ff', '--config'], ['domiftune', 'test', 'nosuch'], ['dumpxml', 'test'], ['domiftune', 'test', 'testnet0', '--inbound', '0'],
    ['dumpxml', 'test'], ['domiftune', 'test', 'testnet0', '--outbound', '0'], ['dumpxml', 'test'],
    ['blkdeviotune', 'test', 'vda'], ['blkdeviotune', 'test', 'vda', '--total-bytes-sec', '1000', '--read-iops-sec', '5', '--group-name', 'g1'],
    ['blkdeviotune', 'test', 'vda', '--total-bytes-sec', '1000', '--total-bytes-sec-max', '2000', '--group-name', 'g1'], ['blkdeviotune', 'test', 'vda'],
    ['blkdeviotune', 'test', 'vdb'], ['blkdeviotune', 'test', 'vda', '--read-bytes-sec', '5'], ['blkdeviotune', 'test', '/guest/diskimage1', '--total-iops-sec-max', '1'],
    ['blkdeviotune', 'test', 'vda', '--total-bytes-sec', '2000000000000000'], ['blkdeviotune', 'test', 'vda', '--read-bytes-sec-max', '10', '--config'],
    ['dumpxml', 'test'], ['dumpxml', 'test', '--inactive'], ['destroy', 'test'], ['start', 'test'],
  ],
  stats: [
    ['domstats'], ['domstats', '--raw', 'test', '--list-inactive'], ['iothreadadd', 'test', '2'], ['domstats', 'test', '--iothread'],
    ['iothreadset', 'test', '2', '--poll-max-ns', '100', '--poll-grow', '3'], ['domstats'], ['domstats', '--cpu-total', 'test'],
    ['domstats', '--enforce', '--cpu-total', 'test'], ['destroy', 'test'], ['domstats', '--iothread', '--state'], ['domstats', '--list-active'],
    ['domstats', '--list-shutoff', '--state', 'test'], ['start', 'test'], ['domstats', '--list-running', '--list-persistent', '--state'],
  ],
};

// Node devices list in libvirt's hash order (random per process): only order-free commands here.
SCENARIOS.nodedev = [
  ['nodedev-list'], ['nodedev-list', '--cap', 'scsi_host'], ['nodedev-list', '--tree'], ['nodedev-dumpxml', 'computer'],
  ['nodedev-dumpxml', 'scsi_host1'], ['nodedev-dumpxml', 'scsi_host11'], ['nodedev-dumpxml', 'nosuch'], ['nodedev-create', VHBA],
  ['nodedev-dumpxml', 'scsi_host12'], ['nodedev-create', VHBA_NOPARENT], ['nodedev-destroy', 'scsi_host12'], ['nodedev-destroy', 'scsi_host12'],
  ['nodedev-create', VHBA_BADPARENT], ['nodedev-create', NOT_HBA], ['nodedev-create', SMALL], ['nodedev-destroy', 'computer'],
  ['nodedev-dumpxml', 'computer'], ['nodedev-destroy', 'scsi_host1'], ['nodedev-destroy', 'scsi_host11'], ['nodedev-dumpxml', 'scsi_host11'],
  ['nodedev-create', VHBA], ['nodedev-detach', 'computer'],
];

SCENARIOS.checkpoint = [
  ['checkpoint-create-as', 'test', 'c1', 'first & <one>'], ['checkpoint-create-as', 'test', 'c1'], ['checkpoint-create-as', 'test', 'c2', '--diskspec', 'vda,checkpoint=no'],
  ['checkpoint-create-as', 'test', 'c3', '--diskspec', 'vdz'], ['checkpoint-create-as', 'test', 'c3', '--diskspec', 'vda,bitmap=bm'],
  ['checkpoint-list', 'test', '--name'], ['checkpoint-list', 'test', '--tree'], ['checkpoint-list', 'test', '--parent', '--name'],
  ['checkpoint-dumpxml', 'test', 'c1'], ['checkpoint-dumpxml', 'test', 'c2', '--no-domain'], ['checkpoint-dumpxml', 'test', 'c3', '--size', '--no-domain'],
  ['checkpoint-dumpxml', 'test', 'c3', '--security-info'], ['checkpoint-info', 'test', 'c2'], ['checkpoint-parent', 'test', 'c1'],
  ['checkpoint-parent', 'test', 'c3'], ['checkpoint-dumpxml', 'test', 'nosuch'], ['checkpoint-delete', 'test', 'c2'],
  ['checkpoint-list', 'test', '--name', '--topological'], ['checkpoint-list', 'test', '--from', 'c1', '--name'], ['snapshot-create-as', 'test', 's1'],
  ['destroy', 'test'], ['checkpoint-create-as', 'test', 'c9'], ['checkpoint-dumpxml', 'test', 'c3', '--size'], ['checkpoint-list', 'test', '--leaves', '--name'],
  ['start', 'test'], ['checkpoint-delete', 'test', 'c1', '--children-only'], ['checkpoint-list', 'test', '--name'], ['checkpoint-delete', 'test', 'c1', '--metadata'],
  ['checkpoint-delete', 'test', 'c1'], ['checkpoint-list', 'test', '--name'], ['snapshot-create-as', 'test', 's1'], ['checkpoint-create-as', 'test', 'c4'],
  ['snapshot-delete', 'test', 's1'],
];

const host = (mac: string, name: string, ip: string) => `<host mac='${mac}' name='${name}' ip='${ip}'/>`;
SCENARIOS.netupdate = [
  ['net-update', 'default', 'modify', 'ip-dhcp-host', host('00:11:22:33:44:55', 'x', '192.168.122.9')],
  ['net-update', 'default', 'add', 'ip-dhcp-host', host('00:11:22:33:44:55', 'x', '192.168.122.9')],
  ['net-update', 'default', 'add', 'ip-dhcp-host', host('00:11:22:33:44:56', 'x', '192.168.122.8')],
  ['net-update', 'default', 'add-first', 'ip-dhcp-host', host('00:11:22:33:44:57', 'y', '192.168.122.7'), '--live', '--config'],
  ['net-update', 'default', 'modify', 'ip-dhcp-host', host('00:11:22:33:44:55', 'z', '192.168.122.20')],
  ['net-update', 'default', 'add', 'ip-dhcp-host', "<hostx mac='00:11:22:33:44:57'/>"],
  ['net-update', 'default', 'add', 'ip-dhcp-host', "<host mac='00:11:22:33:44:58' ip='192.168.122.30'/>", '--parent-index', '3'],
  ['net-update', 'default', 'add', 'ip-dhcp-host', "<host mac='zz' ip='192.168.122.30'/>"],
  ['net-update', 'default', 'add', 'ip-dhcp-host', "<host mac='00:11:22:33:44:5a'/>"], ['net-update', 'default', 'add', 'ip-dhcp-host', '<host'],
  ['net-update', 'default', 'delete', 'ip-dhcp-host', "<host ip='192.168.122.20'/>"], ['net-dumpxml', 'default'],
  ['net-update', 'default', 'add', 'ip-dhcp-range', "<range start='192.168.122.2' end='192.168.122.254'/>"],
  ['net-update', 'default', 'delete', 'ip-dhcp-range', "<range start='192.168.122.3' end='192.168.122.254'/>"],
  ['net-update', 'default', 'modify', 'ip-dhcp-range', "<range start='192.168.122.3' end='192.168.122.254'/>"],
  ['net-update', 'default', 'add-first', 'ip-dhcp-range', "<range start='192.168.122.100' end='192.168.122.120'/>"],
  ['net-update', 'default', 'add', 'ip-dhcp-range', "<range start='192.168.122.120' end='192.168.122.100'/>"],
  ['net-update', 'default', 'add', 'ip-dhcp-range', "<range start='10.0.0.1' end='10.0.0.5'/>"],
  ['net-update', 'default', 'delete', 'ip-dhcp-range', "<range start='192.168.122.2' end='192.168.122.254'/>"],
  ['net-update', 'default', 'add', 'portgroup', "<portgroup name='a' default='yes'/>"], ['net-update', 'default', 'add', 'portgroup', "<portgroup name='a'/>"],
  ['net-update', 'default', 'add', 'portgroup', "<portgroup name='b' default='yes'/>"], ['net-update', 'default', 'modify', 'portgroup', "<portgroup name='c'/>"],
  ['net-update', 'default', 'modify', 'portgroup', "<portgroup name='a'><bandwidth><inbound average='10'/></bandwidth></portgroup>"],
  ['net-update', 'default', 'add-first', 'portgroup', "<portgroup name='b'/>"], ['net-update', 'default', 'delete', 'portgroup', "<portgroup name='zz'/>"],
  ['net-update', 'default', 'add', 'bridge', "<bridge name='x'/>"], ['net-update', 'default', 'add', 'portgroup', "<portgroup name='q'/>", '--config'],
  ['net-dumpxml', 'default'], ['net-destroy', 'default'], ['net-update', 'default', 'add', 'portgroup', "<portgroup name='r'/>", '--live'],
  ['net-update', 'default', 'add', 'portgroup', "<portgroup name='r'/>"], ['net-dumpxml', 'default'], ['net-start', 'default'],
  ['net-create', SMALLNET], ['net-update', 'small', 'add', 'portgroup', "<portgroup name='r'/>", '--config'],
  ['net-update', 'small', 'add', 'portgroup', "<portgroup name='r'/>"], ['net-dumpxml', 'small'], ['net-destroy', 'small'],
];

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const FIXED = new Set(['6695eb01-f6a4-8304-79aa-97f2502e193f', '2f6c1d1e-7a0b-4c3d-9e8f-0a1b2c3d4e5f', '2f6c1d1e-7a0b-4c3d-9e8f-0a1b2c3d4e60']);

function normaliser(d: Libvirtd) {
  const seen = new Map<string, string>();
  return (text: string) =>
    text
      .replace(UUID, (u) => (FIXED.has(u) ? u : (seen.get(u) ?? (seen.set(u, `<uuid-${seen.size + 1}>`), seen.get(u)!))))
      .split(d.dir)
      .join('<daemon-dir>')
      .replace(/^(CPU time:\s+)[0-9.]+s$/gm, '$1<cpu-time>')
      .replace(/<creationTime>\d+<\/creationTime>/g, '<creationTime/>');
}

async function runScenario(d: Libvirtd, steps: string[][]): Promise<string[]> {
  const holder = await holdDefault(d.unixSocket);
  const norm = normaliser(d);
  const out: string[] = [];
  try {
    for (const args of steps) {
      const r = await runVirsh(d.uri('test'), args, { timeoutMs: 15_000 });
      out.push(`$ virsh ${args.join(' ')}\n[rc=${r.code}]\n${norm(r.stdout)}${r.stderr ? `[stderr]\n${norm(r.stderr)}` : ''}`);
    }
  } finally {
    await holder.release();
  }
  return out;
}

describe('more virsh commands against tsvirtd and libvirtd', { skip }, () => {
  let real: Libvirtd;
  let ours: Libvirtd;
  before(async () => {
    [real, ours] = await Promise.all([startLibvirtd(), startTsvirtd()]);
  });
  after(async () => {
    await Promise.all([real?.stop(), ours?.stop()]);
    rmSync(files, { recursive: true, force: true });
  });

  test('screenshot streams the same PNG', async () => {
    const shots: Buffer[] = [];
    for (const d of [real, ours]) {
      const file = join(files, `shot-${shots.length}.png`);
      for (const args of [['screenshot', 'test', file], ['screenshot', 'test', file, '--screen', '1']]) {
        const r = await runVirsh(d.uri('test'), args, { timeoutMs: 15_000 });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, `Screenshot saved to ${file}, with type of image/png\n`);
      }
      shots.push(readFileSync(file));
    }
    assert.ok((shots[0]?.length ?? 0) > 1000);
    assert.deepEqual(shots[1], shots[0]);
  });

  test("nodedev-dumpxml of every testdriver.xml device", async () => {
    const names = [...readFileSync(TESTDRIVER, 'utf8').matchAll(/^<device>\s*<name>([^<]+)<\/name>/gm)].map((m) => m[1]);
    assert.ok(names.length > 90);
    const input = names.map((n) => `nodedev-dumpxml ${n}\n`).join('');
    const want = await runVirsh(`test://${TESTDRIVER}`, [], { input, timeoutMs: 30_000 });
    const got = await runVirsh(ours.uri('test', { path: TESTDRIVER }), [], { input, timeoutMs: 30_000 });
    assert.equal(got.stderr, want.stderr);
    assert.equal(got.stdout, want.stdout);
  });

  for (const [name, steps] of Object.entries(SCENARIOS)) {
    test(name, async () => {
      const want = await runScenario(real, steps);
      const got = await runScenario(ours, steps);
      const diffs = want.flatMap((w, i) => (got[i] === w ? [] : [`--- libvirtd\n${w}\n+++ tsvirtd\n${got[i]}`]));
      assert.equal(diffs.length, 0, `${diffs.length} of ${want.length} steps differ:\n${diffs.join('\n')}`);
    });
  }
});
