// Character devices: the -chardev back-end (pty, file, UNIX socket) and the serial port on it.
import type { DomainChr } from '../../../api/xml/domain/types.js';
import { attr } from '../../../api/xml/tree.js';
import { unsupportedConfig, unsupportedElement } from './errors.js';
import { jsonArg, qemuOptValue } from './escape.js';

function chardevSpec(c: DomainChr, id: string): string {
  const src = c.sources[0];
  switch (c.type) {
    case 'pty':
      return `pty,id=${id}`;
    case 'file': {
      const path = attr(src, 'path');
      if (path === undefined) throw unsupportedConfig(`${c.kind} type file needs <source path=...>`);
      return `file,id=${id},path=${qemuOptValue(path)}${attr(src, 'append') === 'on' ? ',append=on' : ''}`;
    }
    case 'unix': {
      const path = attr(src, 'path');
      if (path === undefined) throw unsupportedConfig(`${c.kind} type unix needs <source path=...>`);
      const server = (attr(src, 'mode') ?? 'connect') === 'bind';
      return `socket,id=${id},path=${qemuOptValue(path)}${server ? ',server=on,wait=off' : ''}`;
    }
    default:
      throw unsupportedElement(`${c.kind} type '${c.type}'`);
  }
}

export function validateChr(c: DomainChr): void {
  if (c.kind === 'serial') {
    if (c.targetType !== undefined && c.targetType !== 'isa-serial') throw unsupportedElement(`serial target type '${c.targetType}'`);
    chardevSpec(c, '');
  } else if (c.kind === 'console') {
    // Only the console that mirrors serial0 (libvirt's HVM default) needs nothing of its own.
    if (c.targetType !== 'serial') throw unsupportedElement(`console target type '${c.targetType ?? ''}'`);
  } else {
    throw unsupportedElement(`<${c.kind}> device`);
  }
}

export function serialArgs(c: DomainChr): string[] {
  const port = c.targetPort ?? 0;
  const id = `charserial${port}`;
  return ['-chardev', chardevSpec(c, id), '-device', jsonArg({ driver: 'isa-serial', chardev: id, id: `serial${port}`, index: port })];
}
