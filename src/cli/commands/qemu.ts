// virsh's QEMU commands (libvirt-qemu's API): monitor and agent passthrough, attach, QMP events.
import { QemuAgentCommandTimeout } from '../../api/qemu.js';
import { asVirError, CliError, type Ctl, type Opts } from '../ctl.js';
import { pumpEvents, stamp } from '../event-loop.js';
import { domainOpt } from '../lookup.js';
import { formatJson, JsonSyntaxError, member, parseJson, reformatJson, type JsonNode } from './qemu-json.js';
import type { CommandTable } from './types.js';

/** A libvirt failure shown as virsh shows these commands' errors: the libvirt line alone. */
function libvirtOnly(e: unknown): never {
  const err = asVirError(e);
  if (err) throw err;
  throw e;
}

function parseFds(text: string): number[] {
  return text.split(',').map((s) => {
    if (!/^\d+$/.test(s) || Number(s) > 2147483647) throw new CliError(`Unable to parse FD number '${s}'`);
    return Number(s);
  });
}

function isJson(text: string): boolean {
  try {
    parseJson(text);
    return true;
  } catch (e) {
    if (e instanceof JsonSyntaxError || e instanceof SyntaxError) return false;
    throw e;
  }
}

/**
 * The QMP text virsh sends for CMD...: JSON as given, else the first word is the command name and
 * the rest its arguments (JSON as given, or bare `"key":value` members joined into an object).
 */
export function wrapQmpCommand(words: readonly string[]): string {
  const full = words.join(' ');
  if (isJson(full)) return full;
  const [name = '', ...rest] = words;
  let args: JsonNode | null = null;
  if (rest.length > 0) {
    const joined = rest.join(' ');
    const members = `{${rest.join(',')}}`;
    try {
      args = isJson(joined) ? parseJson(joined) : parseJson(members);
    } catch (e) {
      if (!(e instanceof JsonSyntaxError || e instanceof SyntaxError)) throw e;
      throw new CliError(`failed to wrap arguments '${joined}' into a QMP command wrapper`, null, `internal error: cannot parse json ${members}: ${e.message}`);
    }
  }
  const entries: Array<[string, JsonNode]> = [['execute', { t: 'str', v: name }]];
  if (args) entries.push(['arguments', args]);
  return formatJson({ t: 'obj', entries }, false);
}

async function qemuMonitorCommand(ctl: Ctl, o: Opts): Promise<void> {
  const hmp = o.bool('hmp');
  const pretty = o.bool('pretty');
  const returnValue = o.bool('return-value');
  if (hmp && pretty) throw new CliError('Options --hmp and --pretty are mutually exclusive');
  if (hmp && returnValue) throw new CliError('Options --hmp and --return-value are mutually exclusive');
  const dom = await domainOpt(ctl, o);
  const fds = o.string('pass-fds');
  if (fds !== undefined) {
    parseFds(fds);
    // File descriptors travel only over a UNIX socket's ancillary data, which our RPC client does not send.
    throw new CliError('passing file descriptors (--pass-fds) is not supported by tsvirsh');
  }
  const words = o.argv('cmd');
  const result = await dom.qemuMonitorCommand(hmp ? words.join(' ') : wrapQmpCommand(words), { hmp }).catch(libvirtOnly);
  if (!returnValue && !pretty) {
    ctl.print(`${result}\n`);
    return;
  }
  let json;
  try {
    json = parseJson(result);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new CliError(`cannot parse monitor reply as JSON: ${e.message}`);
    throw e;
  }
  if (returnValue) {
    const ret = member(json, 'return');
    if (!ret) throw new CliError("'return' member missing");
    json = ret;
  }
  // virsh prints this form without a newline of its own.
  ctl.print(formatJson(json, pretty));
}

async function qemuAttach(ctl: Ctl, o: Opts): Promise<void> {
  const pid = o.uint('pid') ?? 0;
  try {
    const dom = await ctl.connection.qemuAttach(pid);
    ctl.printExtra(`Domain '${dom.name}' attached to pid ${pid}\n`);
  } catch (e) {
    throw new CliError(`Failed to attach to pid ${pid}`, asVirError(e));
  }
}

async function qemuAgentCommand(ctl: Ctl, o: Opts): Promise<void> {
  const dom = await domainOpt(ctl, o);
  const timeout = o.int('timeout');
  if (timeout !== undefined && timeout < 1) throw new CliError('timeout must be positive');
  const async_ = o.bool('async');
  const block = o.bool('block');
  if ([timeout !== undefined, async_, block].filter(Boolean).length > 1) throw new CliError('timeout, async and block options are exclusive');
  const judge = timeout ?? (async_ ? QemuAgentCommandTimeout.NOWAIT : block ? QemuAgentCommandTimeout.BLOCK : QemuAgentCommandTimeout.DEFAULT);
  const result = await dom.qemuAgentCommand(o.argv('cmd').join(' '), judge).catch(libvirtOnly);
  if (result === null) throw new CliError('');
  ctl.print(`${o.bool('pretty') ? (reformatJson(result) ?? result) : result}\n`);
}

async function qemuMonitorEvent(ctl: Ctl, o: Opts): Promise<void> {
  const timeout = o.int('timeout');
  // virsh wants a positive number of seconds that still fits in milliseconds.
  if (timeout !== undefined && (timeout < 1 || timeout > 2147483)) {
    throw new CliError(`Numeric value '${o.raw('timeout')}' for <timeout> option is malformed or out of range`);
  }
  const event = o.string('event');
  const domain = o.has('domain') ? await domainOpt(ctl, o) : undefined;
  const pretty = o.bool('pretty');
  const loop = o.bool('loop');
  const timestamps = o.bool('timestamp');
  const stream = await ctl.connection
    .qemuMonitorEvents({ domain, event, regex: o.bool('regex'), nocase: o.bool('no-case') })
    .catch(libvirtOnly);
  const { count, timedOut } = await pumpEvents(stream, { timeoutSec: timeout, loop }, (ev) => {
    // virsh's pretty form here keeps the generator's final newline.
    const reformatted = pretty && ev.details !== null ? reformatJson(ev.details) : null;
    const details = ev.details === null ? '<null>' : reformatted !== null ? `${reformatted}\n` : ev.details;
    ctl.print(
      timestamps
        ? `${stamp()}event ${ev.event} for domain '${ev.domain.name}': ${details}\n`
        : `event ${ev.event} at ${ev.seconds}.${String(ev.micros).padStart(6, '0')} for domain '${ev.domain.name}': ${details}\n`,
    );
    return true;
  });
  // Unlike `event`, both lines show even under -q.
  if (timedOut) ctl.print('event loop timed out\n');
  ctl.print(`events received: ${count}\n`);
  // virsh reports success only when something arrived.
  if (count === 0) throw new CliError('');
}

export const QEMU_COMMANDS: CommandTable = {
  'qemu-monitor-command': qemuMonitorCommand,
  'qemu-attach': qemuAttach,
  'qemu-agent-command': qemuAgentCommand,
  'qemu-monitor-event': qemuMonitorEvent,
};
