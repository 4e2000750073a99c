// The QEMU program's checks that need no running guest: flag refusal and agent availability.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { qemuPaths } from '../../../src/drivers/qemu/paths.js';
import { qemuApiMethods } from '../../../src/drivers/qemu/qemu-api.js';
import { QemuDriverState, timeoutsFromEnv } from '../../../src/drivers/qemu/state.js';
import { uuidBytes } from '../../../src/drivers/qemu/uuid.js';
import { parseDomainXml } from '../../../src/api/xml/domain/parse.js';
import { VirError } from '../../../src/rpc/errors.js';

const UUID = '11111111-2222-3333-4444-555555555555';
const ctx = { readonly: false, stream: null };

/** A driver state never initialised: nothing on disk, no QEMU; only its domain list is used. */
function newState(): QemuDriverState {
  return new QemuDriverState({ paths: qemuPaths(false, { HOME: '/nonexistent' }), timeouts: timeoutsFromEnv({}), autostart: false });
}

function setup() {
  const s = newState();
  s.list.add(parseDomainXml(`<domain type='qemu'><name>g</name><uuid>${UUID}</uuid><memory>65536</memory><os><type>hvm</type></os></domain>`), false);
  const api = qemuApiMethods(s);
  return { api, h: { name: 'g', uuid: uuidBytes(UUID), id: -1 } };
}

test('monitorCommand: unknown flags refused with libvirt text; inactive domain refused', async () => {
  const { api, h } = setup();
  await assert.rejects(async () => api.monitorCommand?.(h, '{"execute":"stop"}', 2, ctx), (e: unknown) => {
    assert.ok(e instanceof VirError);
    assert.equal(e.message, 'unsupported flags (0x2) in function qemuDomainQemuMonitorCommandWithFiles');
    assert.equal(e.domain, 10);
    return true;
  });
  await assert.rejects(async () => api.monitorCommand?.(h, '{"execute":"stop"}', 0, ctx), /domain is not running/);
});

test('agentCommand: inactive domain refused before agent checks', async () => {
  const { api, h } = setup();
  await assert.rejects(async () => api.agentCommand?.(h, '{}', -1, 0, ctx), /domain is not running/);
});

test('onMonitorEvent registers and unregisters a listener', () => {
  const s = newState();
  const listeners = s.monitorListeners;
  const api = qemuApiMethods(s);
  const off = api.onMonitorEvent?.(() => undefined);
  assert.equal(listeners.size, 1);
  off?.();
  assert.equal(listeners.size, 0);
});
