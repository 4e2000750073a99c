// The daemon's entry for the QEMU driver: loaded on first use like every driver, but loaded
// at start-up when there is work for it then (autostart links, guests left running by a
// previous daemon), so those start or are watched again without waiting for a client.
import { readdirSync } from 'node:fs';
import type { Driver } from '../../api/driver.js';
import { qemuPaths } from './paths.js';

const hasXml = (dir: string): boolean => {
  try {
    return readdirSync(dir).some((f) => f.endsWith('.xml'));
  } catch {
    return false;
  }
};

export function qemuDriverEntry(): Driver {
  const paths = qemuPaths(process.getuid?.() === 0);
  const load = async (): Promise<Driver> => {
    const m = await import('./index.js');
    await m.qemuDriverState();
    return m.qemuDriver;
  };
  let loaded: Promise<Driver> | null = null;
  if (hasXml(paths.autostartDir) || hasXml(paths.stateDir)) {
    loaded = load();
    loaded.catch(() => (loaded = null));
  }
  return {
    name: 'QEMU',
    async open(uri, opts) {
      if (uri.protocol !== 'qemu:') return null;
      loaded ??= load();
      return (await loaded).open(uri, opts);
    },
  };
}
