// The QEMU driver's state (libvirt's virQEMUDriver): domains loaded from the config directory,
// guests found again from their status files, the event bus, the capability cache; and the
// lifecycle: start, stop, and the reaction to every monitor event and to process exit.
import { existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { QemuMonitorEventListener } from '../../api/driver.js';
import type { DomainDef } from '../../api/xml/domain/types.js';
import { formatDomain } from '../../api/xml/domain/format.js';
import { parseDomainXml } from '../../api/xml/domain/parse.js';
import type { QmpEvent } from '../../qmp/index.js';
import type { RemoteNonnullDomain } from '../../protocol/gen/remote.js';
import { kvmUsable, loadQemuCaps, machineAliases, type QemuCaps } from './caps.js';
import { buildQemuCommand } from './command/index.js';
import { noDomainUuid, systemError, internalError, operationInvalid, xmlParse } from './errors.js';
import { Detail, EventBus, Lifecycle, lifecycleEvent, migrationIterationEvent, rebootEvent } from './events.js';
import { writeFileAtomic, xmlNamesIn } from './files.js';
import type { QemuPaths } from './paths.js';
import { QemuProcess, spawnQemu, type ProcessTimeouts } from './process.js';
import { plugStartupVcpus } from './hotplug/vcpu.js';
import { applyBalloonPeriod } from './stats-qmp.js';
import { readStatus, removeStatus, statusFile, writeStatus } from './status.js';
import { SaveDetail } from './save-image.js';
import { startFromManagedSave } from './save.js';
import {
  CrashedReason, DomainList, PausedReason, QemuDomain, RunningReason, ShutdownReason, ShutoffReason, State, Taint,
} from './domain-obj.js';
import { attachedDomainXml, attachToPid } from './attach.js';
import { uuidText } from './uuid.js';
import { assignLiveNames, holdVncPort, needsVncPort, readPtys, releaseVncPort, reserveVncPort, setDacLabel, vncPortClash } from './live-xml.js';

export interface QemuDriverOptions {
  readonly paths: QemuPaths;
  readonly timeouts: ProcessTimeouts;
  /** Start autostart domains during init (the daemon does; tests may not). */
  readonly autostart: boolean;
}

/** Timeouts from the environment (tests shorten them), with libvirt-like defaults. */
export function timeoutsFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): ProcessTimeouts {
  const num = (v: string | undefined, d: number) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : d);
  return {
    connectMs: num(env.TSVIRT_QEMU_CONNECT_TIMEOUT_MS, 30_000),
    commandMs: num(env.TSVIRT_QEMU_MONITOR_TIMEOUT_MS, 30_000),
    killGraceMs: num(env.TSVIRT_QEMU_KILL_GRACE_MS, 10_000),
  };
}

/**
 * A start that loads a saved state instead of booting: QEMU runs with -incoming defer and
 * `load` feeds it the migration stream; the guest then runs unless `paused`.
 */
export interface IncomingStart {
  load(proc: QemuProcess, migrateSocket: string): Promise<void>;
  readonly paused: boolean;
}

/** Starts tried when QEMU finds its VNC port taken (the port check and QEMU's bind can race). */
const VNC_START_ATTEMPTS = 3;

export class QemuDriverState {
  readonly events = new EventBus();
  /** Listeners of every domain's raw QMP events (the QEMU program's monitor events). */
  readonly monitorListeners = new Set<QemuMonitorEventListener>();
  /** Told of QEMU's DEVICE_DELETED for a device with an id (hot-unplug finished), by alias. */
  readonly deviceDeletedListeners = new Set<(dom: QemuDomain, alias: string) => void>();
  readonly list = new DomainList();
  private nextId = 1;
  private capsPromise: Promise<QemuCaps> | null = null;

  constructor(readonly opts: QemuDriverOptions) {}

  get paths(): QemuPaths {
    return this.opts.paths;
  }

  /** The domain a wire handle names (by UUID), or libvirt's "no domain with matching uuid". */
  domain(h: RemoteNonnullDomain): QemuDomain {
    const u = uuidText(h.uuid);
    const d = this.list.findByUuid(u);
    if (!d) throw noDomainUuid(u, h.name);
    return d;
  }

