// Domain title, description and namespaced <metadata> elements (virDomainObjSetMetadata /
// GetMetadata as the test driver uses them, with the metadata-change event), and rename.
import type { DriverMethods } from '../../api/driver.js';
import type { DomainDef } from '../../api/xml/domain/types.js';
import type { XmlEl, XmlNode } from '../../api/xml/tree.js';
import { dumpLibxml, elementsOf, isEl, parseXml } from '../../api/xml/tree.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';
import type { DomainStore } from './domains.js';
import type { Emit } from './events.js';
import { Lifecycle } from './events.js';
import { DOMAIN, apiInvalidArg, checkFlags, invalidArg, operationInvalid, xmlParse } from './errors.js';

const Type = { DESCRIPTION: 0, TITLE: 1, ELEMENT: 2 } as const;
const METADATA_CHANGE = 23;
const UNDEFINED_RENAMED = 1;
const DEFINED_RENAMED = 2;

const notFound = (): VirError =>
  VirError.format(VirErrorNumber.NO_DOMAIN_METADATA, DOMAIN, 'metadata not found: %s', 'Requested metadata element is not present');
const badType = (t: number): VirError => invalidArg(`unknown metadata type '${t}'`, DOMAIN);

/** The xmlns:PREFIX attribute that binds `uri` on a metadata child, if any. */
const nsOf = (el: XmlEl): { prefix: string; uri: string } | undefined => {
  const a = el.attrs.find(([k]) => k.startsWith('xmlns:'));
  return a && { prefix: a[0].slice(6), uri: a[1] };
};

/** Renames an element tree into namespace `prefix` (libvirt re-roots metadata under its key). */
function prefixed(el: XmlEl, prefix: string, top: boolean): XmlEl {
  const local = el.name.includes(':') ? el.name.slice(el.name.indexOf(':') + 1) : el.name;
  const attrs = el.attrs.filter(([k]) => !k.startsWith('xmlns'));
  const children: XmlNode[] = el.children.map((c) => (isEl(c) ? prefixed(c, prefix, false) : c));
  return { name: `${prefix}:${local}`, attrs: top ? [[`xmlns:${prefix}`, ''], ...attrs] : attrs, children };
}

function unprefixed(el: XmlEl): XmlEl {
  const local = el.name.includes(':') ? el.name.slice(el.name.indexOf(':') + 1) : el.name;
  return { name: local, attrs: el.attrs.filter(([k]) => !k.startsWith('xmlns:')), children: el.children.map((c) => (isEl(c) ? unprefixed(c) : c)) };
}

function getMetadata(def: DomainDef, type: number, uri: string | null): string {
  if (type === Type.DESCRIPTION) {
    if (!def.description) throw notFound();
    return def.description;
  }
  if (type === Type.TITLE) {
    if (!def.title) throw notFound();
    return def.title;
  }
  if (type !== Type.ELEMENT) throw badType(type);
  const el = def.metadata && elementsOf(def.metadata).find((e) => nsOf(e)?.uri === uri);
  if (!el) throw notFound();
  return dumpLibxml(unprefixed(el)).join('\n');
}

function setMetadata(def: DomainDef, type: number, text: string | null, key: string | null, uri: string | null): void {
  if (type === Type.DESCRIPTION) def.description = text || undefined;
  else if (type === Type.TITLE) def.title = text || undefined;
  else if (type === Type.ELEMENT) {
    const keep = def.metadata ? elementsOf(def.metadata).filter((e) => nsOf(e)?.uri !== uri) : [];
    if (text) {
      const parsed = xmlParse(() => parseXml(text, '', 'metadata_xml', VirErrorDomain.DOMAIN));
      const el = prefixed(parsed, key ?? '', true);
      el.attrs[0] = [`xmlns:${key ?? ''}`, uri ?? ''];
      keep.push(el);
    }
    // libvirt keeps an emptied <metadata/> element.
    def.metadata = { name: 'metadata', attrs: [], children: keep };
  } else throw badType(type);
}

export function domainMetadataMethods(store: DomainStore, emit: Emit): DriverMethods {
  return {
    DOMAIN_GET_METADATA: ({ dom, type, uri, flags }) => {
      checkFlags('testDomainGetMetadata', flags, 3);
      if (type === Type.ELEMENT && uri === null) throw apiInvalidArg('virDomainGetMetadata', 'uri', 'uri in virDomainGetMetadata must not be NULL');
      const { def } = store.oneDef(store.resolve(dom), flags);
      return { metadata: getMetadata(def, type, uri) };
    },
    DOMAIN_SET_METADATA: ({ dom, type, metadata, key, uri, flags }) => {
      checkFlags('testDomainSetMetadata', flags, 3);
      if (type === Type.TITLE && metadata?.includes('\n')) {
        throw apiInvalidArg('virDomainSetMetadata', 'metadata', "metadata title can't contain newlines");
      }
      const d = store.resolve(dom);
      const { live, config } = store.defsFor(d, flags);
      if (live) setMetadata(d.def, type, metadata, key, uri);
      if (config) setMetadata(d.persistentDef(), type, metadata, key, uri);
      emit({
        family: 'domain',
        eventID: METADATA_CHANGE,
        proc: 'DOMAIN_EVENT_CALLBACK_METADATA_CHANGE',
        target: dom.uuid,
        payload: { dom: d.handle(), type, nsuri: type === Type.ELEMENT ? uri : null },
      });
    },
    DOMAIN_RENAME: ({ dom, newName, flags }) => {
      checkFlags('testDomainRename', flags, 0);
      const d = store.resolve(dom);
      if (d.active) throw operationInvalid('cannot rename active domain');
      if (!d.persistent) throw operationInvalid('cannot rename a transient domain');
      const name = newName ?? '';
      if (name === d.name) throw operationInvalid("Can't rename domain to itself", DOMAIN);
      if (store.list.findByName(name)) throw operationInvalid(`domain with name '${name}' already exists`, DOMAIN);
      if (name.includes('/')) throw VirError.format(VirErrorNumber.XML_ERROR, VirErrorDomain.TEST, 'XML error: %s', `name ${name} cannot contain '/'`);
      store.lifecycle(d, Lifecycle.UNDEFINED, UNDEFINED_RENAMED);
      store.list.rename(d, name);
      store.lifecycle(d, Lifecycle.DEFINED, DEFINED_RENAMED);
      return { retcode: 0 };
    },
  };
}
