// libvirt's QEMU save image: a 92-byte header ("LibvirtQemudSave", version 2, length of the
// data that follows, was_running, compression format, cookie offset, 14 unused words, all
// little-endian u32), then the domain XML and an optional <cookie>, NUL-terminated and followed
// by 64 KiB of zeros, then QEMU's migration stream. Images are written with the "partial" magic
// and stamped with the real one once the stream is complete, as libvirt does.
import { closeSync, constants, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { VirErrorDomain } from '../../rpc/errors.js';
import { operationFailed, operationUnsupported, systemError } from './errors.js';
import type { QemuPaths } from './paths.js';

const MAGIC = 'LibvirtQemudSave';
const PARTIAL = 'LibvirtQemudPart';
const VERSION = 2;
export const HEADER_SIZE = 16 + 4 * 5 + 4 * 14;
/** Room left after the XML so it can be edited in place later (libvirt's padding). */
const PADDING = 64 * 1024;
/** The XML part of an image we accept (the padding included); libvirt's own are far smaller. */
const MAX_XML = 16 * 1024 * 1024;
/** Compression formats libvirt 9.0 knows: raw, gzip, bzip2, xz, lzop. */
const FORMATS = 5;

/** Event details of save and restore (virDomainEvent*DetailType). */
export const SaveDetail = { STARTED_RESTORED: 2, SUSPENDED_RESTORED: 4, RESUMED_FROM_SNAPSHOT: 2, STOPPED_SAVED: 4 } as const;

export interface SaveImage {
  readonly xml: string;
  readonly wasRunning: boolean;
  /** Where QEMU's migration stream starts. */
  readonly streamOffset: number;
}

/** <save dir>/NAME.save, the managed save image (libvirt's qemuDomainManagedSavePath). */
export function managedSavePath(paths: QemuPaths, name: string): string {
  return join(paths.saveDir ?? join(paths.configDir, 'save'), `${name}.save`);
}

const failed = (msg: string) => operationFailed(msg, VirErrorDomain.QEMU);

/** Writes header, XML and padding to a new file (mode 0600); returns where the stream goes. */
export function writeImageHeader(path: string, xml: string, wasRunning: boolean, opts: { exclusive: boolean }): number {
  const body = Buffer.from(`${xml}\0`, 'utf8');
  const dataLen = body.length + PADDING;
  // A user's file is written in place (truncated), as libvirt does; a temp file must be new.
  const fd = openSync(path, opts.exclusive ? 'wx' : 'w', 0o600);
  try {
    writeSync(fd, header(PARTIAL, dataLen, wasRunning));
    writeSync(fd, body);
    writeSync(fd, Buffer.alloc(PADDING));
  } finally {
    closeSync(fd);
  }
  return HEADER_SIZE + dataLen;
}

/** Stamps the complete magic once the stream is in, and syncs the file. */
export function finishImage(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, Buffer.from(MAGIC, 'latin1'), 0, 16, 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function header(magic: string, dataLen: number, wasRunning: boolean): Buffer {
  const b = Buffer.alloc(HEADER_SIZE);
  b.write(magic, 0, 'latin1');
  b.writeUInt32LE(VERSION, 16);
  b.writeUInt32LE(dataLen, 20);
  b.writeUInt32LE(wasRunning ? 1 : 0, 24);
  // format (raw) and cookieOffset (no cookie) stay 0.
  return b;
}

/** Reads and checks the header and XML, with libvirt's errors for each way a file can be wrong. */
export function readSaveImage(path: string): SaveImage {
  let fd: number;
  try {
    // Non-blocking: a FIFO named by a client must not stall the daemon's event loop.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw systemError(`Failed to open file '${path}'`, e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() && !st.isBlockDevice()) throw failed(`'${path}' is not a regular file or block device`);
    const h = Buffer.alloc(HEADER_SIZE);
    if (readSync(fd, h, 0, HEADER_SIZE, 0) !== HEADER_SIZE) throw failed('failed to read qemu header');
    const magic = h.toString('latin1', 0, 16);
    if (magic === PARTIAL) throw failed('save image is incomplete');
    if (magic !== MAGIC) throw failed('image magic is incorrect');
    // A version too big may be a header written on the other endianness.
    const be = h.readUInt32LE(16) > VERSION;
    const u32 = (off: number) => (be ? h.readUInt32BE(off) : h.readUInt32LE(off));
    const version = u32(16);
    if (version > VERSION) throw failed(`image version is not supported (${version} > ${VERSION})`);
    const format = u32(28);
    if (format >= FORMATS) throw failed(`unsupported save image format: ${format}`);
    if (format !== 0) throw operationUnsupported(`compressed save images (format ${format}) are not supported by this driver`);
    // data_len is a C int in libvirt's header: a huge value reads as negative.
    const dataLen = u32(20) | 0;
    if (dataLen <= 0) throw failed(`invalid header data length: ${dataLen}`);
    const cookieOffset = u32(32);
    // Sizes come from the file: bounded by the file itself and by what an XML can sensibly be.
    if (st.isFile() && HEADER_SIZE + dataLen > st.size) throw failed('failed to read domain XML');
    if (cookieOffset > dataLen) throw failed(`invalid cookie offset: ${cookieOffset}`);
    const xmlLen = cookieOffset !== 0 ? cookieOffset : dataLen;
    if (xmlLen > MAX_XML) throw failed(`domain XML of ${xmlLen} bytes is too large`);
    const xmlBuf = Buffer.alloc(xmlLen);
    if (readSync(fd, xmlBuf, 0, xmlLen, HEADER_SIZE) !== xmlLen) throw failed('failed to read domain XML');
    const nul = xmlBuf.indexOf(0);
    return {
      xml: xmlBuf.toString('utf8', 0, nul < 0 ? xmlLen : nul),
      wasRunning: u32(24) !== 0,
      streamOffset: HEADER_SIZE + dataLen,
    };
  } finally {
    closeSync(fd);
  }
}
