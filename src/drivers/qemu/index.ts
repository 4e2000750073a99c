// libvirt's QEMU driver: qemu:///system (and qemu:///session) backed by real QEMU processes.
// One driver state per process, created on the first open (or by the daemon at start-up for
// autostart and reconnection) and shared by every connection.
import type { Driver, DriverConnection, DriverEventListener, DriverMethods } from '../../api/driver.js';
import { join } from 'node:path';
import { consoleMethods } from './console.js';
import { domainMethods } from './domains.js';
import { hotplugMethods } from './hotplug/index.js';
import { internalError } from './errors.js';
import { QemuDiscovery, discoveryScope, withDiscovery } from './discover.js';
import { qemuConf, qemuPaths } from './paths.js';
import { hostMethods } from './host.js';
import { qemuApiMethods } from './qemu-api.js';
import { saveMethods } from './save.js';
import { screenshotMethods } from './screenshot.js';
import { QemuDriverState, timeoutsFromEnv } from './state.js';
import { statsMethods } from './stats.js';
import { StorageDirStore } from './storage/dir-pool.js';

export { QemuDriverState } from './state.js';
export { qemuPaths, type QemuPaths } from './paths.js';

/** Driver features claimed: TYPED_PARAM_STRING. */
const DRIVER_FEATURES = new Set([9]);

let shared: Promise<{ state: QemuDriverState; methods: DriverMethods }> | null = null;

const isPrivileged = (): boolean => process.getuid?.() === 0;

/** The process-wide driver state: loads definitions, reconnects to running guests, autostarts. */
export function qemuDriverState(opts: { autostart?: boolean } = {}): Promise<{ state: QemuDriverState; methods: DriverMethods }> {
  shared ??= (async () => {
    const state = new QemuDriverState({ paths: qemuPaths(isPrivileged()), timeouts: timeoutsFromEnv(), autostart: opts.autostart ?? true });
    await state.init();
    // Pools live beside the domain definitions (<config dir>/storage), shared by every connection.
    const storage = new StorageDirStore(join(state.paths.configDir, 'storage')).methods();
    const methods: DriverMethods = { ...storage, ...consoleMethods(state), ...saveMethods(state), ...domainMethods(state), ...hotplugMethods(state), ...hostMethods(state), ...statsMethods(state), ...screenshotMethods(state), qemu: qemuApiMethods(state) };
    const scope = discoveryScope(qemuConf(isPrivileged()));
    if (scope.kind === 'none') return { state, methods };
    return { state, methods: withDiscovery(methods, new QemuDiscovery(state, scope)) };
  })();
  shared.catch(() => (shared = null));
  return shared;
}

class QemuConnection implements DriverConnection {
  readonly type = 'QEMU';
  private readonly subs = new Set<() => void>();

  constructor(
    readonly uri: string,
    private readonly state: QemuDriverState,
    readonly methods: DriverMethods,
  ) {}

  supportsFeature(feature: number): boolean {
    return DRIVER_FEATURES.has(feature);
  }

  onEvent(listener: DriverEventListener): () => void {
    const off = this.state.events.subscribe(listener);
    const unsub = (): void => {
      off();
      this.subs.delete(unsub);
    };
    this.subs.add(unsub);
    return unsub;
  }

  close(): void {
    for (const u of [...this.subs]) u();
  }
}

export const qemuDriver: Driver = {
  name: 'QEMU',
  async open(uri: URL, _opts: { readonly: boolean }): Promise<DriverConnection | null> {
    if (uri.protocol !== 'qemu:' || uri.host !== '') return null;
    const path = decodeURIComponent(uri.pathname);
    const privileged = isPrivileged();
    const want = privileged ? ['/system', '/session'] : ['/session'];
    if (!want.includes(path)) {
      throw internalError(`unexpected qemu URI path '${path || '/'}', try qemu:///${privileged ? 'system' : 'session'}`);
    }
    const { state, methods } = await qemuDriverState();
    return new QemuConnection(`qemu://${path}`, state, methods);
  },
};
