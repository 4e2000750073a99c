// Where the QEMU driver keeps its files: defaults apart from a real libvirtd's, a qemu.conf-like
// file, and environment variables winning over both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { qemuPaths } from '../../../src/drivers/qemu/paths.js';

test('privileged defaults never share a directory with libvirtd', () => {
  const p = qemuPaths(true, { TSVIRT_QEMU_CONF: '/nonexistent/qemu.conf' });
  assert.deepEqual(p, {
    configDir: '/etc/tsvirt/qemu', autostartDir: '/etc/tsvirt/qemu/autostart', stateDir: '/run/tsvirt/qemu',
    logDir: '/var/log/tsvirt/qemu', cacheDir: '/var/cache/tsvirt/qemu', binary: '/usr/bin/qemu-system-x86_64',
  });
  for (const dir of Object.values(p)) assert.doesNotMatch(dir, /libvirt/);
});

test('session paths live under the user\'s XDG directories', () => {
  const p = qemuPaths(false, { HOME: '/home/u', XDG_RUNTIME_DIR: '/run/user/1000' });
  assert.equal(p.configDir, '/home/u/.config/tsvirt/qemu');
  assert.equal(p.stateDir, '/run/user/1000/tsvirt/qemu/run');
  assert.equal(p.cacheDir, '/home/u/.cache/tsvirt/qemu/capabilities');
});

test('a qemu.conf-like file moves directories; the environment wins over it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsvirt-qemu-conf-'));
  try {
    const conf = join(dir, 'qemu.conf');
    writeFileSync(conf, '# comment\nstate_dir = "/srv/run"\nlog_dir = "/srv/log"  # trailing\nemulator = "/opt/qemu"\nbogus line\n');
    const p = qemuPaths(true, { TSVIRT_QEMU_CONF: conf, TSVIRT_QEMU_LOG_DIR: '/env/log' });
    assert.equal(p.stateDir, '/srv/run');
    assert.equal(p.logDir, '/env/log');
    assert.equal(p.binary, '/opt/qemu');
    assert.equal(p.configDir, '/etc/tsvirt/qemu');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
