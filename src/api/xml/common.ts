// Pieces shared by several object kinds: bandwidth, virtualport, MAC addresses.
import type { XmlEl, Out } from './tree.js';
import { attr, child } from './tree.js';

export interface BandwidthRate {
  average?: string;
  peak?: string;
  floor?: string;
  burst?: string;
}
export interface Bandwidth {
  inbound?: BandwidthRate;
  outbound?: BandwidthRate;
}

const rate = (el: XmlEl | undefined): BandwidthRate | undefined =>
  el && { average: attr(el, 'average'), peak: attr(el, 'peak'), floor: attr(el, 'floor'), burst: attr(el, 'burst') };

export const parseBandwidth = (el: XmlEl | undefined): Bandwidth | undefined =>
  el && { inbound: rate(child(el, 'inbound')), outbound: rate(child(el, 'outbound')) };

const rateOut = (name: string, r: BandwidthRate | undefined): Out | undefined =>
  r && { name, attrs: [['average', r.average], ['peak', r.peak], ['floor', r.floor], ['burst', r.burst]] };

export const formatBandwidth = (b: Bandwidth | undefined): Out | undefined =>
  b && { name: 'bandwidth', kids: [rateOut('inbound', b.inbound), rateOut('outbound', b.outbound)] };

export interface VirtualPort {
  type?: string;
  /** <parameters> attributes in libvirt's output order. */
  parameters: [string, string][];
}

const VPORT_PARAMS = ['managerid', 'typeid', 'typeidversion', 'instanceid', 'profileid', 'interfaceid'];

export function parseVirtualPort(el: XmlEl | undefined): VirtualPort | undefined {
  if (!el) return undefined;
  const p = child(el, 'parameters');
  const parameters: [string, string][] = [];
  for (const k of VPORT_PARAMS) {
    const v = attr(p, k);
    if (v !== undefined) parameters.push([k, v]);
  }
  return { type: attr(el, 'type'), parameters };
}

export const formatVirtualPort = (v: VirtualPort | undefined): Out | undefined =>
  v && {
    name: 'virtualport',
    attrs: [['type', v.type]],
    kids: [v.parameters.length > 0 && { name: 'parameters', attrs: v.parameters }],
  };

/** Lower-cases and checks a MAC address; null if malformed. */
export function parseMac(s: string): string | null {
  const parts = s.trim().split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) return null;
  return parts.map((p) => p.padStart(2, '0').toLowerCase()).join(':');
}