  lifecycle(dom: QemuDomain, event: number, detail: number): void {
    this.events.emit(lifecycleEvent(dom.handle(), event, detail));
  }

  /** Capabilities of the default emulator, probed once and cached on disk like libvirt's. */
  caps(): Promise<QemuCaps> {
    this.capsPromise ??= loadQemuCaps(this.paths.binary, { cacheDir: this.paths.cacheDir });
    this.capsPromise.catch(() => (this.capsPromise = null));
    return this.capsPromise;
  }

  // ---- definitions on disk ------------------------------------------------------------------

  configFile(name: string): string {
    return join(this.paths.configDir, `${name}.xml`);
  }

  autostartLink(name: string): string {
    return join(this.paths.autostartDir, `${name}.xml`);
  }

  saveConfig(def: DomainDef): void {
    writeFileAtomic(this.configFile(def.name), formatDomain(def, { inactive: true, secure: true }));
  }

  deleteConfig(name: string): void {
    rmSync(this.configFile(name), { force: true });
    rmSync(this.autostartLink(name), { force: true });
  }

  setAutostart(dom: QemuDomain, on: boolean): void {
    const link = this.autostartLink(dom.name);
    if (on) {
      mkdirSync(this.paths.autostartDir, { recursive: true, mode: 0o755 });
      rmSync(link, { force: true });
      symlinkSync(this.configFile(dom.name), link);
    } else {
      rmSync(link, { force: true });
    }
    dom.autostart = on;
  }

  // ---- start-up: load configs, reconnect to running guests, autostart ------------------------

  async init(): Promise<void> {
    for (const dir of [this.paths.configDir, this.paths.stateDir, this.paths.logDir]) mkdirSync(dir, { recursive: true, mode: 0o755 });
    for (const name of xmlNamesIn(this.paths.configDir)) {
      try {
        const def = parseDomainXml(readFileSync(this.configFile(name), 'utf8'));
        const { dom } = this.list.add(def, false);
        dom.persistent = true;
        dom.autostart = isLink(this.autostartLink(name));
      } catch {
        // A damaged file is skipped, as libvirt skips it with a log message.
      }
    }
    await Promise.all(xmlNamesIn(this.paths.stateDir).map((name) => this.reconnect(name)));
    if (this.opts.autostart) {
      for (const dom of [...this.list.all()]) {
        // As libvirt's autostart: a managed save image is restored rather than booted over.
        if (!dom.autostart || dom.active) continue;
        await dom.withJob(async () => (await startFromManagedSave(this, dom, 0)) || this.start(dom)).catch(() => undefined);
      }
    }
  }

  /** qemuProcessReconnect: a guest from a status file whose process and monitor still answer. */
  private async reconnect(name: string): Promise<void> {
    const file = statusFile(this.paths.stateDir, name);
    const st = readStatus(file);
    if (!st) return void rmSync(file, { force: true });
    let def: DomainDef;
    try {
      def = parseDomainXml(st.domainXml, { status: true });
    } catch {
      return void rmSync(file, { force: true });
    }
    const existing = this.list.findByUuid(def.uuid);
    const dom = existing ?? this.list.add(def, true).dom;
    if (existing) {
      dom.newDef = existing.def;
      dom.def = def;
    }
    const proc = new QemuProcess(st.pid, st.monitorPath, st.logPath, null, this.opts.timeouts);
    proc.starting = false;
    // Only a process still running this guest counts; the pid may have been reused.
    const alive = cmdlineOf(st.pid).includes(def.uuid);
    try {
      // A start the previous daemon never finished is not resumed (libvirt stops it too).
      if (!alive || (st.state === State.PAUSED && st.reason === PausedReason.STARTING_UP)) throw new Error('gone');
      dom.proc = proc;
      dom.state = st.state;
      dom.reason = st.reason;
      def.currentMemoryKiB = BigInt(st.currentMemoryKiB);
      this.list.setId(dom, st.id);
      this.nextId = Math.max(this.nextId, st.id + 1);
      await proc.reconnectMonitor(this.hooks(dom, proc));
      // Catch up with what happened while nobody watched.
      const status = await proc.command<{ status: string; running: boolean }>('query-status', undefined, name);
      if (status.running && dom.state === State.PAUSED) this.setState(dom, State.RUNNING, RunningReason.UNPAUSED);
      if (!status.running && dom.state === State.RUNNING) this.setState(dom, State.PAUSED, PausedReason.UNKNOWN);
      if (status.status === 'shutdown') proc.gotShutdown = true;
    } catch {
      if (alive) proc.signal('SIGKILL');
      dom.proc = null;
      this.cleanupStopped(dom, ShutoffReason.FAILED, proc);
    }
  }

