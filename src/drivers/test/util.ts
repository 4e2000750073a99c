// Small helpers shared by the test driver's stores: UUID text <-> wire bytes, handles.
import { parseUuid } from '../../api/xml/uuid.js';
import type { RemoteNonnullDomain } from '../../protocol/gen/remote.js';

export { newUuid } from '../../api/xml/uuid.js';

/** Canonical dashed text of 16 wire bytes. */
export function uuidText(bytes: Uint8Array): string {
  const h = Buffer.from(bytes).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** 16 wire bytes of a UUID in any form libvirt accepts. */
export function uuidBytes(text: string): Uint8Array {
  const canon = parseUuid(text) ?? text;
  return new Uint8Array(Buffer.from(canon.replace(/-/g, ''), 'hex'));
}

export const domainHandle = (name: string, uuid: string, id: number): RemoteNonnullDomain => ({ name, uuid: uuidBytes(uuid), id });

/** Wall-clock microseconds, like g_get_real_time(). */
export const realTimeUs = (): bigint => BigInt(Date.now()) * 1000n;
