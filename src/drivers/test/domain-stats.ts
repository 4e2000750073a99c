// CONNECT_GET_ALL_DOMAIN_STATS: libvirt 9.0's test driver reports two groups, "state" and
// (for running domains) "iothread"; domains are picked by the list filters like
// CONNECT_LIST_ALL_DOMAINS. Output checked with virsh domstats against test:///default.
import type { DriverMethods } from '../../api/driver.js';
import type { RemoteTypedParam } from '../../protocol/gen/remote.js';
import type { DomainObj } from './domain-obj.js';
import { State } from './domain-obj.js';
import type { DomainStore } from './domains.js';
import { argumentUnsupported } from './errors.js';
import { readIothreads } from './cputune.js';
import { iothreadPoll } from './domain-pinning.js';
import { ParamType } from './typed-params.js';

const STATS_STATE = 1;
const STATS_IOTHREAD = 128;
const SUPPORTED = STATS_STATE | STATS_IOTHREAD;
const ENFORCE_STATS = 0x80000000;

const int = (field: string, i: number): RemoteTypedParam => ({ field, value: { type: ParamType.INT, i } });
const uint = (field: string, ui: number): RemoteTypedParam => ({ field, value: { type: ParamType.UINT, ui } });
const ullong = (field: string, ul: bigint): RemoteTypedParam => ({ field, value: { type: ParamType.ULLONG, ul } });

/** virDomainObjListFilter's groups: each pair/quad filters only when one of its bits is set. */
function matches(d: DomainObj, flags: number): boolean {
  const pick = (bits: number, on: boolean[]): boolean => (flags & bits) === 0 || on.some(Boolean);
  const st = d.state;
  return (
    pick(3, [(flags & 1) !== 0 && d.active, (flags & 2) !== 0 && !d.active]) &&
    pick(12, [(flags & 4) !== 0 && d.persistent, (flags & 8) !== 0 && !d.persistent]) &&
    pick(240, [
      (flags & 16) !== 0 && st === State.RUNNING,
      (flags & 32) !== 0 && st === State.PAUSED,
      (flags & 64) !== 0 && st === State.SHUTOFF,
      (flags & 128) !== 0 && st !== State.RUNNING && st !== State.PAUSED && st !== State.SHUTOFF,
    ])
  );
}

function stats(d: DomainObj, groups: number): RemoteTypedParam[] {
  const out: RemoteTypedParam[] = [];
  if (groups & STATS_STATE) out.push(int('state.state', d.state), int('state.reason', d.reason));
  if (groups & STATS_IOTHREAD && d.active) {
    const ids = readIothreads(d.def);
    if (ids.length) {
      out.push(uint('iothread.count', ids.length));
      for (const { id } of ids) {
        const p = iothreadPoll(d, id);
        out.push(ullong(`iothread.${id}.poll-max-ns`, p.maxNs), uint(`iothread.${id}.poll-grow`, p.grow), uint(`iothread.${id}.poll-shrink`, p.shrink));
      }
    }
  }
  return out;
}

export function domainStatsMethods(store: DomainStore): DriverMethods {
  return {
    CONNECT_GET_ALL_DOMAIN_STATS: ({ doms, stats: wanted, flags }) => {
      if (flags & ENFORCE_STATS && wanted & ~SUPPORTED) {
        throw argumentUnsupported(`Stats types bits 0x${(wanted & ~SUPPORTED).toString(16)} are not supported by this daemon`);
      }
      const groups = wanted === 0 ? SUPPORTED : wanted & SUPPORTED;
      const list = doms.length ? doms.map((h) => store.resolve(h)) : [...store.list.all()];
      return { retStats: list.filter((d) => matches(d, flags)).map((d) => ({ dom: d.handle(), params: stats(d, groups) })) };
    },
  };
}
