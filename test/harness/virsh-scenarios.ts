// The virsh scenarios both comparison suites run: test/interop/virsh.test.ts (stock virsh against
// tsvirtd and libvirtd) and test/cli/tsvirsh.test.ts (tsvirsh against stock virsh, which adds
// more steps). Files the steps name live in one temp directory; removeScenarioFiles() cleans up.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const files = mkdtempSync(join(tmpdir(), 'tsvirt-scenarios-'));
const file = (name: string, text: string) => {
  const p = join(files, name);
  writeFileSync(p, text);
  return p;
};

export const SMALL = file('small.xml', `<domain type='test'><name>small</name><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>\n`);
export const SMALL2 = file('small2.xml', `<domain type='test'><name>small2</name><uuid>d6b7a1c4-9c2e-4f0a-8e53-1d2f3a4b5c6d</uuid><memory unit='MiB'>128</memory><vcpu>2</vcpu><os><type>hvm</type></os></domain>\n`);
export const BAD = file('bad.xml', `<domain type='test'><name>bad</name>\n`);
export const NONAME = file('noname.xml', `<domain type='test'><memory>65536</memory><os><type>hvm</type></os></domain>\n`);
export const NET = file('net.xml', `<network><name>n2</name><uuid>0a5a8e2c-44a4-4a5e-9d3b-8f1e2d3c4b5a</uuid><bridge name='virbr9'/><ip address='192.168.150.1' netmask='255.255.255.0'/></network>\n`);
export const SAVE = join(files, 'test.save');

/** A step: virsh arguments, optionally read-only (-r). */
export type Step = string[] | { args: string[]; ro?: boolean };

