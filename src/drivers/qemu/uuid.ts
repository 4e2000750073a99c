// UUID text <-> the 16 bytes domain handles carry.
import { parseUuid } from '../../api/xml/uuid.js';

export function uuidText(bytes: Uint8Array): string {
  const h = Buffer.from(bytes).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function uuidBytes(text: string): Uint8Array {
  const canon = parseUuid(text) ?? text;
  return new Uint8Array(Buffer.from(canon.replace(/-/g, ''), 'hex'));
}
