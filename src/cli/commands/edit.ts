/**
 * The *-edit commands (edit, net-edit, pool-edit, iface-edit, snapshot-edit) and `desc --edit`,
 * following virsh 9.0's edit loop: dump the XML, let the editor change a temporary copy, and
 * redefine the object when it changed. Without a terminal to ask "Try again?" on, virsh reports
 * the failure and then carries on as if the redefinition had worked, naming the object "(null)";
 * that is reproduced here.
 */
import type { Domain } from '../../api/domain.js';
import type { DomainSnapshot } from '../../api/snapshot.js';
import { VirErrorNumber } from '../../rpc/errors.js';
import { asVirError, attempt, CliError, type Ctl, type Opts } from '../ctl.js';
import { domainOpt, ifaceByText, networkByText, poolByText } from '../lookup.js';
import { affectFlags, description, DOMAIN_MORE_COMMANDS } from './domain-more.js';
import { askReedit, editString, readBack, runEditor, unlinkTemp, writeTempFile } from './editor.js';
import type { CommandTable } from './types.js';

interface EditSpec {
  /** EDIT_GET_XML: a failure ends the command with the libvirt error. */
  getXml(): Promise<string>;
  /** EDIT_DEFINE on the edited text: the new object's name. */
  define(xml: string, original: string): Promise<string>;
  /** EDIT_RELAX, when the object can be redefined without validation. */
  relax?: () => void;
  /** EDIT_NOT_CHANGED; false to go on and redefine anyway. */
  notChanged(): boolean;
}

/** What the edit loop ended with. */
type EditOutcome = { kind: 'unchanged' } | { kind: 'defined'; name: string | null };

/** The edit loop (virsh-edit.c's logic); editor and file failures throw CliError. */
async function editLoop(ctl: Ctl, spec: EditSpec): Promise<EditOutcome> {
  let doc = await attempt(spec.getXml(), '');
  const file = writeTempFile(doc);
  try {
    let relaxAvail = false;
    let edited = '';
    let step: 'edit' | 'define' = 'edit';
    for (;;) {
      if (step === 'edit') {
        relaxAvail = spec.relax !== undefined;
        await runEditor(file);
        edited = readBack(file);
        if (doc === edited && spec.notChanged()) return { kind: 'unchanged' };
      }
      // Re-read the object: someone else may have changed it meanwhile.
      let msg: string | null = null;
      let pending: string | null = null;
      const reread = await attempt(spec.getXml(), '');
      if (reread !== doc) {
        msg = 'The XML configuration was changed by another user.';
        doc = reread;
      } else {
        try {
          return { kind: 'defined', name: await spec.define(edited, doc) };
        } catch (e) {
          const err = asVirError(e);
          if (!err) throw e;
          msg = 'Failed.';
          pending = err.message;
        }
      }
      const choice = await askReedit(ctl, msg, relaxAvail, pending);
      if (choice === 'y') step = 'edit';
      else if (choice === 'f') step = 'define';
      else if (choice === 'n') throw new CliError('');
      else if (choice === 'i' && spec.relax) {
        spec.relax();
        relaxAvail = false;
        step = 'define';
      } else {
        ctl.error(msg);
        return { kind: 'defined', name: null };
      }
    }
  } finally {
    unlinkTemp(file);
  }
}

/** virshDomainDefine: validation is asked for with the flags call, dropped if the server lacks it. */
async function defineDomain(ctl: Ctl, xml: string, flags: number): Promise<Domain> {
  const c = ctl.connection;
  if (flags === 0) return c.defineDomain(xml);
  try {
    return await c.defineDomain(xml, flags);
  } catch (e) {
    if (flags === 1 && asVirError(e)?.code === VirErrorNumber.NO_SUPPORT) return c.defineDomain(xml);
    throw e;
  }
}

async function edit(ctl: Ctl, o: Opts): Promise<void> {
  const d = await domainOpt(ctl, o);
  // VIR_DOMAIN_XML_SECURE | VIR_DOMAIN_XML_INACTIVE; VIR_DOMAIN_DEFINE_VALIDATE unless skipped.
  let defineFlags = o.bool('skip-validate') ? 0 : 1;
  const r = await editLoop(ctl, {
    getXml: () => d.xmlDesc(3),
    define: async (xml) => (await defineDomain(ctl, xml, defineFlags)).name,
    relax: () => {
      defineFlags &= ~1;
    },
    notChanged: () => true,
  });
  if (r.kind === 'unchanged') ctl.printExtra(`Domain '${d.name}' XML configuration not changed.\n`);
  else ctl.printExtra(`Domain '${r.name ?? '(null)'}' XML configuration edited.\n`);
}

async function netEdit(ctl: Ctl, o: Opts): Promise<void> {
  const net = await networkByText(ctl, o.string('network')!);
  // VIR_NETWORK_XML_INACTIVE, retried without it for servers that refuse the flag.
  const getXml = async () => {
    try {
      return await net.xmlDesc(1);
    } catch (e) {
      if (asVirError(e)?.code !== VirErrorNumber.INVALID_ARG) throw e;
      return net.xmlDesc(0);
    }
  };
  const r = await editLoop(ctl, { getXml, define: async (xml) => (await ctl.connection.defineNetwork(xml)).name, notChanged: () => true });
  if (r.kind === 'unchanged') ctl.printExtra(`Network ${net.name} XML configuration not changed.\n`);
  else ctl.printExtra(`Network ${r.name ?? '(null)'} XML configuration edited.\n`);
}

