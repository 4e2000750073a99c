// Save, restore and managed save (libvirt's qemuDomainSave*/Restore*/ManagedSave*): the guest
// is paused, migrated into a libvirt-format save image and stopped (shut off, reason saved);
// restore starts QEMU with -incoming and loads the image. Starting a domain with a managed save
// image restores it instead of booting (see domains.ts' create).
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { DriverMethods } from '../../api/driver.js';
import type { DomainDef } from '../../api/xml/domain/types.js';
import { formatDomain } from '../../api/xml/domain/format.js';
import { parseDomainXml } from '../../api/xml/domain/parse.js';
import type { RemoteNonnullDomain, RemoteTypedParam } from '../../protocol/gen/remote.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';
import { PausedReason, QemuDomain, RunningReason, ShutoffReason, State } from './domain-obj.js';
import {
  checkFlags, internalError, invalidArg, notRunning, operationDenied, operationFailed, operationInvalid, operationUnsupported, systemError, xmlParse,
} from './errors.js';
import { Detail, jobCompletedEvent, Lifecycle } from './events.js';
import { finishImage, managedSavePath, readSaveImage, SaveDetail, writeImageHeader, type SaveImage } from './save-image.js';
import { migrateFromFile, migrateToFile, saveJobStats } from './save-stream.js';
import type { IncomingStart, QemuDriverState } from './state.js';

/** virDomainSaveRestoreFlags. */
const SAVE_BYPASS_CACHE = 1;
const SAVE_RUNNING = 2;
const SAVE_PAUSED = 4;
const SAVE_FLAGS = SAVE_BYPASS_CACHE | SAVE_RUNNING | SAVE_PAUSED;
/** RESET_NVRAM: accepted, there is no NVRAM to reset for this driver's guests. */
const RESTORE_FLAGS = SAVE_FLAGS | 8;
/** virDomainCreateFlags this file acts on. */
const START_PAUSED = 1;
const START_FORCE_BOOT = 8;
const XML_SECURE = 1;

export function hasManagedSave(s: QemuDriverState, d: QemuDomain): boolean {
  return existsSync(managedSavePath(s.paths, d.name));
}

/**
 * Part of starting a domain (qemuDomainObjStart): restores its managed save image when there is
 * one, unless FORCE_BOOT discards it. Returns false when the caller should boot normally.
 */
export async function startFromManagedSave(s: QemuDriverState, d: QemuDomain, flags: number): Promise<boolean> {
  const path = managedSavePath(s.paths, d.name);
  if (!existsSync(path)) return false;
  if (flags & START_FORCE_BOOT) {
    removeManagedSave(path);
    return false;
  }
  let img: SaveImage;
  try {
    img = readSaveImage(path);
  } catch (e) {
    // An image whose save never finished is dropped and the domain boots, as libvirt does.
    if (e instanceof VirError && e.message.endsWith('save image is incomplete')) {
      removeManagedSave(path);
      return false;
    }
    throw e;
  }
  const def = imageDef(img);
  if (def.uuid !== d.uuid || def.name !== d.name) {
    throw operationFailed(`cannot restore domain '${d.name}' uuid ${d.uuid} from a file which belongs to domain '${def.name}' uuid ${def.uuid}`,
      VirErrorDomain.QEMU);
  }
  d.newDef = d.def;
  d.def = def;
  await s.start(d, incomingFrom(def, path, img, (flags & START_PAUSED) !== 0 || !img.wasRunning));
  // The guest runs, so the start succeeded: libvirt, too, only warns when the image stays.
  try {
    rmSync(path, { force: true });
  } catch {
    // Nothing to report through this call; managedsave-remove can still delete it.
  }
  return true;
}

/** virDomainUndefineFlags' part: a managed save image blocks undefine unless MANAGED_SAVE drops it. */
export function undefineManagedSave(s: QemuDriverState, d: QemuDomain, flags: number): void {
  const path = managedSavePath(s.paths, d.name);
  if (!existsSync(path)) return;
  if (!(flags & 1)) throw operationInvalid('Refusing to undefine while domain managed save image exists');
  try {
    rmSync(path);
  } catch {
    throw internalError('Failed to remove domain managed save image');
  }
}

