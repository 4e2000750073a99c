// libvirt-python against tsvirtd's QEMU driver and against a private real libvirtd's, with the
// same bootable test guest: one script drives managed save, save/restore (plain, paused,
// running), live vCPUs, disk and interface hot-plug and unplug, statistics, a screenshot over a
// stream, host and domain capabilities and error reporting, with event callbacks collecting the
// lifecycle and device events on the side. Its output, normalised, must be the same for both.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { libvirtdSkipReason, startLibvirtd, type Libvirtd } from '../harness/libvirtd.js';
import { startTsvirtd } from '../harness/tsvirtd.js';
import { describeRun, runPython } from '../harness/run.js';
import { bootDomainXml, bootImage, bootImageSkipReason, LOGIN_BANNER } from '../harness/boot-image.js';
import { killGuestsIn, qemuEnv, qemuSkipReason } from '../drivers/qemu/driver-guest.js';

const skip = libvirtdSkipReason() ?? qemuSkipReason() ?? bootImageSkipReason();
const dir = mkdtempSync(join(tmpdir(), 'tsvirt-qemu-python-'));
const NAME = `pyguest-${process.pid}`;
let real: Libvirtd | undefined;
let ours: Libvirtd | undefined;

/** The boot image guest with two possible vCPUs (one present) and a VGA screen to dump. */
async function writeGuestXml(): Promise<string> {
  const base = bootDomainXml(await bootImage(), NAME);
  const xml = base
    .replace('<vcpu>1</vcpu>', "<vcpu placement='static' current='1'>2</vcpu>")
    .replace("<memballoon model='none'/>", "<video><model type='vga'/></video>\n    <memballoon model='none'/>");
  assert.notEqual(xml.indexOf("current='1'"), -1, 'bootDomainXml changed: no <vcpu>1</vcpu> to widen');
  assert.notEqual(xml.indexOf('<video>'), -1, 'bootDomainXml changed: no balloon to put the video before');
  const file = join(dir, 'guest.xml');
  writeFileSync(file, xml);
  return file;
}

let xmlFile = '';

before(async () => {
  if (skip) return;
  xmlFile = await writeGuestXml();
  const img = spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'extra.qcow2'), '16M']);
  assert.equal(img.status, 0, String(img.stderr));
  writeFileSync(join(dir, 'garbage.save'), Buffer.alloc(4096, 0x5a));
  Object.assign(process.env, qemuEnv(join(dir, 'tsvirt')));
  [real, ours] = await Promise.all([startLibvirtd(), startTsvirtd()]);
});

after(async () => {
  await Promise.all([real?.stop(), ours?.stop()]);
  // libvirtd leaves its guests running when it stops; both daemons name QEMU `guest=NAME`.
  killGuestsIn(`guest=${NAME},`);
  killGuestsIn(join(dir, 'tsvirt'));
  rmSync(dir, { recursive: true, force: true });
});