  // ---- start ----------------------------------------------------------------------------------

  /** qemuProcessStart: argv, spawn paused, monitor, cont. Leaves nothing behind on failure. */
  async start(dom: QemuDomain, incoming?: IncomingStart): Promise<void> {
    // Checked and claimed before the first await: two starts of one domain never both spawn.
    if (dom.active || dom.proc || dom.starting) throw operationInvalid(`domain '${dom.name}' is already active`);
    dom.starting = true;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.startClaimed(dom, incoming);
          return;
        } catch (e) {
          // Another program took the VNC port between our check and QEMU's bind: skip it, retry.
          const clash = vncPortClash(e);
          if (clash === undefined || attempt >= VNC_START_ATTEMPTS) throw e;
          holdVncPort(clash);
        }
      }
    } finally {
      dom.starting = false;
    }
  }

  private async startClaimed(dom: QemuDomain, incoming?: IncomingStart): Promise<void> {
    const caps = await this.caps();
    if (dom.persistent && !dom.newDef) dom.newDef = dom.def;
    const def = copyDef(dom.def);
    dom.def = def;
    const id = this.nextId++;
    const monitorPath = join(this.paths.stateDir, `domain-${id}-${def.name.slice(0, 20)}.monitor`);
    const logPath = join(this.paths.logDir, `${def.name}.log`);
    let proc: QemuProcess | null = null;
    let restoredEvent = false;
    let vncPort: number | undefined;
    try {
      checkDisks(def);
      if (needsVncPort(def)) vncPort = await reserveVncPort();
      const { argv } = buildQemuCommand(def, {
        ...(vncPort !== undefined ? { vncPort } : {}),
        binary: this.paths.binary,
        version: caps.version,
        kvmUsable: def.type === 'kvm' ? await kvmUsable() : false,
        machineAliases: machineAliases(caps),
        monitorPath,
        ...(incoming ? { incoming: 'defer' } : {}),
      });
      // The live XML names devices as the command line does.
      assignLiveNames(def);
      if (vncPort !== undefined) def.devices.graphics[0].livePort = vncPort;
      setDacLabel(def);
      rmSync(monitorPath, { force: true });
      mkdirSync(this.paths.logDir, { recursive: true, mode: 0o755 });
      const { child, logFrom } = spawnQemu(argv, logPath);
      if (child.pid === undefined) throw internalError(`failed to start ${argv[0]}`);
      proc = new QemuProcess(child.pid, monitorPath, logPath, child, this.opts.timeouts);
      dom.proc = proc;
      this.list.setId(dom, id);
      // QEMU runs as the daemon's own user: as root, libvirt's check calls that elevated.
      if (process.getuid?.() === 0) dom.taints.add(Taint.HIGH_PRIVILEGES);
      dom.state = State.PAUSED;
      dom.reason = PausedReason.STARTING_UP;
      // Recorded at once: a daemon dying mid-start leaves a status file, not an unknown QEMU.
      this.saveStatus(dom);
      await proc.connectMonitor(this.hooks(dom, proc), logFrom, def.name);
      await proc.command('query-status', undefined, def.name);
      // QEMU listens on its VNC port by now: the bind check sees it from here on.
      releaseVncPort(vncPort);
      await readPtys(proc, def);
      // As libvirt: hot-plugged vCPUs and the balloon's stats period are set up before the guest runs.
      await plugStartupVcpus(dom);
      await applyBalloonPeriod(dom, proc);
      if (incoming) {
        await incoming.load(proc, monitorPath.replace(/\.monitor$/, '.migrate'));
        restoredEvent = true;
        this.lifecycle(dom, Lifecycle.STARTED, SaveDetail.STARTED_RESTORED);
      }
      if (incoming?.paused) {
        this.setState(dom, State.PAUSED, PausedReason.MIGRATION);
        this.lifecycle(dom, Lifecycle.SUSPENDED, SaveDetail.SUSPENDED_RESTORED);
      } else {
        const reason = incoming ? RunningReason.RESTORED : RunningReason.BOOTED;
        proc.runningReason = reason;
        await proc.command('cont', undefined, def.name);
        // QEMU sends RESUME before cont's reply; cover a monitor that did not.
        if (dom.state !== State.RUNNING) {
          this.setState(dom, State.RUNNING, reason);
          this.lifecycle(dom, Lifecycle.RESUMED, resumedDetail(reason));
        }
      }
      if (proc.isEnded) throw internalError(`guest '${def.name}' exited during start-up`);
      proc.starting = false;
      this.saveStatus(dom);
    } catch (err) {
      releaseVncPort(vncPort);
      if (proc) {
        proc.beingDestroyed = true;
        proc.signal('SIGKILL');
        await proc.waitEnded();
      }
      if (proc === null) {
        // Nothing ran: only the live copy of the definition goes.
        if (dom.newDef) dom.def = dom.newDef;
        dom.newDef = undefined;
      } else if (dom.proc === proc) {
        dom.proc = null;
        this.cleanupStopped(dom, ShutoffReason.FAILED, proc);
        if (restoredEvent) this.lifecycle(dom, Lifecycle.STOPPED, Detail.STOPPED_FAILED);
      }
      throw err;
    }
    if (!incoming) this.lifecycle(dom, Lifecycle.STARTED, Detail.STARTED_BOOTED);
  }

  /**
   * virDomainQemuAttach: a QEMU started elsewhere becomes a running transient domain watched
   * through its own QMP socket (destroy still ends it).
   */
  async adopt(pid: number, opts: { timeoutMs?: number; onlyNew?: boolean } = {}): Promise<QemuDomain> {
    const { guest, qmp } = await attachToPid(pid, { timeoutMs: opts.timeoutMs ?? this.opts.timeouts.connectMs });
    // A QMP chardev serves one client at a time: the domain's process opens its own below.
    await qmp.close().catch(() => undefined);
    // Discovery never takes over a name or UUID the driver already knows.
    if (opts.onlyNew && (this.list.findByUuid(guest.uuid) || this.list.findByName(guest.name))) {
      throw internalError(`QEMU process ${pid} clashes with domain '${guest.name}'`);
    }
    const id = this.nextId++;
    const def = xmlParse(() => parseDomainXml(attachedDomainXml(guest, id)));
    const { dom } = this.list.add(def, true);
    const proc = new QemuProcess(pid, guest.qmpPath, join(this.paths.logDir, `${def.name}.log`), null, this.opts.timeouts);
    proc.starting = false;
    dom.proc = proc;
    this.list.setId(dom, id);
    dom.state = guest.running ? State.RUNNING : State.PAUSED;
    dom.reason = guest.running ? RunningReason.UNKNOWN : PausedReason.UNKNOWN;
    dom.taints.add(Taint.EXTERNAL_LAUNCH);
    try {
      await proc.reconnectMonitor(this.hooks(dom, proc));
    } catch (e) {
      dom.proc = null;
      // Not ours: leave the process and its socket alone.
      this.cleanupStopped(dom, ShutoffReason.FAILED, null);
      throw internalError(`cannot reconnect to the monitor of QEMU process ${pid}: ${(e as Error).message}`);
    }
    this.saveStatus(dom);
    return dom;
  }

  saveStatus(dom: QemuDomain): void {
    const p = dom.proc;
    if (!p || p.isEnded) return;
    writeStatus(this.paths.stateDir, dom.name, {
      state: dom.state, reason: dom.reason, pid: p.pid, id: dom.id, monitorPath: p.monitorPath, logPath: p.logPath,
      currentMemoryKiB: String(dom.def.currentMemoryKiB), domainXml: formatDomain(dom.def, { id: dom.id }),
    });
  }

  setState(dom: QemuDomain, state: number, reason: number): void {
    dom.state = state;
    dom.reason = reason;
    this.saveStatus(dom);
  }

  // ---- stop -----------------------------------------------------------------------------------

  /** qemuProcessStop: back to the persistent definition, files removed, transient ones dropped. */
  private cleanupStopped(dom: QemuDomain, reason: number, proc: QemuProcess | null): void {
    if (proc) rmSync(proc.monitorPath, { force: true });
    removeStatus(this.paths.stateDir, dom.name);
    if (dom.newDef) {
      dom.def = dom.newDef;
      dom.newDef = undefined;
    }
    dom.state = State.SHUTOFF;
    dom.reason = reason;
    dom.taints.clear();
    this.list.setId(dom, -1);
    if (!dom.persistent) this.list.remove(dom);
  }

  /** destroy: SIGTERM, SIGKILL after the grace period, returns once QEMU has exited. */
  async destroy(dom: QemuDomain, reason: number = ShutoffReason.DESTROYED, detail: number = Detail.STOPPED_DESTROYED): Promise<void> {
    const proc = dom.proc;
    if (!proc) return;
    proc.beingDestroyed = true;
    await proc.kill();
    if (dom.proc !== proc) return;
    dom.proc = null;
    this.cleanupStopped(dom, reason, proc);
    this.lifecycle(dom, Lifecycle.STOPPED, detail);
  }

  /** The process ended without destroy: a shutdown, a crash, or an on_crash destroy. */
  private processEnded(dom: QemuDomain, proc: QemuProcess): void {
    if (proc.beingDestroyed || proc.starting || dom.proc !== proc) return;
    dom.proc = null;
    let reason: number = ShutoffReason.SHUTDOWN;
    let detail: number = Detail.STOPPED_SHUTDOWN;
    if (proc.crashed) {
      reason = ShutoffReason.CRASHED;
      detail = Detail.STOPPED_CRASHED;
    } else if (!proc.gotShutdown) {
      reason = ShutoffReason.CRASHED;
      detail = Detail.STOPPED_FAILED;
    }
    this.cleanupStopped(dom, reason, proc);
    this.lifecycle(dom, Lifecycle.STOPPED, detail);
  }

  // ---- monitor events -------------------------------------------------------------------------

  private hooks(dom: QemuDomain, proc: QemuProcess): { onEvent(ev: QmpEvent): void; onEnd(): void } {
    return {
      onEvent: (ev) => {
        if (dom.proc !== proc) return;
        this.onMonitorEvent(dom, proc, ev);
        this.forwardMonitorEvent(dom, ev);
      },
      onEnd: () => this.processEnded(dom, proc),
    };
  }

  private forwardMonitorEvent(dom: QemuDomain, ev: QmpEvent): void {
    if (this.monitorListeners.size === 0) return;
    // The parser turns a missing "data" into {}: treat that as none, as libvirt sends NULL then.
    const details = Object.keys(ev.data).length > 0 ? JSON.stringify(ev.data) : null;
    const msg = {
      dom: dom.handle(), event: ev.event, seconds: BigInt(ev.timestamp.seconds), micros: ev.timestamp.microseconds, details,
    };
    for (const l of [...this.monitorListeners]) l(msg);
  }

  private onMonitorEvent(dom: QemuDomain, proc: QemuProcess, ev: QmpEvent): void {
    const data = (ev.data ?? {}) as Record<string, unknown>;
    switch (ev.event) {
      case 'STOP': {
        // QEMU pauses after SHUTDOWN (-no-shutdown); that pause is not the user's.
        if (proc.gotShutdown || dom.state !== State.RUNNING) return;
        const reason = proc.pausedReason ?? PausedReason.UNKNOWN;
        proc.pausedReason = undefined;
        this.setState(dom, State.PAUSED, reason);
        this.lifecycle(dom, Lifecycle.SUSPENDED, Detail.SUSPENDED_PAUSED);
        return;
      }
      case 'RESUME': {
        if (dom.state === State.RUNNING) return;
        const reason = proc.runningReason ?? RunningReason.UNPAUSED;
        proc.runningReason = undefined;
        this.setState(dom, State.RUNNING, reason);
        this.lifecycle(dom, Lifecycle.RESUMED, resumedDetail(reason));
        return;
      }
      case 'SHUTDOWN': {
        // QEMU repeats SHUTDOWN when our SIGTERM follows the guest's; libvirt ignores repeats.
        if (dom.state === State.SHUTDOWN) return;
        proc.gotShutdown = true;
        const guest = data.guest;
        const detail = guest === true ? Detail.SHUTDOWN_GUEST : guest === false ? Detail.SHUTDOWN_HOST : Detail.SHUTDOWN_FINISHED;
        this.setState(dom, State.SHUTDOWN, ShutdownReason.UNKNOWN);
        this.lifecycle(dom, Lifecycle.SHUTDOWN, detail);
        if (proc.beingDestroyed) return;
        if (proc.fakeReboot) void this.fakeReboot(dom, proc);
        else if (dom.def.onPoweroff !== 'preserve') proc.signal('SIGTERM');
        return;
      }
      case 'RESET':
        this.events.emit(rebootEvent(dom.handle()));
        return;
      case 'DEVICE_DELETED': {
        const alias = data.device;
        if (typeof alias === 'string' && alias !== '') for (const l of [...this.deviceDeletedListeners]) l(dom, alias);
        return;
      }
      case 'MIGRATION_PASS': {
        if (typeof data.pass === 'number') this.events.emit(migrationIterationEvent(dom.handle(), data.pass));
        return;
      }
      case 'GUEST_PANICKED': {
        this.setState(dom, State.CRASHED, CrashedReason.PANICKED);
        this.lifecycle(dom, Lifecycle.CRASHED, Detail.CRASHED_PANICKED);
        if (dom.def.onCrash === 'destroy' || dom.def.onCrash === '') {
          proc.crashed = true;
          proc.signal('SIGKILL');
        }
        return;
      }
      case 'BALLOON_CHANGE': {
        const actual = data.actual;
        if (typeof actual === 'number') {
          dom.def.currentMemoryKiB = BigInt(Math.floor(actual / 1024));
          this.saveStatus(dom);
        }
        return;
      }
      default:
        return;
    }
  }

  /** The guest powered off for a reboot: reset and let it run again (libvirt's fake reboot). */
  private async fakeReboot(dom: QemuDomain, proc: QemuProcess): Promise<void> {
    proc.fakeReboot = false;
    try {
      await proc.command('system_reset', undefined, dom.name);
      proc.gotShutdown = false;
      proc.runningReason = RunningReason.BOOTED;
      await proc.command('cont', undefined, dom.name);
    } catch {
      proc.signal('SIGTERM');
    }
  }
}

