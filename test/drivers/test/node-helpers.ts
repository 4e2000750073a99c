// Shared by the network/storage/interface/node store tests: load a <node> config, call
// driver methods by procedure name, and compare errors and behaviour with real libvirt.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ArgsOf, DriverEvent, DriverMethods, ProcName, RetOf } from '../../../src/api/driver.js';
import type { NodeConfig } from '../../../src/api/xml/node-config.js';
import { parseNodeConfig } from '../../../src/api/xml/node-config.js';
import { VirError } from '../../../src/rpc/errors.js';

/** The repository root, from test/drivers/test or its compiled copy under dist/. */
export const ROOT = (() => {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) d = dirname(d);
  return d;
})();

export function loadConfig(path = join(ROOT, 'src/drivers/test/default.xml')): NodeConfig {
  return parseNodeConfig(readFileSync(path, 'utf8'), (name) => readFileSync(join(dirname(path), name), 'utf8'));
}

export const TESTNODE = join(ROOT, 'test/fixtures/xml/sources/libvirt-testnode/testnode.xml');

const CTX = { readonly: false, stream: null };

export async function call<K extends ProcName>(m: DriverMethods, name: K, args: ArgsOf<K>): Promise<RetOf<K>> {
  const fn = m[name] as ((a: ArgsOf<K>, c: typeof CTX) => RetOf<K> | Promise<RetOf<K>>) | undefined;
  assert.ok(fn, `${name} is implemented`);
  return await fn(args, CTX);
}

/** Expects the call to fail with libvirt's code, domain and message. */
export async function callFails<K extends ProcName>(
  m: DriverMethods, name: K, args: ArgsOf<K>, code: number, domain: number, message: string,
): Promise<void> {
  await assert.rejects(call(m, name, args), (e: unknown) => {
    assert.ok(e instanceof VirError, `VirError, got ${String(e)}`);
    assert.deepEqual({ code: e.code, domain: e.domain, message: e.message }, { code, domain, message });
    return true;
  });
}

/** Collects events; `take()` returns and clears them as [proc, name, event, detail] rows. */
export function recorder(): { emit: (ev: DriverEvent) => void; take: () => unknown[][] } {
  let evs: DriverEvent[] = [];
  return {
    emit: (ev) => evs.push(ev),
    take: () => {
      const rows = evs.map((e) => {
        const p = e.payload as { net?: { name: string }; pool?: { name: string }; event?: number; detail?: number };
        return [e.family, e.eventID, e.proc, (p.net ?? p.pool)?.name, p.event, p.detail];
      });
      evs = [];
      return rows;
    },
  };
}

/** Runs a python script against the real libvirt (in-process test driver); returns its stdout as JSON. */
export function realLibvirt(script: string): unknown {
  const out = execFileSync('/usr/bin/python3', ['-c', `import libvirt, json\nlibvirt.registerErrorHandler(lambda *a: None, None)\n${script}`], {
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

export const decodeCString = (b: Uint8Array): string => new TextDecoder().decode(b.subarray(0, b.indexOf(0) < 0 ? b.length : b.indexOf(0)));
