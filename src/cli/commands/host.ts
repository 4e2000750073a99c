// Host commands, events, and the QEMU commands (qemu.ts).
import { DomainEventID } from '../../api/events.js';
import type { DomainEvent } from '../../api/connection.js';
import { asVirError, attempt, CliError, type Ctl, type Opts } from '../ctl.js';
import { pumpEvents, stamp } from '../event-loop.js';
import { domainOpt } from '../lookup.js';
import { QEMU_COMMANDS } from './qemu.js';
import type { CommandTable } from './types.js';

/** The libvirt we present ourselves as. */
const LIB_VERSION = '9.0.0';

function versionText(v: bigint): string {
  const n = Number(v);
  return `${Math.floor(n / 1_000_000)}.${Math.floor((n % 1_000_000) / 1000)}.${n % 1000}`;
}

async function version(ctl: Ctl, o: Opts): Promise<void> {
  const c = ctl.connection;
  let out = `Compiled against library: libvirt ${LIB_VERSION}\nUsing library: libvirt ${LIB_VERSION}\n`;
  const type = await attempt(c.type(), 'failed to get hypervisor type');
  out += `Using API: ${type} ${LIB_VERSION}\n`;
  const hv = await attempt(c.version(), 'failed to get the hypervisor version');
  out += hv === 0n ? `Cannot extract running ${type} hypervisor version\n` : `Running hypervisor: ${type} ${versionText(hv)}\n`;
  if (o.bool('daemon')) {
    try {
      out += `Running against daemon: ${versionText(await c.libVersion())}\n`;
    } catch (e) {
      ctl.print(out);
      throw new CliError('failed to get the daemon version', asVirError(e));
    }
  }
  ctl.print(out);
}

async function nodeinfo(ctl: Ctl): Promise<void> {
  const i = await attempt(ctl.connection.nodeInfo(), 'failed to get node information');
  const l = (k: string, v: string | number) => `${k.padEnd(20)} ${v}\n`;
  ctl.print(
    l('CPU model:', i.model) + l('CPU(s):', i.cpus) + l('CPU frequency:', `${i.mhz} MHz`) + l('CPU socket(s):', i.sockets) +
      l('Core(s) per socket:', i.cores) + l('Thread(s) per core:', i.threads) + l('NUMA cell(s):', i.nodes) + l('Memory size:', `${i.memory} KiB`),
  );
}

const LIFECYCLE_EVENTS = ['Defined', 'Undefined', 'Started', 'Suspended', 'Resumed', 'Stopped', 'Shutdown', 'PMSuspended', 'Crashed'];
const LIFECYCLE_DETAILS: readonly (readonly string[])[] = [
  ['Added', 'Updated', 'Renamed', 'Snapshot'],
  ['Removed', 'Renamed'],
  ['Booted', 'Migrated', 'Restored', 'Snapshot', 'Event wakeup'],
  ['Paused', 'Migrated', 'I/O Error', 'Watchdog', 'Restored', 'Snapshot', 'API error', 'Post-copy', 'Post-copy Error'],
  ['Unpaused', 'Migrated', 'Snapshot', 'Post-copy', 'Post-copy Error'],
  ['Shutdown', 'Destroyed', 'Crashed', 'Migrated', 'Saved', 'Failed', 'Snapshot'],
  ['Finished', 'Finished after guest request', 'Finished after host request'],
  ['Memory', 'Disk'],
  ['Panicked', 'Crashloaded'],
];

/** Domain event names virsh knows, in its order (event --list). */
const EVENT_NAMES = [
  'lifecycle', 'reboot', 'rtc-change', 'watchdog', 'io-error', 'graphics', 'io-error-reason', 'control-error', 'block-job', 'disk-change',
  'tray-change', 'pm-wakeup', 'pm-suspend', 'balloon-change', 'pm-suspend-disk', 'device-removed', 'block-job-2', 'tunable', 'agent-lifecycle',
  'device-added', 'migration-iteration', 'job-completed', 'device-removal-failed', 'metadata-change', 'block-threshold', 'memory-failure',
  'memory-device-size-change',
];

function eventText(ev: DomainEvent): string | null {
  if (ev.kind === 'lifecycle') {
    const name = LIFECYCLE_EVENTS[ev.event] ?? 'unknown';
    const detail = LIFECYCLE_DETAILS[ev.event]?.[ev.detail] ?? 'unknown';
    return `event 'lifecycle' for domain '${ev.domain.name}': ${name} ${detail}\n`;
  }
  if (ev.eventID === DomainEventID.REBOOT && ev.domain) return `event 'reboot' for domain '${ev.domain.name}'\n`;
  return null;
}

async function event(ctl: Ctl, o: Opts): Promise<void> {
  if (o.bool('list')) {
    ctl.print(EVENT_NAMES.map((n) => `${n}\n`).join(''));
    return;
  }
  const name = o.string('event');
  const all = o.bool('all');
  if (!all && name === undefined) throw new CliError('one of --list, --all, or --event <type> is required');
  if (all && name !== undefined) throw new CliError('Options --all and --event are mutually exclusive');
  let ids: DomainEventID[];
  if (all) ids = [DomainEventID.LIFECYCLE, DomainEventID.REBOOT];
  else {
    const idx = EVENT_NAMES.indexOf(name!);
    if (idx < 0) throw new CliError(`unknown event type ${name}`);
    ids = [idx as DomainEventID];
  }
  const timeout = o.int('timeout');
  if (timeout !== undefined && timeout < 1) throw new CliError(`invalid timeout value ${timeout}`);
  const dom = o.has('domain') ? await domainOpt(ctl, o) : undefined;
  const loop = o.bool('loop');
  const stream = await attempt(ctl.connection.domainEvents({ domain: dom, events: ids }), 'failed to register event callback');
  const timestamps = o.bool('timestamp');
  const { count, timedOut, interrupted } = await pumpEvents(stream, { timeoutSec: timeout, loop }, (ev) => {
    const text = eventText(ev);
    if (text === null) return false;
    ctl.print((timestamps ? stamp() : '') + text);
    return true;
  });
  if (timedOut && !interrupted) ctl.print('event loop timed out\n');
  ctl.printExtra(`events received: ${count}\n`);
  // A timed-out wait counts as a failure in virsh (exit code 1), with nothing more said.
  if (timedOut && !interrupted) throw new CliError('');
}

export const HOST_COMMANDS: CommandTable = {
  version,
  uri: async (ctl) => {
    ctl.print(`${ctl.connection.uri}\n`);
  },
  hostname: async (ctl) => {
    ctl.print(`${await attempt(ctl.connection.hostname(), 'failed to get hostname')}\n`);
  },
  nodeinfo,
  capabilities: async (ctl) => {
    ctl.print(`${await attempt(ctl.connection.capabilities(), 'failed to get capabilities')}\n`);
  },
  event,
  ...QEMU_COMMANDS,
};
