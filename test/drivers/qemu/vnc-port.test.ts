// VNC port picking: a start that lost its port to another program is recognised from QEMU's
// own error, and that port is skipped by the next pick.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { holdVncPort, releaseVncPort, reserveVncPort, vncPortClash } from '../../../src/drivers/qemu/live-xml.js';
import { internalError } from '../../../src/drivers/qemu/errors.js';

test('a VNC bind failure names its port; a held port is not picked again', async () => {
  const e = internalError('process exited while connecting to monitor: char device redirected to /dev/pts/4 (label charserial0)\n' +
    '2026-11-22T05:18:43.002881Z qemu-system-x86_64: -vnc 127.0.0.1:3,audiodev=audio1: Failed to find an available port: Address already in use');
  assert.equal(vncPortClash(e), 5903);
  assert.equal(vncPortClash(internalError('guest exited during start-up')), undefined);

  const first = await reserveVncPort();
  releaseVncPort(first);
  holdVncPort(first);
  const next = await reserveVncPort();
  assert.notEqual(next, first);
  releaseVncPort(next);
});
