/**
 * Finding objects from what the user typed, in virsh's order (domain: id, then UUID, then name;
 * network and pool: UUID, then name) and with virsh's failure lines.
 */
import type { Domain } from '../api/domain.js';
import type { Interface } from '../api/interface.js';
import type { Network } from '../api/network.js';
import type { StoragePool, StorageVol } from '../api/storage.js';
import { asVirError, CliError, type Ctl, type Opts } from './ctl.js';

const UUID_RE = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;

export function looksLikeUuid(s: string): boolean {
  return UUID_RE.test(s.trim());
}

function optName(o: Opts, name: string): string {
  const v = o.string(name);
  if (v === undefined) throw new CliError(`command '${o.cmd.def.name}' requires <${name}> option`);
  return v;
}

/** virsh's domain lookup; the libvirt error underneath is not shown. */
export async function domainByText(ctl: Ctl, n: string): Promise<Domain> {
  const c = ctl.connection;
  if (/^\d+$/.test(n) && Number(n) <= 2147483647) {
    try {
      return await c.domainLookupByID(Number(n));
    } catch { /* try the next way */ }
  }
  if (looksLikeUuid(n)) {
    try {
      return await c.domainLookupByUUID(n);
    } catch { /* try the next way */ }
  }
  try {
    return await c.domainLookupByName(n);
  } catch {
    throw new CliError(`failed to get domain '${n}'`);
  }
}

export async function domainOpt(ctl: Ctl, o: Opts, name = 'domain'): Promise<Domain> {
  return domainByText(ctl, optName(o, name));
}

export async function networkByText(ctl: Ctl, n: string, uuidOnly = false, nameOnly = false): Promise<Network> {
  const c = ctl.connection;
  let last: unknown = null;
  if (!nameOnly && looksLikeUuid(n)) {
    try {
      return await c.networkLookupByUUID(n);
    } catch (e) {
      last = e;
    }
  }
  if (!uuidOnly) {
    try {
      return await c.networkLookupByName(n);
    } catch (e) {
      last = e;
    }
  }
  throw new CliError(`failed to get network '${n}'`, asVirError(last));
}

export async function poolByText(ctl: Ctl, n: string): Promise<StoragePool> {
  const c = ctl.connection;
  let last: unknown = null;
  if (looksLikeUuid(n)) {
    try {
      return await c.storagePoolLookupByUUID(n);
    } catch (e) {
      last = e;
    }
  }
  try {
    return await c.storagePoolLookupByName(n);
  } catch (e) {
    last = e;
  }
  throw new CliError(`failed to get pool '${n}'`, asVirError(last));
}

/** A volume by name within --pool (or the option named `poolOption`), else by key, then by path. */
export async function volOpt(ctl: Ctl, o: Opts, poolOption = 'pool'): Promise<StorageVol> {
  const n = optName(o, 'vol');
  const poolName = o.string(poolOption);
  const c = ctl.connection;
  let last: unknown = null;
  if (poolName !== undefined) {
    const pool = await poolByText(ctl, poolName);
    try {
      return await pool.volumeLookupByName(n);
    } catch (e) {
      last = e;
    }
  }
  if (poolName === undefined || last) {
    if (poolName === undefined) {
      try {
        return await c.storageVolLookupByKey(n);
      } catch (e) {
        last = e;
      }
    }
    try {
      return await c.storageVolLookupByPath(n);
    } catch (e) {
      last = e;
    }
  }
  // Commands that offer --pool suggest it when it was not given.
  const hint = poolName === undefined && o.cmd.def.opts.some((x) => x.name === poolOption) ? `, specifying --${poolOption} might help` : '';
  throw new CliError(`failed to get vol '${n}'${hint}`, asVirError(last));
}

export async function ifaceByText(ctl: Ctl, n: string, by: 'name' | 'mac' | 'any'): Promise<Interface> {
  const c = ctl.connection;
  const isMac = /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(n);
  let last: unknown = null;
  if (isMac && by !== 'name') {
    try {
      return await c.interfaceLookupByMAC(n);
    } catch (e) {
      last = e;
    }
  }
  if (by === 'name' || (by === 'any' && !isMac)) {
    try {
      return await c.interfaceLookupByName(n);
    } catch (e) {
      last = e;
    }
  }
  throw new CliError(`failed to get interface '${n}'`, asVirError(last));
}
