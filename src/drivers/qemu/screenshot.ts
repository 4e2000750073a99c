// DOMAIN_SCREENSHOT: QEMU dumps the screen to a temporary file (QMP screendump), whose bytes go
// back over the call's stream, then the file goes. libvirt 9.0 asks QEMU 7.2 for PNG (QEMU has
// had screendump's "format" argument since 7.1) and answers "image/png"; a real libvirtd does
// exactly that on this host, so this does too.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DriverMethods, DriverStream } from '../../api/driver.js';
import type { DomainVideo } from '../../api/xml/domain/types.js';
import type { RemoteNonnullDomain } from '../../protocol/gen/remote.js';
import type { QemuDomain } from './domain-obj.js';
import { checkFlags, internalError, notRunning, operationInvalid } from './errors.js';
import type { QemuDriverState } from './state.js';

/** Stream packets stay well under libvirt's 256 KiB message payload. */
const CHUNK = 64 * 1024;

const heads = (v: DomainVideo): number => Number(v.modelAttrs.find(([k]) => k === 'heads')?.[1] ?? '1') || 1;

/** Which video device and head shows screen `n` (screens count the heads of all videos in order). */
function screenOf(videos: readonly DomainVideo[], n: number): { index: number; head: number } | undefined {
  let left = n;
  for (const [index, v] of videos.entries()) {
    if (left < heads(v)) return { index, head: left };
    left -= heads(v);
  }
  return undefined;
}

async function send(stream: DriverStream, data: Uint8Array): Promise<void> {
  for (let off = 0; off < data.length; off += CHUNK) await stream.write(data.subarray(off, off + CHUNK));
  await stream.end();
}

export function screenshotMethods(s: QemuDriverState): DriverMethods {
  const find = (h: RemoteNonnullDomain): QemuDomain => s.domain(h);
  return {
    DOMAIN_SCREENSHOT: async ({ dom, screen, flags }, ctx) => {
      checkFlags('qemuDomainScreenshot', flags, 0);
      const d = find(dom);
      const proc = d.proc;
      if (!d.active || !proc) throw notRunning();
      const videos = d.def.devices.videos;
      if (videos.length === 0) throw operationInvalid('no screens to take screenshot from');
      const where = screenOf(videos, screen);
      if (!where) throw operationInvalid('no such screen ID');
      const stream = ctx.stream;
      if (!stream) throw internalError('stream procedure called without a stream');
      const dir = await mkdtemp(join(tmpdir(), 'tsvirt-screendump-'));
      const file = join(dir, 'screen.png');
      try {
        const target = screen === 0 ? {} : { device: `video${where.index}`, head: where.head };
        await proc.command('screendump', { filename: file, format: 'png', ...target }, d.name);
        const data = new Uint8Array(await readFile(file));
        // Packets written now are held until the reply is out: data, then end of stream.
        send(stream, data).catch(() => undefined);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      return { mime: 'image/png' };
    },
  };
}
