// The status file of a running domain (stateDir/NAME.xml): what a restarted daemon needs to
// find its guest again (pid, monitor socket, id, state) and the live definition. Written
// atomically after every state change.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './files.js';

export interface DomainStatus {
  readonly state: number;
  readonly reason: number;
  readonly pid: number;
  readonly id: number;
  readonly monitorPath: string;
  readonly logPath: string;
  /** Memory the balloon reported, KiB. */
  readonly currentMemoryKiB: string;
  /** The live definition, as inactive-free domain XML. */
  readonly domainXml: string;
}

export const statusFile = (stateDir: string, name: string): string => join(stateDir, `${name}.xml`);

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/'/g, '&apos;').replace(/</g, '&lt;');
const unesc = (s: string): string => s.replace(/&lt;/g, '<').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

export function writeStatus(stateDir: string, name: string, s: DomainStatus): void {
  const head =
    `<domstatus state='${s.state}' reason='${s.reason}' pid='${s.pid}' id='${s.id}' currentMemory='${s.currentMemoryKiB}'>\n` +
    `  <monitor path='${esc(s.monitorPath)}' type='unix'/>\n  <log path='${esc(s.logPath)}'/>\n`;
  writeFileAtomic(statusFile(stateDir, name), `${head}${s.domainXml.trimEnd()}\n</domstatus>\n`);
}

export function removeStatus(stateDir: string, name: string): void {
  rmSync(statusFile(stateDir, name), { force: true });
}

/** Reads a status file; undefined when missing or damaged. */
export function readStatus(path: string): DomainStatus | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const top = /^<domstatus state='(\d+)' reason='(\d+)' pid='(\d+)' id='(\d+)' currentMemory='(\d+)'>/.exec(text);
  const mon = /<monitor path='([^']*)'/.exec(text);
  const log = /<log path='([^']*)'/.exec(text);
  const start = text.indexOf('<domain');
  const end = text.lastIndexOf('</domstatus>');
  if (!top || !mon || !log || start < 0 || end < start) return undefined;
  return {
    state: Number(top[1]), reason: Number(top[2]), pid: Number(top[3]), id: Number(top[4]), currentMemoryKiB: top[5] as string,
    monitorPath: unesc(mon[1] as string), logPath: unesc(log[1] as string), domainXml: text.slice(start, end),
  };
}
