// Snapshot procedures of the test driver, including revert's state transitions and the
// lifecycle events libvirt 9.0 raises for them.
import type { DriverMethods } from '../../api/driver.js';
import type { RemoteNonnullDomain, RemoteNonnullDomainSnapshot } from '../../protocol/gen/remote.js';
import type { DomainStore } from './domains.js';
import { State, RunningReason, ShutoffReason, PausedReason, copyDef } from './domain-obj.js';
import type { DomainObj } from './domain-obj.js';
import { Detail, Lifecycle } from './events.js';
import { checkFlags, noSnapshot, operationInvalid, operationUnsupported, revertRisky, xmlParse } from './errors.js';
import { SNAP_STATES, SnapshotList, formatSnapshot, parseSnapshotXml } from './snapshots.js';
import type { Snapshot } from './snapshots.js';
import { hasCheckpoints } from './checkpoints.js';

const LIST_MASK = 0x7ff;
const CREATE = { REDEFINE: 1, CURRENT: 2, HALT: 8 } as const;

export function snapshotMethods(store: DomainStore): DriverMethods {
  const snaps = (d: DomainObj): SnapshotList => (d.snapshots ??= new SnapshotList());
  const ref = (dom: RemoteNonnullDomain, s: Snapshot): RemoteNonnullDomainSnapshot => ({ name: s.name, dom });
  const lookup = (h: RemoteNonnullDomainSnapshot): { d: DomainObj; s: Snapshot } => {
    const d = store.resolve(h.dom);
    return { d, s: snaps(d).find(h.name) };
  };
  return {
    DOMAIN_SNAPSHOT_NUM: ({ dom, flags }) => {
      checkFlags('testDomainSnapshotNum', flags, LIST_MASK);
      return { num: snaps(store.resolve(dom)).list(undefined, flags).length };
    },
    DOMAIN_SNAPSHOT_LIST_NAMES: ({ dom, maxnames, flags }) => {
      checkFlags('testDomainSnapshotListNames', flags, LIST_MASK);
      return { names: snaps(store.resolve(dom)).list(undefined, flags).slice(0, maxnames).map((s) => s.name) };
    },
    DOMAIN_LIST_ALL_SNAPSHOTS: ({ dom, needResults, flags }) => {
      checkFlags('testDomainListAllSnapshots', flags, LIST_MASK);
      const list = snaps(store.resolve(dom)).list(undefined, flags);
      return { snapshots: needResults ? list.map((s) => ref(dom, s)) : [], ret: list.length };
    },
    DOMAIN_SNAPSHOT_NUM_CHILDREN: ({ snap, flags }) => {
      checkFlags('testDomainSnapshotNumChildren', flags, LIST_MASK);
      const { d, s } = lookup(snap);
      return { num: snaps(d).list(s, flags).length };
    },
    DOMAIN_SNAPSHOT_LIST_CHILDREN_NAMES: ({ snap, maxnames, flags }) => {
      checkFlags('testDomainSnapshotListChildrenNames', flags, LIST_MASK);
      const { d, s } = lookup(snap);
      return { names: snaps(d).list(s, flags).slice(0, maxnames).map((x) => x.name) };
    },
    DOMAIN_SNAPSHOT_LIST_ALL_CHILDREN: ({ snapshot, needResults, flags }) => {
      checkFlags('testDomainSnapshotListAllChildren', flags, LIST_MASK);
      const { d, s } = lookup(snapshot);
      const list = snaps(d).list(s, flags);
      return { snapshots: needResults ? list.map((x) => ref(snapshot.dom, x)) : [], ret: list.length };
    },
    DOMAIN_SNAPSHOT_LOOKUP_BY_NAME: ({ dom, name, flags }) => {
      checkFlags('testDomainSnapshotLookupByName', flags, 0);
      return { snap: ref(dom, snaps(store.resolve(dom)).find(name)) };
    },
    DOMAIN_HAS_CURRENT_SNAPSHOT: ({ dom, flags }) => {
      checkFlags('testDomainHasCurrentSnapshot', flags, 0);
      return { result: snaps(store.resolve(dom)).current ? 1 : 0 };
    },
    DOMAIN_SNAPSHOT_CURRENT: ({ dom, flags }) => {
      checkFlags('testDomainSnapshotCurrent', flags, 0);
      const cur = snaps(store.resolve(dom)).current;
      if (!cur) throw noSnapshot('the domain does not have a current snapshot');
      return { snap: ref(dom, cur) };
    },
    DOMAIN_SNAPSHOT_GET_PARENT: ({ snap, flags }) => {
      checkFlags('testDomainSnapshotGetParent', flags, 0);
      const { s } = lookup(snap);
      if (s.parent === undefined) throw noSnapshot(`snapshot '${s.name}' does not have a parent`);
      return { snap: { name: s.parent, dom: snap.dom } };
    },
    DOMAIN_SNAPSHOT_GET_XML_DESC: ({ snap, flags }) => {
      checkFlags('testDomainSnapshotGetXMLDesc', flags, 1);
      return { xml: formatSnapshot(lookup(snap).s, (flags & 1) !== 0) };
    },
    DOMAIN_SNAPSHOT_IS_CURRENT: ({ snap, flags }) => {
      checkFlags('testDomainSnapshotIsCurrent', flags, 0);
      const { d, s } = lookup(snap);
      return { current: snaps(d).current === s ? 1 : 0 };
    },
    DOMAIN_SNAPSHOT_HAS_METADATA: ({ snap, flags }) => {
      checkFlags('testDomainSnapshotHasMetadata', flags, 0);
      lookup(snap);
      return { metadata: 1 };
    },
    DOMAIN_SNAPSHOT_CREATE_XML: ({ dom, xmlDesc, flags }) => {
      checkFlags('testDomainSnapshotCreateXML', flags, 1 | 2 | 8 | 64 | 128 | 256 | 512);
      const redefine = (flags & CREATE.REDEFINE) !== 0;
      const d = store.resolve(dom);
      if (hasCheckpoints(d)) throw operationUnsupported('cannot create snapshot while checkpoint exists');
      if (!d.persistent && flags & CREATE.HALT) throw operationInvalid('cannot halt after transient domain snapshot');
      const { snap } = xmlParse(() => parseSnapshotXml(xmlDesc, redefine));
      const list = snaps(d);
      if (redefine) {
        const old = list.get(snap.name);
        if (old) list.remove(old);
      } else {
        snap.domain = copyDef(d.def);
        snap.state = SNAP_STATES[d.state];
        const external = snap.memory.some(([k, v]) => k === 'snapshot' && v === 'external');
        if (!external) snap.memory = [['snapshot', d.state === State.SHUTOFF ? 'no' : 'internal']];
        snap.disks = d.def.devices.disks.map((disk) => ({
          name: 'disk',
          attrs: [['name', disk.targetDev], ['snapshot', disk.readonly || !disk.source ? 'no' : external ? 'external' : 'internal']],
        }));
        snap.parent = list.current?.name;
      }
      list.add(snap);
      if (!redefine && flags & CREATE.HALT && d.active) {
        store.shutdownState(d, ShutoffReason.FROM_SNAPSHOT);
        store.lifecycle(d, Lifecycle.STOPPED, Detail.STOPPED_FROM_SNAPSHOT);
      }
      if (!redefine || flags & CREATE.CURRENT) list.current = snap;
      list.link(snap);
      return { snap: ref(dom, snap) };
    },
    DOMAIN_SNAPSHOT_DELETE: ({ snap, flags }) => {
      checkFlags('testDomainSnapshotDelete', flags, 1 | 4);
      const { d, s } = lookup(snap);
      const list = snaps(d);
      const parent = list.parentOf(s);
      if (flags & 5) {
        let wasCurrent = false;
        for (const c of list.descendants(s)) {
          wasCurrent ||= list.current === c;
          list.remove(c);
        }
        s.children = [];
        if (wasCurrent) list.current = s;
      } else if (s.children.length) {
        for (const c of s.children) {
          c.parent = parent?.name;
          if (parent) parent.children.push(c);
        }
        s.children = [];
      }
      if (!(flags & 4)) {
        if (parent) parent.children = parent.children.filter((c) => c !== s);
        const cur = list.current === s;
        list.remove(s);
        if (cur) list.current = parent;
      }
    },
    DOMAIN_REVERT_TO_SNAPSHOT: ({ snap, flags }) => {
      checkFlags('testDomainRevertToSnapshot', flags, 1 | 2 | 4);
      const { d, s } = lookup(snap);
      revert(store, d, s, flags);
    },
  };
}