async function poolEdit(ctl: Ctl, o: Opts): Promise<void> {
  const pool = await poolByText(ctl, o.string('pool')!);
  // VIR_STORAGE_XML_INACTIVE, probed once and dropped for servers that refuse it.
  let flags = 1;
  try {
    await pool.xmlDesc(flags);
  } catch (e) {
    if (asVirError(e)?.code !== VirErrorNumber.INVALID_ARG) throw new CliError('', asVirError(e));
    flags = 0;
  }
  const r = await editLoop(ctl, { getXml: () => pool.xmlDesc(flags), define: async (xml) => (await ctl.connection.defineStoragePool(xml, 0)).name, notChanged: () => true });
  if (r.kind === 'unchanged') ctl.printExtra(`Pool ${pool.name} XML configuration not changed.\n`);
  else ctl.printExtra(`Pool ${r.name ?? '(null)'} XML configuration edited.\n`);
}

async function ifaceEdit(ctl: Ctl, o: Opts): Promise<void> {
  const iface = await ifaceByText(ctl, o.string('interface')!, 'any');
  const r = await editLoop(ctl, {
    getXml: () => iface.xmlDesc(1), // VIR_INTERFACE_XML_INACTIVE
    define: async (xml) => (await ctl.connection.defineInterface(xml, 0)).name,
    notChanged: () => true,
  });
  if (r.kind === 'unchanged') ctl.printExtra(`Interface ${iface.name} XML configuration not changed.\n`);
  else ctl.printExtra(`Interface ${r.name ?? '(null)'} XML configuration edited.\n`);
}

/** virshLookupSnapshot (not exclusive): by name, else the current one. */
async function lookupSnapshot(o: Opts, d: Domain): Promise<DomainSnapshot> {
  const name = o.string('snapshotname');
  if (name !== undefined) return attempt(d.snapshotLookupByName(name), '');
  if (o.bool('current')) return attempt(d.currentSnapshot(), '');
  throw new CliError('--snapshotname or --current is required');
}

async function snapshotEdit(ctl: Ctl, o: Opts): Promise<void> {
  const renameOk = o.bool('rename');
  const cloneOk = o.bool('clone');
  if (renameOk && cloneOk) throw new CliError('Options --rename and --clone are mutually exclusive');
  // VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE, plus _CURRENT when a named snapshot is to become current.
  let flags = 1;
  if (o.bool('current') && o.has('snapshotname')) flags |= 2;
  const d = await domainOpt(ctl, o);
  const snap = await lookupSnapshot(o, d);
  const name = snap.name;
  try {
    let edited: DomainSnapshot | null = null;
    const r = await editLoop(ctl, {
      getXml: () => snap.xmlDesc(1), // VIR_DOMAIN_XML_SECURE
      define: async (xml, original) => {
        if (original.includes('<state>disk-snapshot</state>')) flags |= 16; // _DISK_ONLY
        edited = await d.createSnapshot(xml, flags);
        return edited.name;
      },
      // With --current the snapshot is redefined even when unchanged, to make it current.
      notChanged: () => (flags & 2) === 0,
    });
    if (r.kind === 'unchanged') {
      ctl.printExtra(`Snapshot ${name} XML configuration not changed.\n`);
      return;
    }
    // virsh 9.0 crashes here when the redefinition failed without a terminal; we fail instead.
    if (r.name === null || edited === null) throw new CliError('');
    const newSnap: DomainSnapshot = edited;
    if (r.name === name) ctl.printExtra(`Snapshot ${name} edited.\n`);
    else if (cloneOk) ctl.printExtra(`Snapshot ${name} cloned to ${r.name}.\n`);
    else {
      try {
        await (renameOk ? snap : newSnap).delete(2); // VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY
      } catch (e) {
        const err = asVirError(e);
        if (err) ctl.error(err.message);
        throw new CliError(`Failed to clean up ${renameOk ? name : r.name}`);
      }
      if (!renameOk) throw new CliError(`Must use --rename or --clone to change ${name} to ${r.name}`);
    }
  } catch (e) {
    // Whatever failed, virsh names the snapshot last (before a still-unreported libvirt error).
    if (e instanceof CliError) {
      if (e.message) ctl.error(e.message);
      if (e.extra) ctl.error(e.extra);
      throw new CliError(`Failed to update ${name}`, e.virCause);
    }
    throw new CliError(`Failed to update ${name}`, asVirError(e));
  }
}

/** `desc --edit`: the description (or the given text) goes through the editor first. */
async function desc(ctl: Ctl, o: Opts): Promise<void> {
  const plain = DOMAIN_MORE_COMMANDS.desc!;
  if (!o.bool('edit')) return plain(ctl, o);
  const flags = affectFlags(o);
  const d = await domainOpt(ctl, o);
  const title = o.bool('title');
  const words = o.argv('new-desc');
  const text = words.length > 0 ? words.join(' ') : await description(d, title, flags & 2);
  const edited = await editString(text);
  if (edited === text) {
    ctl.printExtra(title ? 'Domain title not changed\n' : 'Domain description not changed\n');
    return;
  }
  await attempt(d.setMetadata(title ? 1 : 0, edited, null, null, flags), title ? 'Failed to set new domain title' : 'Failed to set new domain description');
  ctl.print(title ? 'Domain title updated successfully' : 'Domain description updated successfully');
}

export const EDIT_COMMANDS: CommandTable = {
  edit,
  'net-edit': netEdit,
  'pool-edit': poolEdit,
  'iface-edit': ifaceEdit,
  'snapshot-edit': snapshotEdit,
  desc,
};
