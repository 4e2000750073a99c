// libvirt's "test" driver: test:///default (one shared in-memory state, rebuilt after the
// last connection closes) and test:///PATH.xml (a private state per connection).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Driver, DriverConnection } from '../../api/driver.js';
import { parseNodeConfig } from '../../api/xml/node-config.js';
import { invalidArg } from './errors.js';
import { TestConnection, TestState, loadConfigFile } from './state.js';

// Beside this module in the source tree and, copied by the build, in dist/.
const DEFAULT_XML = fileURLToPath(new URL('./default.xml', import.meta.url));

let shared: TestState | undefined;

function defaultState(): TestState {
  if (!shared) {
    const text = readFileSync(DEFAULT_XML, 'utf8');
    shared = new TestState(parseNodeConfig(text, () => ''), { defaultTopology: true });
  }
  return shared;
}

export const testDriver: Driver = {
  name: 'Test',
  async open(uri: URL, _opts: { readonly: boolean }): Promise<DriverConnection | null> {
    if (uri.protocol !== 'test:') return null;
    // A host name means the remote driver (libvirt routes test://host/... over the network).
    if (uri.host !== '') return null;
    const path = decodeURIComponent(uri.pathname);
    if (path === '' || path === '/') throw invalidArg('testOpen: supply a path or use test:///default');
    if (path === '/default') {
      const state = defaultState();
      return new TestConnection('test:///default', state, () => {
        if (state.unref() && shared === state) shared = undefined;
      });
    }
    const state = new TestState(loadConfigFile(path), { defaultTopology: false });
    return new TestConnection(`test://${path}`, state, () => void state.unref());
  },
};
