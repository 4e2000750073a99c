// libxml2-style messages for the malformed-XML cases libvirt users hit most: libvirt
// reports them as "(LABEL):LINE: MESSAGE\nCONTEXT\n----^" with code 35 (XML_DETAIL).
import { XmlModelError, ErrCode } from './errors.js';

const TAG = /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!\[CDATA\[[\s\S]*?\]\]>|<!DOCTYPE[^>]*>|<(\/?)([A-Za-z_][\w:.-]*)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/g;

function lineOf(text: string, offset: number): number {
  let n = 1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

/** The context line and caret libxml2 prints under a message (column = offset in line). */
function context(text: string, offset: number): string {
  // At the very end of input after a final newline, libxml2 has no line to show and prints "(null)".
  if (offset >= text.length && text.endsWith('\n')) return '(null)\n^';
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  let end = text.indexOf('\n', start);
  if (end < 0) end = text.length;
  const line = text.slice(start, end);
  const col = offset - start;
  return `${line}\n${'-'.repeat(col)}^`;
}

/** Returns a libvirt-shaped error for the first structural problem found, else null. */
export function checkWellFormed(text: string, label: string, domain: number): XmlModelError | null {
  const fail = (offset: number, msg: string) =>
    new XmlModelError(ErrCode.xmlDetail, domain, `(${label}):${lineOf(text, offset)}: ${msg}\n${context(text, offset)}`);
  if (text.trim() === '') return new XmlModelError(ErrCode.xmlDetail, domain, `(${label}):1: Document is empty\n(null)\n^`);
  const stack: { name: string; line: number }[] = [];
  for (const m of text.matchAll(TAG)) {
    if (m[2] === undefined) continue;
    const [, close, name, , selfClose] = m;
    if (close) {
      const top = stack.pop();
      if (!top) return fail(m.index + 2 + name.length, `StartTag: invalid element name`);
      if (top.name !== name)
        return fail(m.index + m[0].length, `Opening and ending tag mismatch: ${top.name} line ${top.line} and ${name}`);
    } else if (!selfClose) {
      stack.push({ name, line: lineOf(text, m.index) });
    }
  }
  // A start tag cut off by the end of input ("<domain"): libxml2 reports it before any unclosed element.
  const lastLt = text.lastIndexOf('<');
  const cut = lastLt >= 0 && !text.includes('>', lastLt) ? /^<([A-Za-z_][\w:.-]*)/.exec(text.slice(lastLt)) : null;
  if (cut) return fail(text.length, `Couldn't find end of Start Tag ${cut[1]} line ${lineOf(text, lastLt)}`);
  const open = stack.pop();
  if (open) {
    // libxml2 points at the very end of the input (after any trailing newline).
    return fail(text.length, `Premature end of data in tag ${open.name} line ${open.line}`);
  }
  return null;
}