/** The "file" and "dxml" strings of virDomainSaveParams/RestoreParams; anything else is refused. */
function saveParams(params: readonly RemoteTypedParam[]): { file: string | null; dxml: string | null } {
  const out: { file: string | null; dxml: string | null } = { file: null, dxml: null };
  for (const p of params) {
    if ((p.field !== 'file' && p.field !== 'dxml') || p.value.type !== 7) {
      throw VirError.format(VirErrorNumber.ARGUMENT_UNSUPPORTED, VirErrorDomain.NONE, 'argument unsupported: %s', `parameter '${p.field}' not supported`);
    }
    out[p.field] = p.value.s;
  }
  return out;
}

/** Not forced: libvirt's managed-save-remove fails with ENOENT when there is no image. */
function removeManagedSave(path: string): void {
  try {
    rmSync(path);
  } catch (e) {
    throw systemError(`Failed to remove managed save file '${path}'`, e);
  }
}

function imageDef(img: SaveImage): DomainDef {
  return xmlParse(() => parseDomainXml(img.xml));
}

function incomingFrom(def: DomainDef, path: string, img: SaveImage, paused: boolean): IncomingStart {
  return { paused, load: (proc, sock) => migrateFromFile(proc, def.name, path, img.streamOffset, sock) };
}

export function saveMethods(s: QemuDriverState): DriverMethods {
  const L = s.list;
  const r = (h: RemoteNonnullDomain): QemuDomain => s.domain(h);

  /** qemuDomainSaveInternal: pause, migrate into `path` (via a temp file), stop as saved. */
  const save = async (d: QemuDomain, path: string, flags: number, managed = false): Promise<void> => {
    const proc = d.proc;
    if (!d.active || !proc) throw notRunning();
    const started = performance.now();
    const wasRunning = d.state === State.RUNNING;
    const runAfter = flags & SAVE_RUNNING ? true : flags & SAVE_PAUSED ? false : wasRunning;
    const xml = formatDomain(d.def, { inactive: true, secure: true });
    if (managed) mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    // The managed image is driver state: written under a fresh temporary name, then renamed in.
    // A user's file is written in place, as libvirt does; its partial magic marks it incomplete.
    const target = managed ? join(dirname(path), `.${basename(path)}.${randomUUID()}.part`) : path;
    const created = !existsSync(path);
    if (wasRunning) {
      proc.pausedReason = PausedReason.SAVE;
      await proc.command('stop', undefined, d.name);
      if (d.state === State.RUNNING) {
        s.setState(d, State.PAUSED, PausedReason.SAVE);
        s.lifecycle(d, Lifecycle.SUSPENDED, Detail.SUSPENDED_PAUSED);
      }
    }
    try {
      let offset: number;
      try {
        offset = writeImageHeader(target, xml, runAfter, { exclusive: managed });
      } catch (e) {
        throw systemError(`Failed to create file '${path}'`, e);
      }
      const info = await migrateToFile(proc, d.name, target, offset, join(s.paths.stateDir, `domain-${d.id}-${d.name.slice(0, 20)}.migrate`));
      finishImage(target);
      if (managed) renameSync(target, path);
      s.events.emit(jobCompletedEvent(d.handle(), saveJobStats(info, performance.now() - started)));
    } catch (e) {
      if (managed || created) rmSync(target, { force: true });
      // The guest goes back to what it was doing (libvirt's save-canceled resume).
      if (wasRunning && d.proc === proc && !proc.isEnded) {
        proc.runningReason = RunningReason.SAVE_CANCELED;
        await proc.command('cont', undefined, d.name).catch(() => undefined);
      }
      throw e instanceof VirError ? e : systemError(`failed to write domain save file '${path}'`, e);
    }
    // SIGKILL first: a SIGTERM would make QEMU report a shutdown libvirt never shows for a save.
    proc.beingDestroyed = true;
    proc.signal('SIGKILL');
    await s.destroy(d, ShutoffReason.SAVED, SaveDetail.STOPPED_SAVED);
  };

  const saveFlags = async (h: RemoteNonnullDomain, to: string, dxml: string | null, flags: number): Promise<void> => {
    checkFlags('qemuDomainSaveFlags', flags, SAVE_FLAGS);
    if (dxml) throw operationUnsupported('replacing the domain XML of a save image is not supported by this driver');
    const d = r(h);
    await d.withJob(() => save(d, to, flags));
  };

  const managedSave = async (h: RemoteNonnullDomain, flags: number): Promise<void> => {
    const d = r(h);
    if (!d.active) throw operationInvalid('domain is not running');
    if (!d.persistent) throw operationInvalid('cannot do managed save for transient domain');
    await d.withJob(() => save(d, managedSavePath(s.paths, d.name), flags, true));
  };

  const restore = async (from: string, dxml: string | null, flags: number): Promise<void> => {
    checkFlags('qemuDomainRestoreFlags', flags, RESTORE_FLAGS);
    if (dxml) throw operationUnsupported('replacing the domain XML of a save image is not supported by this driver');
    const img = readSaveImage(from);
    const def = imageDef(img);
    const paused = flags & SAVE_RUNNING ? false : flags & SAVE_PAUSED ? true : !img.wasRunning;
    const run = async (): Promise<void> => {
      // Inside the job: a start or restore already under way for this domain sees it active.
      const { dom, replaced } = L.add(def, true);
      try {
        await s.start(dom, incomingFrom(def, from, img, paused));
      } catch (e) {
        if (!replaced && !dom.persistent) L.remove(dom);
        throw e;
      }
    };
    const known = L.findByUuid(def.uuid);
    if (!known) return run();
    await known.withJob(() => {
      if (known.starting) throw operationInvalid(`domain '${known.name}' is already active`);
      return run();
    });
  };

  const imageXml = (path: string, flags: number, readonly: boolean, fn: string): string => {
    if (readonly && flags & XML_SECURE) throw operationDenied(`${fn} with secure flag`);
    return formatDomain(imageDef(readSaveImage(path)), { inactive: true, secure: (flags & XML_SECURE) !== 0 });
  };

  return {
    DOMAIN_SAVE: ({ dom, to }) => saveFlags(dom, to, null, 0),
    DOMAIN_SAVE_FLAGS: ({ dom, to, dxml, flags }) => saveFlags(dom, to, dxml, flags),
    DOMAIN_RESTORE: ({ from }) => restore(from, null, 0),
    DOMAIN_RESTORE_FLAGS: ({ from, dxml, flags }) => restore(from, dxml, flags),
    // Without a file, SaveParams is a managed save (as libvirt's qemuDomainSaveParams).
    DOMAIN_SAVE_PARAMS: ({ dom, params, flags }) => {
      const { file, dxml } = saveParams(params);
      if (file !== null) return saveFlags(dom, file, dxml, flags);
      checkFlags('qemuDomainSaveParams', flags, SAVE_FLAGS);
      return managedSave(dom, flags);
    },
    DOMAIN_RESTORE_PARAMS: ({ params, flags }) => {
      const { file, dxml } = saveParams(params);
      if (file === null) throw invalidArg('missing file parameter');
      return restore(file, dxml, flags);
    },
    DOMAIN_MANAGED_SAVE: ({ dom, flags }) => {
      checkFlags('qemuDomainManagedSave', flags, SAVE_FLAGS);
      return managedSave(dom, flags);
    },
    DOMAIN_HAS_MANAGED_SAVE_IMAGE: ({ dom, flags }) => {
      checkFlags('qemuDomainHasManagedSaveImage', flags, 0);
      return { result: hasManagedSave(s, r(dom)) ? 1 : 0 };
    },
    DOMAIN_MANAGED_SAVE_REMOVE: ({ dom, flags }) => {
      checkFlags('qemuDomainManagedSaveRemove', flags, 0);
      removeManagedSave(managedSavePath(s.paths, r(dom).name));
    },
    DOMAIN_SAVE_IMAGE_GET_XML_DESC: ({ file, flags }, ctx) => {
      checkFlags('qemuDomainSaveImageGetXMLDesc', flags, XML_SECURE);
      return { xml: imageXml(file, flags, ctx.readonly, 'virDomainSaveImageGetXMLDesc') };
    },
    DOMAIN_MANAGED_SAVE_GET_XML_DESC: ({ dom, flags }, ctx) => {
      checkFlags('qemuDomainManagedSaveGetXMLDesc', flags, XML_SECURE);
      const path = managedSavePath(s.paths, r(dom).name);
      if (!existsSync(path)) throw operationInvalid('domain does not have managed save image');
      return { xml: imageXml(path, flags, ctx.readonly, 'virDomainManagedSaveGetXMLDesc') };
    },
  };
}
