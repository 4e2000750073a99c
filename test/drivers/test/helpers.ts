// Shared helpers: open test-driver connections in-process and call procedures by name.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DriverConnection, DriverEvent, ProcName, ArgsOf, RetOf, DriverMethod } from '../../../src/api/driver.js';
import { testDriver } from '../../../src/drivers/test/index.js';
import { VirError } from '../../../src/rpc/errors.js';

export const repoRoot = (() => {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) d = dirname(d);
  return d;
})();

export const TESTDRIVER_XML = join(repoRoot, 'test/fixtures/xml/sources/virt-manager-testdriver/testdriver.xml');

export async function open(uri: string, readonly = false): Promise<DriverConnection> {
  const c = await testDriver.open(new URL(uri), { readonly });
  if (!c) throw new Error(`not a test URI: ${uri}`);
  return c;
}

export function call<K extends ProcName>(c: DriverConnection, name: K, args: ArgsOf<K>, readonly = false): RetOf<K> {
  const m = c.methods[name] as DriverMethod<K> | undefined;
  if (!m) throw new Error(`${name} not implemented`);
  return m(args, { readonly, stream: null }) as RetOf<K>;
}

/** [code, domain, message] of the VirError `f` throws. */
export function errOf(f: () => unknown): [number, number, string] {
  try {
    f();
  } catch (e) {
    if (e instanceof VirError) return [e.code, e.domain, e.message];
    throw e;
  }
  throw new Error('expected an error');
}

/** Collects "event/detail" strings of lifecycle events. */
export function lifecycleLog(c: DriverConnection): string[] {
  const log: string[] = [];
  c.onEvent((e: DriverEvent) => {
    const msg = (e.payload as { msg: { event: number; detail: number } }).msg;
    log.push(`${msg.event}/${msg.detail}`);
  });
  return log;
}
