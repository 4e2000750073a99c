// The bootable test guest under plain QEMU (TCG): it reaches its login banner on the serial port
// quickly, and QEMU's system_powerdown makes the guest power itself off (ACPI power button), which
// is what `virsh shutdown` relies on.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { connect, type QmpClient } from '../../src/qmp/index.js';
import { bootImage, bootImageSkipReason, LOGIN_BANNER, QEMU_BINARY } from '../harness/boot-image.js';

async function qmpWithRetry(path: string, deadline: number): Promise<QmpClient> {
  for (;;) {
    try {
      // A deadline on every attempt: a monitor that accepts but never greets must fail, not hang.
      return await connect(path, { timeoutMs: 5000 });
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

test('test guest: TCG boot to the serial banner, ACPI powerdown exits QEMU', { skip: bootImageSkipReason(), timeout: 120_000 }, async () => {
  const img = await bootImage();
  const dir = mkdtempSync(join(tmpdir(), 'tsvirt-boot-'));
  const qmpPath = join(dir, 'qmp.sock');
  const started = Date.now();
  const qemu = spawn(
    QEMU_BINARY,
    ['-machine', 'pc,accel=tcg', '-m', '128', '-nodefaults', '-no-user-config', '-display', 'none',
      '-kernel', img.kernel, '-initrd', img.initrd, '-append', img.cmdline,
      '-serial', 'stdio', '-qmp', `unix:${qmpPath},server=on,wait=off`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<number | null>((r) => qemu.once('exit', (code) => r(code)));
  let serial = '';
  qemu.stdout.setEncoding('utf8').on('data', (s: string) => (serial += s));
  qemu.stderr.setEncoding('utf8').on('data', (s: string) => (serial += s));
  try {
    const banner = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner within 30 s; serial:\n${serial}`)), 30_000);
      const check = () => {
        if (!serial.includes(LOGIN_BANNER)) return;
        clearTimeout(timer);
        qemu.stdout.off('data', check);
        resolve(Date.now() - started);
      };
      qemu.stdout.on('data', check);
      void exited.then((code) => reject(new Error(`QEMU exited (${code}) before the banner:\n${serial}`)));
    });
    // Measured about 2.7 s under TCG on a shared 2-core machine; the brief allows 15 s.
    assert.ok(banner < 15_000, `banner after ${banner} ms`);

    const qmp = await qmpWithRetry(qmpPath, Date.now() + 10_000);
    const events = qmp.events();
    await qmp.execute('system_powerdown', undefined, { timeoutMs: 5000 });
    const seen: string[] = [];
    const watchdog = setTimeout(() => qemu.kill('SIGKILL'), 30_000);
    try {
      for await (const ev of events) {
        seen.push(ev.event);
        if (ev.event === 'SHUTDOWN') {
          assert.deepEqual(ev.data, { guest: true, reason: 'guest-shutdown' });
          break;
        }
      }
    } finally {
      clearTimeout(watchdog);
    }
    assert.deepEqual(seen, ['POWERDOWN', 'SHUTDOWN']);
    assert.equal(await exited, 0);
    assert.match(serial, /power button, powering off/);
    await qmp.close().catch(() => undefined);
  } finally {
    if (qemu.exitCode === null && qemu.signalCode === null) qemu.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
