// DOMAIN_OPEN_CONSOLE for pty character devices: the pty QEMU reports (query-chardev) is
// opened in raw mode and bytes flow both ways over the RPC stream until the client finishes or
// aborts, or QEMU goes away. One session per device, as libvirt's chardev table keeps; FORCE
// takes an open one over.
import { closeSync, constants, openSync, write } from 'node:fs';
import { ReadStream } from 'node:tty';
import type { DriverMethods, DriverStream } from '../../api/driver.js';
import type { DomainChr } from '../../api/xml/domain/types.js';
import type { RemoteNonnullDomain } from '../../protocol/gen/remote.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';
import type { QemuDomain } from './domain-obj.js';
import { checkFlags, internalError, notRunning, operationFailed } from './errors.js';
import type { QemuDriverState } from './state.js';

/** VIR_DOMAIN_CONSOLE_FORCE | VIR_DOMAIN_CONSOLE_SAFE. */
const CONSOLE_FORCE = 1;
const CONSOLE_SAFE = 2;

interface Session {
  /** Ends the client's stream (end-of-data) and releases the pty. */
  shutdown(): void;
}

export function consoleMethods(s: QemuDriverState): DriverMethods {
  /** Open sessions by "uuid/chardev label". */
  const sessions = new Map<string, Session>();

  const find = (h: RemoteNonnullDomain): QemuDomain => s.domain(h);

  return {
    DOMAIN_OPEN_CONSOLE: async ({ dom, devName, flags }, ctx) => {
      checkFlags('qemuDomainOpenConsole', flags, CONSOLE_FORCE | CONSOLE_SAFE);
      const d = find(dom);
      const proc = d.proc;
      if (!d.active || !proc) throw notRunning();
      const { chr, alias } = pickDevice(d, devName);
      if (chr.type !== 'pty') throw internalError(`character device ${devName ?? alias} is not using a PTY`);
      const label = `char${alias}`;
      const devs = await proc.command<{ label: string; filename: string }[]>('query-chardev', undefined, d.name);
      const filename = devs.find((c) => c.label === label)?.filename ?? '';
      if (!filename.startsWith('pty:')) throw internalError(`character device ${devName ?? alias} is not using a PTY`);
      const stream = ctx.stream;
      if (!stream) throw internalError('stream procedure called without a stream');
      const key = `${d.uuid}/${label}`;
      const old = sessions.get(key);
      if (old && !(flags & CONSOLE_FORCE)) throw operationFailed('Active console session exists for this domain', VirErrorDomain.QEMU);
      old?.shutdown();
      const session = openPty(filename.slice(4), stream, () => {
        if (sessions.get(key) === session) sessions.delete(key);
      });
      sessions.set(key, session);
      // The domain going away ends the session like a pty EOF would.
      void proc.ended.then(() => session.shutdown());
    },
  };
}

/** libvirt's choice: the named alias among consoles, serials, parallels; else console 0, serial 0. */
function pickDevice(d: QemuDomain, devName: string | null): { chr: DomainChr; alias: string } {
  const chrs = d.def.devices.chrs;
  const aliased = (kind: DomainChr['kind']) =>
    chrs.filter((c) => c.kind === kind).map((c, i) => ({ chr: c, alias: aliasOf(c, i) }));
  const all = [...aliased('console'), ...aliased('serial'), ...aliased('parallel')];
  const hit = devName === null ? all[0] : all.find((x) => x.alias === devName);
  if (!hit) throw internalError(`cannot find character device ${devName ?? '<null>'}`);
  return hit;
}

/** A serial-type console 0 is serial 0 itself (libvirt's HVM default), so it shares its chardev. */
function aliasOf(c: DomainChr, index: number): string {
  if (c.kind === 'console') return c.targetType === 'serial' || c.targetType === undefined ? `serial${c.targetPort ?? 0}` : `console${index}`;
  return `${c.kind}${c.targetPort ?? index}`;
}

function openPty(path: string, stream: DriverStream, onClosed: () => void): Session {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_NOCTTY);
  } catch (e) {
    throw VirError.format(VirErrorNumber.SYSTEM_ERROR, VirErrorDomain.QEMU, '%s', `Unable to open ${path}: ${(e as Error).message}`);
  }
  let tty: ReadStream;
  try {
    tty = new ReadStream(fd);
    // Raw, no echo: the guest must not read back its own output through the line discipline.
    tty.setRawMode(true);
  } catch (e) {
    closeSync(fd);
    throw internalError(`cannot use ${path} as a console: ${(e as Error).message}`);
  }
  let closed = false;
  let toClient: Promise<void> = Promise.resolve();
  const close = (): void => {
    if (closed) return;
    closed = true;
    // The tty handle owns fd now (libuv reopens the tty onto the same number) and closes it.
    tty.destroy();
    onClosed();
  };
  // QEMU closing the pty master (guest gone), or a takeover: end-of-data to the client.
  const shutdown = (): void => {
    if (closed) return;
    close();
    void toClient.then(() => stream.end()).catch(() => undefined);
  };
  tty.on('data', (buf: Buffer) => {
    toClient = toClient.then(() => stream.write(new Uint8Array(buf))).catch(close);
  });
  tty.on('end', shutdown);
  tty.on('error', shutdown);
  // The stream is usable once the method has returned.
  setImmediate(() => void (async () => {
    try {
      for await (const chunk of stream) {
        if (chunk.kind !== 'data' || closed) continue;
        await writeAll(fd, chunk.data, () => closed);
      }
      stream.confirm();
    } catch {
      // The client aborted or went away.
    } finally {
      close();
    }
  })());
  return { shutdown };
}

function writeAll(fd: number, data: Uint8Array, closed: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (off: number): void => {
      // Never touch the number once the tty handle has closed it: it may name another file.
      if (off >= data.length || closed()) return resolve();
      write(fd, data, off, data.length - off, null, (err, n) => {
        // The descriptor is non-blocking under the tty handle: a full pty buffer means retry.
        if (err?.code === 'EAGAIN') setTimeout(() => step(off), 10);
        else if (err) reject(err);
        else step(off + n);
      });
    };
    step(0);
  });
}