// Raw: the python source keeps its own backslash escapes.
const PY = String.raw`
import libvirt, sys, threading, time
import xml.etree.ElementTree as ET

uri, work, xml_path, banner = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].encode()
libvirt.virEventRegisterDefaultImpl()
def loop():
    while True:
        libvirt.virEventRunDefaultImpl()
threading.Thread(target=loop, daemon=True).start()
# Errors are printed by err(), not by libvirt's default handler on stderr.
libvirt.registerErrorHandler(lambda ctx, e: None, None)

c = libvirt.open(uri)
events = []
def lifecycle(conn, dom, event, detail, opaque):
    events.append(('lifecycle', event, detail))
def dev_added(conn, dom, alias, opaque):
    events.append(('device-added', alias))
def dev_removed(conn, dom, alias, opaque):
    events.append(('device-removed', alias))
cbs = [c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, lifecycle, None),
       c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, dev_added, None),
       c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, dev_removed, None)]

def out(*a):
    print(*a, flush=True)

def err(label, fn):
    try:
        out(label, 'ok', fn())
    except libvirt.libvirtError as e:
        out(label, 'error', e.get_error_code(), e.get_error_domain(), e.get_error_message())

def shape(v):
    """Types, not values: statistics are the guest's and the clock's."""
    if isinstance(v, dict):
        return {k: type(x).__name__ for k, x in sorted(v.items())}
    if isinstance(v, (list, tuple)):
        return [shape(x) for x in v]
    return type(v).__name__

def paths(xml):
    acc = set()
    def walk(e, p):
        q = p + '/' + e.tag
        acc.add(q)
        acc.update(q + '@' + k for k in e.attrib)
        for ch in e:
            walk(ch, q)
    walk(ET.fromstring(xml), '')
    return sorted(acc)

def flush_events(label, n):
    """Waits for n events, then a little longer so that an extra one shows too."""
    end = time.time() + 10
    while len(events) < n and time.time() < end:
        time.sleep(0.05)
    time.sleep(0.3)
    out(label, 'events', events[:])
    del events[:]

# ---- host ----
info = c.getInfo()
# [model, memory MiB, cpus, mhz, nodes, sockets, cores, threads]: the clock is the host's.
out('getInfo', shape(info), info[0:3], info[4:])
out('getFreeMemory', type(c.getFreeMemory()).__name__)
for p in paths(c.getCapabilities()):
    out('caps', p)
for p in paths(c.getDomainCapabilities(None, 'x86_64', 'pc', 'qemu')):
    out('domcaps', p)
out('node stats', shape(c.getCPUStats(-1)), shape(c.getMemoryStats(-1)), shape(c.getCPUMap()))

# ---- domain ----
DISK = "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='%s/extra.qcow2'/><target dev='vdb' bus='virtio'/></disk>" % work
MAC = '52:54:00:12:34:56'
NIC = "<interface type='user'><mac address='%s'/><model type='virtio'/></interface>" % MAC
MISSING = "<disk type='file' device='disk'><source file='%s/none.qcow2'/><target dev='vdz' bus='virtio'/></disk>" % work
LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG
d = c.defineXML(open(xml_path).read())
flush_events('define', 1)
err('save stopped', lambda: d.save(work + '/stopped.save'))
err('vcpus stopped', lambda: d.vcpus())
err('screenshot stopped', lambda: d.screenshot(c.newStream(0), 0, 0))
err('setVcpus over max', lambda: d.setVcpusFlags(3, CONFIG))
d.create()
out('create', d.state(), d.info()[0:4])
flush_events('create', 2)

out('vcpusFlags', d.vcpusFlags(LIVE), d.vcpusFlags(CONFIG), d.vcpusFlags(libvirt.VIR_DOMAIN_VCPU_MAXIMUM | LIVE))
out('setVcpusFlags', d.setVcpusFlags(2, LIVE))
out('vcpusFlags', d.vcpusFlags(LIVE), d.vcpusFlags(CONFIG), d.maxVcpus())
info = d.info()
out('info', shape(info), info[0:4])
vc = d.vcpus()
out('vcpus', [v[0:2] for v in vc[0]], shape(vc), vc[1])
out('getCPUStats', shape(d.getCPUStats(True)))
err('getCPUStats per cpu', lambda: shape(d.getCPUStats(False)))
out('memoryStats', shape(d.memoryStats()))

out('attach disk', d.attachDeviceFlags(DISK, LIVE))
out('attach nic', d.attachDeviceFlags(NIC, LIVE))
flush_events('attach', 2)
out('blockStats', shape(d.blockStats('vdb')), shape(d.blockStats(work + '/extra.qcow2')))
out('blockStatsFlags', shape(d.blockStatsFlags('vdb')))
out('blockInfo', shape(d.blockInfo('vdb')), d.blockInfo('vdb')[0], shape(d.blockInfo(work + '/extra.qcow2')))
err('blockStats missing', lambda: d.blockStats('vdq'))
err('interfaceStats', lambda: shape(d.interfaceStats(MAC)))
err('attach twice', lambda: d.attachDeviceFlags(DISK, LIVE))
err('detach config only', lambda: d.detachDeviceFlags(DISK, CONFIG))

st = c.newStream(0)
mime = d.screenshot(st, 0, 0)
chunks = []
st.recvAll(lambda s, data, acc: acc.append(data), chunks)
st.finish()
img = b''.join(chunks)
out('screenshot', mime, img[:8], img[12:16], len(img) > 100)

# ---- managed save, save and restore ----
d.managedSave(0)
out('managedSave', d.state(), d.hasManagedSaveImage(0), d.isActive())
flush_events('managedSave', 2)
d.create()
out('managed restore', d.state(), d.hasManagedSaveImage(0), d.vcpusFlags(LIVE))
flush_events('managed restore', 2)
path = work + '/py.save'
d.save(path)
out('save', d.state(), d.hasManagedSaveImage(0))
flush_events('save', 2)
c.restore(path)
out('restore', d.state(), d.vcpusFlags(LIVE), shape(d.blockStats('vdb')))
flush_events('restore', 2)
d.saveFlags(path, None, libvirt.VIR_DOMAIN_SAVE_PAUSED)
out('saveFlags paused', d.state())
c.restoreFlags(path, None, libvirt.VIR_DOMAIN_SAVE_PAUSED)
out('restoreFlags paused', d.state())
flush_events('save/restore paused', 4)
d.saveFlags(path, None, 0)
out('saveFlags from paused', d.state())
c.restoreFlags(path, None, libvirt.VIR_DOMAIN_SAVE_RUNNING)
out('restoreFlags running', d.state())
flush_events('save/restore running', 3)
err('restore garbage', lambda: c.restore(work + '/garbage.save'))
err('restore missing', lambda: c.restore(work + '/missing.save'))
err('restore active', lambda: c.restore(path))

# ---- unplug ----
# Hot-unplug needs the guest's cooperation: wait until its OS is up (a line typed on the
# serial console makes it print the login banner again).
con = c.newStream(0)
d.openConsole(None, con, libvirt.VIR_DOMAIN_CONSOLE_FORCE)
con.send(b'\n')
seen = b''
end = time.time() + 30
while banner not in seen and time.time() < end:
    seen += con.recv(4096)
con.abort()
out('banner', banner in seen)
err('detach missing', lambda: d.detachDeviceFlags(MISSING, LIVE))
err('detach disk', lambda: d.detachDeviceFlags(DISK, LIVE))
err('detach nic', lambda: d.detachDeviceFlags(NIC, LIVE))
flush_events('detach', 2)
live = d.XMLDesc(0)
out('after detach', 'vdb' in live, MAC in live)
err('blockStats detached', lambda: d.blockStats('vdb'))

# ---- the end ----
d.managedSave(0)
out('managedSaveRemove', d.managedSaveRemove(0), d.state(), d.hasManagedSaveImage(0))
err('managedSaveRemove again', lambda: d.managedSaveRemove(0))
flush_events('managedSave', 2)
d.create()
d.destroy()
out('destroy', d.state(), d.info()[0])
err('save stopped', lambda: d.save(path))
d.undefine()
flush_events('create, destroy, undefine', 5)
for cb in cbs:
    c.domainEventDeregisterAny(cb)
c.close()
`;