export const SCENARIOS: Record<string, Step[]> = {
  basics: [
    ['version'], ['version', '--daemon'], ['uri'], ['hostname'], ['nodeinfo'], ['capabilities'],
    ['list'], ['list', '--all'], ['list', '--inactive'], ['list', '--name'], ['list', '--uuid'], ['list', '--all', '--table'],
    ['list', '--persistent'], ['list', '--transient'], ['list', '--autostart'], ['list', '--no-autostart'],
    ['list', '--with-snapshot'], ['list', '--without-snapshot'], ['list', '--state-running'], ['list', '--state-paused'],
    ['list', '--state-shutoff'], ['list', '--state-other'], ['list', '--managed-save'], ['list', '--title'], ['list', '--all', '--id'],
    ['dominfo', 'test'], ['domstate', 'test'], ['domstate', 'test', '--reason'], ['domid', 'test'], ['domname', '1'],
    ['domuuid', 'test'], ['domname', '6695eb01-f6a4-8304-79aa-97f2502e193f'],
    ['dumpxml', 'test'], ['dumpxml', 'test', '--inactive'], ['dumpxml', 'test', '--security-info'],
    ['vcpucount', 'test'], ['vcpuinfo', 'test'], ['dommemstat', 'test'], ['domblklist', 'test'], ['domiflist', 'test'],
    ['domifstat', 'test', 'vnet0'], ['schedinfo', 'test'], ['domblkstat', 'test', 'vda'],
  ],
  lifecycle: [
    ['suspend', 'test'], ['domstate', 'test', '--reason'], ['list', '--all'], ['resume', 'test'], ['domstate', 'test', '--reason'],
    ['shutdown', 'test'], ['domstate', 'test', '--reason'], ['start', 'test'], ['domid', 'test'], ['reboot', 'test'],
    ['domstate', 'test', '--reason'], ['destroy', 'test'], ['domstate', 'test', '--reason'], ['start', 'test'], ['domid', 'test'],
    ['autostart', 'test'], ['dominfo', 'test'], ['list', '--autostart'], ['autostart', '--disable', 'test'],
    ['setmem', 'test', '1048576'], ['dominfo', 'test'], ['setmaxmem', 'test', '4194304', '--config'], ['dominfo', 'test'],
    ['setvcpus', 'test', '1', '--live'], ['vcpucount', 'test'], ['setvcpus', 'test', '2', '--config'], ['vcpucount', 'test'],
    ['managedsave', 'test'], ['list', '--all', '--managed-save'], ['dominfo', 'test'], ['domstate', 'test', '--reason'],
    ['start', 'test'], ['domstate', 'test', '--reason'], ['save', 'test', SAVE], ['domstate', 'test', '--reason'],
    ['restore', SAVE], ['domstate', 'test', '--reason'], ['reset', 'test'], ['domstate', 'test', '--reason'],
  ],
  define: [
    ['define', SMALL], ['list', '--all'], ['dominfo', 'small'], ['start', 'small'], ['list'], ['create', SMALL2],
    ['list', '--all'], ['dumpxml', 'small2'], ['dominfo', 'small2'], ['destroy', 'small2'], ['list', '--all'],
    ['undefine', 'small'], ['list', '--all'], ['destroy', 'small'], ['list', '--all'], ['define', SMALL2], ['undefine', 'small2'],
  ],
  snapshots: [
    ['snapshot-create-as', 'test', 's1'], ['snapshot-list', 'test'], ['snapshot-current', 'test', '--name'],
    ['snapshot-create-as', 'test', 's2', 'second one'], ['snapshot-list', 'test', '--tree'], ['snapshot-list', 'test', '--parent'],
    ['snapshot-info', 'test', 's2'], ['snapshot-revert', 'test', 's1'], ['snapshot-current', 'test', '--name'],
    ['snapshot-delete', 'test', 's1'], ['snapshot-list', 'test'], ['list', '--with-snapshot'],
  ],
  networks: [
    ['net-list'], ['net-list', '--all'], ['net-info', 'default'], ['net-dumpxml', 'default'], ['net-uuid', 'default'],
    ['net-define', NET], ['net-list', '--all'], ['net-info', 'n2'], ['net-start', 'n2'], ['net-list'], ['net-destroy', 'n2'],
    ['net-undefine', 'n2'], ['net-list', '--all'], ['net-autostart', 'default'], ['net-list', '--autostart'], ['net-name', '0a5a8e2c-44a4-4a5e-9d3b-8f1e2d3c4b5a'],
  ],
  storage: [
    ['pool-list'], ['pool-list', '--all', '--details'], ['pool-info', 'default-pool'], ['pool-dumpxml', 'default-pool'],
    ['vol-list', 'default-pool'], ['vol-list', 'default-pool', '--details'], ['vol-create-as', 'default-pool', 't1.img', '1M'],
    ['vol-list', 'default-pool'], ['vol-info', 't1.img', '--pool', 'default-pool'], ['vol-dumpxml', 't1.img', '--pool', 'default-pool'],
    ['vol-path', 't1.img', '--pool', 'default-pool'], ['pool-info', 'default-pool'], ['vol-delete', 't1.img', '--pool', 'default-pool'],
    ['vol-list', 'default-pool'],
  ],
  interfaces: [['iface-list'], ['iface-list', '--all'], ['iface-dumpxml', 'eth1'], ['iface-mac', 'eth1'], ['iface-name', 'aa:bb:cc:dd:ee:ff']],
  errors: [
    ['dominfo', 'nosuch'], ['domstate', 'nosuch'], ['define', BAD], ['define', NONAME], ['start', 'test'], ['resume', 'test'],
    ['domname', '99'], ['net-info', 'nosuch'], ['pool-info', 'nosuch'], ['undefine', 'nosuch'],
    { args: ['suspend', 'test'], ro: true }, { args: ['net-destroy', 'default'], ro: true }, { args: ['define', SMALL], ro: true },
    { args: ['dumpxml', 'test', '--security-info'], ro: true }, { args: ['dominfo', 'test'], ro: true },
    ['console', 'test'],
  ],
};

export const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** UUIDs that a define made up differ run to run; number them in order of appearance instead. */
export function normaliser(fixed: Set<string>) {
  const seen = new Map<string, string>();
  return (text: string) =>
    text.replace(UUID, (u) => {
      if (fixed.has(u)) return u;
      if (!seen.has(u)) seen.set(u, `<uuid-${seen.size + 1}>`);
      return seen.get(u)!;
    });
}

export const FIXED_UUIDS = new Set([
  '6695eb01-f6a4-8304-79aa-97f2502e193f', // domain test
  'd6b7a1c4-9c2e-4f0a-8e53-1d2f3a4b5c6d',
  '0a5a8e2c-44a4-4a5e-9d3b-8f1e2d3c4b5a',
]);

/** The read-only refusals of the errors scenario, as plain argv. */
export const READONLY: string[][] = SCENARIOS.errors!.flatMap((s) => (Array.isArray(s) ? [] : [s.args]));

export function removeScenarioFiles(): void {
  rmSync(files, { recursive: true, force: true });
}