/** virDomainDefCopy: by formatting and parsing, so live changes never touch the persistent one. */
export function copyDef(def: DomainDef): DomainDef {
  const copy = xmlParse(() => parseDomainXml(formatDomain(def, { inactive: true, secure: true })));
  copy.uuid = def.uuid;
  copy.currentMemoryKiB = def.currentMemoryKiB;
  return copy;
}

/** A restored guest resumes "from snapshot", any other "unpaused" (as libvirt reports them). */
function resumedDetail(reason: number): number {
  return reason === RunningReason.RESTORED ? SaveDetail.RESUMED_FROM_SNAPSHOT : Detail.RESUMED_UNPAUSED;
}

function isLink(path: string): boolean {
  try {
    readlinkSync(path);
    return true;
  } catch {
    return existsSync(path);
  }
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

/** libvirt checks file-backed disks before spawning QEMU. */
function checkDisks(def: DomainDef): void {
  for (const d of def.devices.disks) {
    if (d.type !== 'file' || !d.source) continue;
    const file = d.source.attrs.find(([k]) => k === 'file')?.[1];
    if (file === undefined || file === '') continue;
    if (!existsSync(file)) {
      const uid = process.getuid?.() ?? 0;
      const gid = process.getgid?.() ?? 0;
      throw systemError(`Cannot access storage file '${file}' (as uid:${uid}, gid:${gid})`, { code: 'ENOENT' });
    }
  }
}
