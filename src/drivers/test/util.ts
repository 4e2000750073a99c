// Small helpers shared by the test driver's stores: UUID text <-> wire bytes, clock.
import { parseUuid } from '../../api/xml/uuid.js';

export { newUuid } from '../../api/xml/uuid.js';

/** Canonical dashed text of 16 wire bytes. */
export function uuidText(bytes: Uint8Array): string {
  const h = Buffer.from(bytes).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** 16 wire bytes of a UUID in any form libvirt accepts. */
export function uuidBytes(text: string): Uint8Array {
  // Hot path (every domain handle sent): stored UUIDs are already canonical, decode them directly.
  if (CANONICAL_UUID.test(text)) {
    const out = new Uint8Array(16);
    for (let i = 0, j = 0; j < 16; i += 2, j++) {
      if (text.charCodeAt(i) === 45) i++;
      out[j] = (hexDigit(text.charCodeAt(i)) << 4) | hexDigit(text.charCodeAt(i + 1));
    }
    return out;
  }
  const canon = parseUuid(text) ?? text;
  return new Uint8Array(Buffer.from(canon.replace(/-/g, ''), 'hex'));
}

/** Value of a lower-case hex digit's char code. */
const hexDigit = (c: number): number => (c <= 57 ? c - 48 : c - 87);


/** Wall-clock microseconds, like g_get_real_time(). */
export const realTimeUs = (): bigint => BigInt(Date.now()) * 1000n;