/** What differs between the daemons by design: where each keeps its files. */
function normalise(text: string): string {
  return text.split(dir).join('DIR').replace(/'[^']*\/save\/[^'/]+\.save'/g, "'SAVEDIR/NAME.save'");
}

async function run(d: Libvirtd): Promise<string> {
  const r = await runPython(PY, [d.uri('qemu'), dir, xmlFile, LOGIN_BANNER], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, describeRun(r));
  return normalise(r.stdout);
}

test('libvirt-python: same results from tsvirtd and libvirtd QEMU drivers', { skip, timeout: 150_000 }, async () => {
  const theirs = await run(real!);
  const mine = await run(ours!);
  // Line by line first, so a failure names the step.
  const a = mine.split('\n');
  const b = theirs.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) assert.equal(a[i], b[i], `line ${i + 1}`);
  assert.match(mine, /^screenshot image\/png b'\\x89PNG\\r\\n\\x1a\\n' b'IHDR' True$/m);
  assert.match(mine, /^managed restore \[1, 3\] 0 2$/m);
  assert.match(mine, /^restoreFlags paused \[3, 2\]$/m);
  assert.match(mine, /^detach events \[\('device-removed', 'virtio-disk1'\), \('device-removed', 'net0'\)\]$/m);
  assert.match(mine, /^managedSaveRemove again error 38 10 Failed to remove managed save file/m);
});
