// <permissions> inside storage pool and volume targets.
import type { XmlEl, Out } from './tree.js';
import { child, childText } from './tree.js';

export interface Permissions {
  mode?: string;
  owner?: string;
  group?: string;
  label?: string;
}

export function parsePermissions(el: XmlEl | undefined): Permissions | undefined {
  if (!el) return undefined;
  const t = (n: string) => childText(el, n)?.trim();
  const mode = t('mode');
  // libvirt stores the mode as a number and prints it as 4 octal digits.
  return { mode: mode === undefined ? undefined : parseInt(mode, 8).toString(8).padStart(4, '0'), owner: t('owner'), group: t('group'), label: t('label') };
}

export const formatPermissions = (p: Permissions | undefined): Out | undefined =>
  p && {
    name: 'permissions',
    kids: [
      p.mode !== undefined && { name: 'mode', text: p.mode },
      p.owner !== undefined && { name: 'owner', text: p.owner },
      p.group !== undefined && { name: 'group', text: p.group },
      p.label !== undefined && { name: 'label', text: p.label },
    ],
  };

export const permissionsOf = (target: XmlEl | undefined) => parsePermissions(child(target, 'permissions'));
