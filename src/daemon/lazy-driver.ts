/**
 * A driver loaded on its first use: the daemon starts without paying for drivers nobody opens
 * (the test driver's XML machinery is ~10 MB of a fresh daemon's memory).
 */
import type { Driver } from '../api/driver.js';

export function lazyDriver(name: string, schemes: readonly string[], load: () => Promise<Driver>): Driver {
  let loaded: Promise<Driver> | null = null;
  return {
    name,
    async open(uri, opts) {
      // Only URIs this driver could own trigger the load.
      if (!schemes.includes(uri.protocol.replace(/:$/, ''))) return null;
      loaded ??= load();
      return (await loaded).open(uri, opts);
    },
  };
}
