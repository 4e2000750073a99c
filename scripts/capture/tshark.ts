// tshark glue: live capture on loopback, segment extraction, and one-line summaries from libvirt's dissector.
import { spawn, spawnSync } from 'node:child_process';
import { DOMParser, type Element } from '@xmldom/xmldom';
import type { Direction, Segment } from './frames.js';

export interface Capture {
  /** Ends the capture (SIGINT lets tshark flush the file) and waits for tshark to exit. */
  stop(): Promise<void>;
}

export function startCapture(port: number, file: string): Promise<Capture> {
  return new Promise((resolve, reject) => {
    const child = spawn('tshark', ['-i', 'lo', '-f', `tcp port ${port}`, '-w', file, '-q'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const onExit = (): void => reject(new Error(`tshark exited before capturing: ${err}`));
    child.once('exit', onExit);
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
      if (!/Capturing on/.test(err)) return;
      child.off('exit', onExit);
      // "Capturing on" is printed as dumpcap starts; give the filter a moment to be live.
      setTimeout(
        () =>
          resolve({
            async stop() {
              await new Promise((r) => setTimeout(r, 300));
              child.kill('SIGINT');
              await exited;
            },
          }),
        500,
      );
    });
  });
}

function tsharkRead(args: readonly string[]): string {
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`tshark ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Every TCP segment with payload, as captured; the pcap must hold exactly one connection. */
export function readSegments(file: string, serverPort: number): Segment[] {
  const text = tsharkRead([
    '-r', file, '-o', 'tcp.relative_sequence_numbers:TRUE', '-Y', 'tcp.len > 0', '-T', 'fields', '-E', 'separator=,',
    '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'tcp.stream', '-e', 'tcp.dstport', '-e', 'tcp.seq', '-e', 'tcp.payload',
  ]);
  const streams = new Set<string>();
  const out: Segment[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const [frame, time, stream, dstport, seq, payload] = line.split(',');
    streams.add(stream ?? '');
    out.push({
      frame: Number(frame),
      time: Number(time),
      dir: Number(dstport) === serverPort ? 'c2s' : 's2c',
      seq: Number(seq),
      payload: Buffer.from((payload ?? '').replace(/:/g, ''), 'hex'),
    });
  }
  if (streams.size !== 1) throw new Error(`${file}: expected one TCP connection, found ${streams.size}`);
  return out;
}

export interface DissectedPdu {
  readonly dir: Direction;
  readonly serial: number;
  readonly proc: number;
  readonly length: number;
  readonly summary: string;
}

function attr(e: Element, name: string): string {
  return e.getAttribute(name) ?? '';
}

/** The part of a showname after "label: ", without a trailing numeric echo like " (0x20008086)". */
function shownValue(e: Element): string {
  const s = attr(e, 'showname');
  const v = s.includes(': ') ? s.slice(s.indexOf(': ') + 2) : s;
  // Keep the number when the dissector has no name for it ("Unknown (9999)").
  return v.startsWith('Unknown') ? v : v.replace(/ \((0x[0-9a-f]+|-?\d+)\)$/, '');
}

function clip(s: string, max: number): string {
  return s.length > max ? s.slice(0, max - 3) + '...' : s;
}

function summarise(pdu: Element): { summary: string; serial: number; proc: number; length: number } {
  const fields = Array.from(pdu.getElementsByTagName('field'));
  const byName = (n: string): Element | undefined => fields.find((f) => attr(f, 'name') === `libvirt.${n}`);
  const head = ['program', 'procedure', 'type', 'status'].map((n) => {
    const f = byName(n);
    return f ? shownValue(f) : '?';
  });
  const serialField = byName('serial');
  const serial = serialField ? Number(attr(serialField, 'show')) : -1;
  // Payload: leaf fields under the body, as name=value with the struct prefix dropped.
  const leaves = fields.filter((f) => {
    const n = attr(f, 'name');
    if (['length', 'program', 'version', 'procedure', 'type', 'serial', 'status'].some((h) => n === `libvirt.${h}`)) return false;
    return f.getElementsByTagName('field').length === 0 && attr(f, 'showname') !== '';
  });
  // Consecutive leaves with one name are array elements (char<> arrays come one word per char): list them once.
  const groups: { name: string; values: string[] }[] = [];
  for (const f of leaves) {
    const n = attr(f, 'name');
    const name = n.slice(n.lastIndexOf('.') + 1);
    const last = groups[groups.length - 1];
    if (last && last.name === name) last.values.push(shownValue(f));
    else groups.push({ name, values: [shownValue(f)] });
  }
  const body = groups.map((g) => `${g.name}=${g.values.length === 1 ? clip(g.values[0] ?? '', 60) : `[${g.values.join(',')}]`}`);
  const [prog, proc, type, status] = head;
  const text = `${prog} ${proc} ${type} ${status} serial=${serial}` + (body.length ? ` | ${body.join(', ')}` : '');
  const procField = byName('procedure');
  const lenField = byName('length');
  return {
    summary: clip(text, 400),
    serial,
    proc: procField ? Number(attr(procField, 'show')) : NaN,
    length: lenField ? Number(attr(lenField, 'show')) : NaN,
  };
}

/** libvirt dissector output per PDU, in byte order within each direction. */
export function dissect(file: string, serverPort: number): DissectedPdu[] {
  const pdml = tsharkRead(['-r', file, '-d', `tcp.port==${serverPort},libvirt`, '-T', 'pdml']);
  const doc = new DOMParser().parseFromString(pdml, 'text/xml');
  const out: DissectedPdu[] = [];
  for (const packet of Array.from(doc.getElementsByTagName('packet'))) {
    const protos = Array.from(packet.getElementsByTagName('proto'));
    const dst = Array.from(packet.getElementsByTagName('field')).find((f) => attr(f, 'name') === 'tcp.dstport');
    const dir: Direction = dst && Number(attr(dst, 'show')) === serverPort ? 'c2s' : 's2c';
    for (const p of protos.filter((x) => attr(x, 'name') === 'libvirt')) out.push({ dir, ...summarise(p) });
  }
  return out;
}
