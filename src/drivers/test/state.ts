// One test-driver state (libvirt's testDriver object): the node config's objects in their
// stores, the event bus and the domain id counter. test:///default shares one state among
// all its connections while any is open; a config file gives each connection its own.
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { DriverConnection, DriverEventListener, DriverMethods } from '../../api/driver.js';
import { parseNodeConfig, type NodeConfig } from '../../api/xml/node-config.js';
import { XmlModelError } from '../../api/xml/errors.js';
import { VirError, VirErrorNumber } from '../../rpc/errors.js';
import { EventBus } from './events.js';
import { DomainStore } from './domains.js';
import { snapshotMethods } from './snapshot-methods.js';
import { checkpointMethods } from './checkpoints.js';
import { schedulerMethods } from './scheduler.js';
import { domainMiscMethods } from './domain-misc.js';
import { domainMetadataMethods } from './domain-metadata.js';
import { domainPinningMethods } from './domain-pinning.js';
import { domainTuningMethods } from './domain-tuning.js';
import { screenshotMethods } from './screenshot.js';
import { domainStatsMethods } from './domain-stats.js';
import { NetworkStore } from './networks.js';
import { StoragePoolStore } from './storage.js';
import { InterfaceStore } from './interfaces.js';
import { NodeDeviceStore } from './nodedevs.js';
import { NodeInfo } from './node.js';
import { TEST, fromXmlError } from './errors.js';

/** Driver features the test driver itself claims (TYPED_PARAM_STRING, NETWORK_UPDATE_HAS_CORRECT_ORDER). */
const DRIVER_FEATURES = new Set([9, 16]);

export class TestState {
  readonly events = new EventBus();
  readonly domains: DomainStore;
  readonly methods: DriverMethods;
  private refs = 0;

  constructor(cfg: NodeConfig, opts: { defaultTopology: boolean }) {
    const emit = this.events.emit;
    const node = new NodeInfo(cfg, { defaultTopology: opts.defaultTopology });
    const i = node.info;
    this.domains = new DomainStore(emit, { maxCpus: i.nodes * i.sockets * i.cores * i.threads, cores: i.cores });
    // libvirt loads domains, networks, interfaces, then pools (testOpenParse order).
    for (const el of cfg.domains) this.domains.loadFromConfig(el);
    const networks = new NetworkStore(cfg.networks, emit);
    const stores = [
      node,
      networks,
      new InterfaceStore(cfg.interfaces, emit),
      new StoragePoolStore(cfg.pools, emit),
      new NodeDeviceStore(cfg.devices, emit),
    ];
    this.methods = Object.assign({}, ...stores.map((s) => s.methods()), this.domains.methods(), snapshotMethods(this.domains), schedulerMethods(this.domains),
      domainMiscMethods(this.domains, networks),
      domainMetadataMethods(this.domains, emit),
      domainPinningMethods(this.domains),
      domainTuningMethods(this.domains),
      screenshotMethods(this.domains),
      domainStatsMethods(this.domains),
      checkpointMethods(this.domains),
    ) as DriverMethods;
  }

  ref(): void {
    this.refs++;
  }

  /** Returns true when the last connection let go. */
  unref(): boolean {
    return --this.refs === 0;
  }
}

/** A connection: the shared state's procedures plus its own event subscriptions. */
export class TestConnection implements DriverConnection {
  readonly type = 'TEST';
  readonly methods: DriverMethods;
  private readonly subs = new Set<() => void>();
  private closed = false;

  constructor(
    readonly uri: string,
    private readonly state: TestState,
    private readonly release: () => void,
  ) {
    state.ref();
    this.methods = state.methods;
  }

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
    if (this.closed) return;
    this.closed = true;
    for (const u of [...this.subs]) u();
    this.release();
  }
}

const xmlFileError = (path: string): VirError =>
  VirError.format(VirErrorNumber.XML_ERROR, TEST, 'XML error: %s', `failed to parse xml document '${path}'`);

/** Reads a file as libxml would for the test driver, with libvirt's errors. */
function readXmlFile(path: string): string {
  try {
    if (statSync(path).isDirectory()) {
      throw VirError.format(VirErrorNumber.XML_DETAIL, TEST, '%s', `${path}:1: Document is empty\n(null)\n^`);
    }
    return readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof VirError) throw e;
    throw xmlFileError(path);
  }
}

/** Parses a <node> config file; file='...' references resolve against the config's directory. */
export function loadConfigFile(path: string): NodeConfig {
  const text = readXmlFile(path);
  const dir = dirname(path);
  try {
    return parseNodeConfig(text, (f) => readXmlFile(isAbsolute(f) ? f : join(dir, f)));
  } catch (e) {
    if (e instanceof XmlModelError) {
      if (e.message.includes("expecting root element of 'node'")) {
        throw VirError.format(VirErrorNumber.XML_ERROR, TEST, 'XML error: %s', "Root element is not 'node'");
      }
      const msg = e.message.replace('(test_driver_config)', path);
      throw VirError.format(e.code, e.domain === 0 ? TEST : e.domain, '%s', msg);
    }
    throw fromXmlError(e);
  }
}
