// UUIDs: libvirt accepts 32 hex digits with optional dashes between bytes and prints them lower-case, dashed.
import { randomUUID } from 'node:crypto';

/** Returns the canonical form, or null if `s` is not a valid UUID. */
export function parseUuid(s: string): string | null {
  const hex = s.trim().replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) return null;
  const h = hex.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const newUuid = (): string => randomUUID();
