// The QEMU program's procedures (libvirt-qemu): raw monitor passthrough, QMP event
// forwarding, attaching to a QEMU started elsewhere, and the guest-agent passthrough (no
// agent channel is ever configured by this driver).
import type { QemuDriverMethods } from '../../api/driver.js';
import type { RemoteNonnullDomain } from '../../protocol/gen/remote.js';
import { QmpError, QmpTimeoutError } from '../../qmp/index.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';
import { Taint, type QemuDomain } from './domain-obj.js';
import { checkFlags, internalError, notRunning, operationTimeout } from './errors.js';
import type { QemuDriverState } from './state.js';

/** VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP. */
const MONITOR_HMP = 1;

export function qemuApiMethods(s: QemuDriverState): QemuDriverMethods {
  const find = (h: RemoteNonnullDomain): QemuDomain => s.domain(h);

  return {
    async monitorCommand(h, cmd, flags) {
      checkFlags('qemuDomainQemuMonitorCommandWithFiles', flags, MONITOR_HMP);
      const d = find(h);
      return d.withJob(async () => {
        const proc = d.proc;
        if (!d.active || !proc) throw notRunning();
        d.taints.add(Taint.CUSTOM_MONITOR);
        // HMP goes through human-monitor-command and yields its output text only.
        if (flags & MONITOR_HMP) return proc.command<string>('human-monitor-command', { 'command-line': cmd }, d.name);
        const req = parseCommand(cmd);
        const qmp = proc.qmp;
        if (!qmp || proc.isEnded) throw internalError('monitor must not be NULL');
        try {
          return JSON.stringify(await qmp.passthrough(req.execute, req.arguments, { timeoutMs: proc.timeouts.commandMs }));
        } catch (err) {
          if (err instanceof QmpTimeoutError) {
            throw operationTimeout(`QEMU monitor of '${d.name}' did not answer '${req.execute}' within ${proc.timeouts.commandMs} ms`);
          }
          if (err instanceof QmpError) throw internalError(err.desc);
          throw internalError('End of file from qemu monitor');
        }
      });
    },

    onMonitorEvent(listener) {
      s.monitorListeners.add(listener);
      return () => void s.monitorListeners.delete(listener);
    },

    async attach(pid, flags) {
      checkFlags('qemuDomainQemuAttach', flags, 0);
      return (await s.adopt(pid)).handle();
    },

    agentCommand(h, _cmd, _timeout, flags) {
      checkFlags('qemuDomainQemuAgentCommand', flags, 0);
      const d = find(h);
      if (!d.active || !d.proc) throw notRunning();
      // qemuDomainAgentAvailable: no org.qemu.guest_agent.0 channel in the definition.
      throw new VirError({
        code: VirErrorNumber.ARGUMENT_UNSUPPORTED, domain: VirErrorDomain.QEMU,
        message: 'argument unsupported: QEMU guest agent is not configured',
        str1: 'argument unsupported: %s', str2: 'QEMU guest agent is not configured',
      });
    },
  };
}

/** The command object virsh hands over: {"execute": NAME, "arguments": {...}}. */
function parseCommand(cmd: string): { execute: string; arguments?: object } {
  let v: unknown;
  try {
    v = JSON.parse(cmd);
  } catch (e) {
    throw internalError(`cannot parse json ${cmd}: ${(e as Error).message}`);
  }
  const o = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  if (!o || typeof o.execute !== 'string') throw internalError(`cannot parse json ${cmd}: not a QMP command object`);
  const args = o.arguments;
  if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) {
    throw internalError(`cannot parse json ${cmd}: "arguments" must be an object`);
  }
  return { execute: o.execute, arguments: args as object | undefined };
}
