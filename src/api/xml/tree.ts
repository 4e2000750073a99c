// A small element tree over @xmldom/xmldom: parsing turns the DOM into plain objects the
// model parsers read, and `render` writes elements the way libvirt's virBuffer does
// (2-space indent, single-quoted attributes, libvirt's escaping).
import { DOMParser } from '@xmldom/xmldom';
import { checkWellFormed } from './wellformed.js';
import { xmlError, ErrDomain, XmlModelError, ErrCode } from './errors.js';

export interface XmlEl {
  name: string;
  attrs: [string, string][];
  children: XmlNode[];
}
export type XmlNode = XmlEl | { text: string };

export const isEl = (n: XmlNode): n is XmlEl => 'name' in n;

interface DomLike {
  nodeType: number;
  nodeName: string;
  nodeValue: string | null;
  attributes?: { length: number; item(i: number): { name: string; value: string } | null };
  childNodes: { length: number; item(i: number): DomLike | null };
}

function convert(n: DomLike): XmlEl {
  const attrs: [string, string][] = [];
  for (let i = 0; n.attributes && i < n.attributes.length; i++) {
    const a = n.attributes.item(i);
    if (a) attrs.push([a.name, a.value]);
  }
  const children: XmlNode[] = [];
  for (let i = 0; i < n.childNodes.length; i++) {
    const c = n.childNodes.item(i);
    if (!c) continue;
    if (c.nodeType === 1) children.push(convert(c));
    else if (c.nodeType === 3 || c.nodeType === 4) children.push({ text: c.nodeValue ?? '' });
  }
  return { name: n.nodeName, attrs, children };
}

/**
 * Parses a document and checks its root name. `label` is libvirt's pseudo file name for
 * error messages (e.g. "domain_definition"); `domain` is the virErrorDomain to report from.
 */
export function parseXml(text: string, root: string, label: string, domain: number): XmlEl {
  const bad = checkWellFormed(text, label, domain);
  if (bad) throw bad;
  let doc;
  try {
    doc = new DOMParser({
      onError: (level, msg) => {
        if (level !== 'warning') throw new Error(msg);
      },
    }).parseFromString(text, 'text/xml');
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new XmlModelError(ErrCode.xmlDetail, domain, `(${label}):1: ${msg}`);
  }
  const top = doc.documentElement as unknown as DomLike | null;
  if (!top) throw new XmlModelError(ErrCode.xmlDetail, domain, `(${label}):1: Document is empty\n(null)\n^`);
  const el = convert(top);
  if (root !== '' && el.name !== root) throw xmlError(ErrDomain.xml, `expecting root element of '${root}', not '${el.name}'`);
  return el;
}

/** Wraps an already-parsed element (e.g. a <domain> inside a test-driver <node> file). */
export function elementsOf(el: XmlEl, name?: string): XmlEl[] {
  return el.children.filter((c): c is XmlEl => isEl(c) && (name === undefined || c.name === name));
}
export const child = (el: XmlEl | undefined, name: string): XmlEl | undefined =>
  el?.children.find((c): c is XmlEl => isEl(c) && c.name === name);
export const attr = (el: XmlEl | undefined, name: string): string | undefined =>
  el?.attrs.find(([k]) => k === name)?.[1];
export const textOf = (el: XmlEl | undefined): string | undefined =>
  el === undefined ? undefined : el.children.map((c) => ('text' in c ? c.text : textOf(c) ?? '')).join('');
/** Text of a named child, or undefined when the child is absent. */
export const childText = (el: XmlEl | undefined, name: string): string | undefined => textOf(child(el, name));

// ---- output ----

export type AttrValue = string | number | bigint | undefined | null;
/** An element to write. `text` gives inline content; `kids` nested elements; `raw` pre-indented lines. */
export interface Out {
  name: string;
  attrs?: [string, AttrValue][];
  kids?: (Out | undefined | null | false)[];
  text?: string;
  /** Lines written verbatim (already indented relative to this element's children). */
  raw?: string[];
  /** Write `<x>` and `</x>` on separate lines even with no children. */
  open?: boolean;
  /** Self-close as `<x />` (a few libvirt formatters write the space). */
  spacedClose?: boolean;
}

/** libvirt's virBufferEscapeString: five entities, other control characters dropped. */
export function escape(s: string): string {
  let out = '';
  for (const ch of s) {
    switch (ch) {
      case '<': out += '&lt;'; break;
      case '>': out += '&gt;'; break;
      case '&': out += '&amp;'; break;
      case '"': out += '&quot;'; break;
      case "'": out += '&apos;'; break;
      default: {
        const c = ch.charCodeAt(0);
        if (c < 0x20 && c !== 9 && c !== 10 && c !== 13) break;
        out += ch;
      }
    }
  }
  return out;
}

function renderAttrs(attrs: [string, AttrValue][] | undefined): string {
  let s = '';
  for (const [k, v] of attrs ?? []) if (v !== undefined && v !== null) s += ` ${k}='${escape(String(v))}'`;
  return s;
}

export function render(o: Out, indent = 0, lines: string[] = []): string[] {
  const pad = ' '.repeat(indent);
  const head = `${pad}<${o.name}${renderAttrs(o.attrs)}`;
  const kids = (o.kids ?? []).filter((k): k is Out => !!k);
  if (o.text !== undefined && kids.length === 0 && !o.raw) {
    lines.push(`${head}>${escape(o.text)}</${o.name}>`);
  } else if (kids.length === 0 && !o.raw?.length && !o.open) {
    lines.push(`${head}${o.spacedClose ? ' ' : ''}/>`);
  } else {
    lines.push(`${head}>`);
    for (const k of kids) render(k, indent + 2, lines);
    for (const r of o.raw ?? []) lines.push(pad + '  ' + r);
    lines.push(`${pad}</${o.name}>`);
  }
  return lines;
}

/** Formats a document the way virsh prints it: trailing newline after the root. */
export const renderDoc = (o: Out): string => render(o).join('\n') + '\n';

/** A parsed element written back as-is, with attribute order kept and whitespace-only text dropped. */
export function passthrough(el: XmlEl): Out {
  const kids = elementsOf(el).map(passthrough);
  const text = textOf(el) ?? '';
  const out: Out = { name: el.name, attrs: el.attrs };
  if (kids.length) out.kids = kids;
  else if (text.trim() !== '') out.text = text;
  return out;
}

/** Like libxml2's xmlNodeDump with formatting: double quotes, used for <metadata> content. */
export function dumpLibxml(el: XmlEl, indent = 0, lines: string[] = []): string[] {
  const pad = ' '.repeat(indent);
  const a = el.attrs.map(([k, v]) => ` ${k}="${v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')}"`).join('');
  const kids = elementsOf(el);
  const text = el.children.every((c) => !isEl(c)) ? textOf(el) ?? '' : '';
  if (kids.length) {
    lines.push(`${pad}<${el.name}${a}>`);
    for (const k of kids) dumpLibxml(k, indent + 2, lines);
    lines.push(`${pad}</${el.name}>`);
  } else if (text !== '') {
    lines.push(`${pad}<${el.name}${a}>${text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}</${el.name}>`);
  } else lines.push(`${pad}<${el.name}${a}/>`);
  return lines;
}
