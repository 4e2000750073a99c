// The test driver's save image: the 15-byte magic "TestGuestMagic\0", the XML length as a
// host-endian (little-endian here) int, then the domain XML. Restore refuses more than 8 KiB.
import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import { internalError, systemError } from './errors.js';

const MAGIC = Buffer.from('TestGuestMagic\0', 'latin1');
const MAX_XML = 8192;

export function writeSaveImage(path: string, name: string, xml: string): void {
  const body = Buffer.from(xml, 'utf8');
  const len = Buffer.alloc(4);
  len.writeInt32LE(body.length);
  try {
    writeFileSync(path, Buffer.concat([MAGIC, len, body]), { mode: 0o600 });
  } catch (e) {
    throw systemError(`saving domain '${name}' to '${path}': open failed`, e);
  }
}

/** Returns the XML stored in an image, with libvirt's errors for unreadable ones. */
export function readSaveImage(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw systemError(`cannot read domain image '${path}'`, e);
  }
  try {
    const read = (n: number, what: string): Buffer => {
      const buf = Buffer.alloc(n);
      let got = 0;
      try {
        while (got < n) {
          const r = readSync(fd, buf, got, n - got, null);
          if (r === 0) break;
          got += r;
        }
      } catch (e) {
        throw systemError(`${what} '${path}'`, e);
      }
      if (got !== n) throw systemError(`${what} '${path}'`);
      return buf;
    };
    const magic = read(MAGIC.length, 'incomplete save header in');
    if (!magic.equals(MAGIC)) throw internalError('mismatched header magic');
    const len = read(4, 'failed to read metadata length in').readInt32LE(0);
    if (len < 1 || len > MAX_XML) throw internalError('length of metadata out of range');
    return read(len, 'incomplete metadata in').toString('utf8');
  } finally {
    closeSync(fd);
  }
}