/** testDomainRevertToSnapshot as libvirt 9.0 behaves: a live revert restarts the guest. */
function revert(store: DomainStore, d: DomainObj, s: Snapshot, flags: number): void {
  const RUNNING = 1;
  const PAUSED = 2;
  const FORCE = 4;
  const snapLive = s.state === 'running' || s.state === 'paused';
  if (!d.persistent && !snapLive && !(flags & (RUNNING | PAUSED))) {
    throw operationInvalid('transient domain needs to request run or pause to revert to inactive snapshot');
  }
  if (!(flags & FORCE)) {
    if (!s.domain) throw revertRisky(`snapshot '${s.name}' lacks domain '${d.name}' rollback info`);
    if (d.active && !snapLive && flags & (RUNNING | PAUSED)) throw revertRisky('must respawn guest to start inactive snapshot');
  }
  const list = d.snapshots as SnapshotList;
  list.current = undefined;
  const config = s.domain ? copyDef(s.domain) : d.persistentDef();
  const assign = (): void => {
    if (d.active) d.newDef = config;
    else d.def = config;
  };
  if (snapLive) {
    if (d.active) {
      store.shutdownState(d, ShutoffReason.FROM_SNAPSHOT);
      store.lifecycle(d, Lifecycle.STOPPED, Detail.STOPPED_FROM_SNAPSHOT);
    }
    assign();
    store.startState(d, RunningReason.FROM_SNAPSHOT);
    store.lifecycle(d, Lifecycle.STARTED, Detail.STARTED_FROM_SNAPSHOT);
    if (!(flags & RUNNING) && (s.state === 'paused' || flags & PAUSED)) {
      d.state = State.PAUSED;
      d.reason = PausedReason.FROM_SNAPSHOT;
      store.lifecycle(d, Lifecycle.SUSPENDED, Detail.SUSPENDED_FROM_SNAPSHOT);
    }
  } else {
    assign();
    if (d.active) {
      store.shutdownState(d, ShutoffReason.FROM_SNAPSHOT);
      d.def = config;
      store.lifecycle(d, Lifecycle.STOPPED, Detail.STOPPED_FROM_SNAPSHOT);
    }
    // libvirt 9.0 announces the start but leaves the domain shut off.
    if (flags & (RUNNING | PAUSED)) {
      store.lifecycle(d, Lifecycle.STARTED, Detail.STARTED_FROM_SNAPSHOT);
      if (flags & PAUSED) store.lifecycle(d, Lifecycle.SUSPENDED, Detail.SUSPENDED_FROM_SNAPSHOT);
    }
  }
  list.current = s;
}
