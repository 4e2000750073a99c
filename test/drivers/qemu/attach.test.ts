// qemu-attach support: finding QEMU processes and their QMP sockets from their command lines,
// then describing a hand-started QEMU (TCG, paused, diskless) from its monitor.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { attachedDomainXml, attachToPid, describeArgv, findQemuProcesses, parseOpts, qmpSocketOf } from '../../../src/drivers/qemu/attach.js';
import { VirError } from '../../../src/rpc/errors.js';

const QEMU = '/usr/bin/qemu-system-x86_64';

test('QMP socket from -qmp or from -chardev socket + -mon mode=control', () => {
  assert.equal(qmpSocketOf(['qemu-system-x86_64', '-qmp', 'unix:/run/a.sock,server=on,wait=off']), '/run/a.sock');
  assert.equal(
    qmpSocketOf(['qemu-system-x86_64', '-chardev', 'socket,id=charmonitor,path=/var/lib/x/monitor.sock,server=on,wait=off', '-mon', 'chardev=charmonitor,id=monitor,mode=control']),
    '/var/lib/x/monitor.sock',
  );
  // A readline (HMP) monitor is not QMP.
  assert.equal(qmpSocketOf(['qemu-system-x86_64', '-chardev', 'socket,id=m,path=/x.sock,server=on', '-mon', 'chardev=m,mode=readline']), null);
  assert.equal(qmpSocketOf(['qemu-system-x86_64', '-qmp', 'tcp:127.0.0.1:4444,server=on']), null);
  assert.deepEqual([...parseOpts('guest=a,,b,debug-threads=on')], [['guest', 'a,b'], ['debug-threads', 'on']]);
  const p = describeArgv(42, ['/usr/bin/qemu-system-x86_64', '-name', 'guest=vm1,debug-threads=on', '-uuid', 'c7a5fdbd-edaf-9455-926a-d65c16db1809']);
  assert.deepEqual([p.name, p.uuid, p.qmpPath], ['vm1', 'c7a5fdbd-edaf-9455-926a-d65c16db1809', null]);
});

test('attach to a hand-started QEMU by pid', { skip: existsSync(QEMU) ? undefined : 'qemu-system-x86_64 missing', timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsvirt-attach-'));
  const sock = join(dir, 'mon.sock');
  const uuid = '1b4e28ba-2fa1-11d2-883f-0016d3cca427';
  const qemu = spawn(QEMU, [
    '-machine', 'pc,accel=tcg', '-m', '64', '-smp', '2', '-nodefaults', '-no-user-config', '-display', 'none', '-S',
    '-name', 'guest=handmade', '-uuid', uuid,
    '-chardev', `socket,id=charmonitor,path=${sock},server=on,wait=off`, '-mon', 'chardev=charmonitor,id=monitor,mode=control',
  ], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => qemu.once('exit', () => r()));
  try {
    const pid = qemu.pid ?? -1;
    // The socket appears a moment after exec.
    for (let i = 0; i < 200 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 25));
    const seen = findQemuProcesses().find((p) => p.pid === pid);
    assert.ok(seen, 'the new QEMU is found in /proc');
    assert.deepEqual([seen.qmpPath, seen.name, seen.uuid], [sock, 'handmade', uuid]);

    const { guest, qmp } = await attachToPid(pid);
    try {
      assert.deepEqual(
        [guest.name, guest.uuid, guest.running, guest.status, guest.vcpus, guest.memoryKiB],
        ['handmade', uuid, false, 'prelaunch', 2, 65536n],
      );
      const xml = attachedDomainXml(guest, 5);
      assert.match(xml, /<domain type='qemu' id='5'>\n {2}<name>handmade<\/name>\n {2}<uuid>1b4e28ba-2fa1-11d2-883f-0016d3cca427<\/uuid>\n {2}<memory unit='KiB'>65536<\/memory>/);
      // The monitor stays usable for the caller.
      await qmp.execute('cont');
      assert.equal(((await qmp.execute('query-status')) as { running: boolean }).running, true);
    } finally {
      await qmp.close();
    }
    await assert.rejects(attachToPid(process.pid), (e: unknown) => e instanceof VirError && /is not QEMU/.test(e.message));
  } finally {
    qemu.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
