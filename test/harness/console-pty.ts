// A console client (virsh console, tsvirsh console) run on a pty, as they insist on a terminal:
// Enter now and then until the guest's banner shows (it prints it again after each line), then
// Ctrl-] to leave. The script prints what the terminal showed, then "EXIT <status>" and
// "ICANON <1|0>" (whether the terminal was left in canonical mode).
import { runCommand, SYSTEM_PYTHON, type RunResult } from './run.js';

export const CONSOLE_PTY_PY = `
import json, os, pty, select, sys, termios, time
argv, banner = json.loads(sys.argv[1]), sys.argv[2].encode()
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
buf = b''
deadline = time.time() + 40
last_enter = 0.0
while time.time() < deadline and banner not in buf:
    if b'Escape character' in buf and time.time() - last_enter > 2:
        os.write(fd, b'\\r')
        last_enter = time.time()
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            d = os.read(fd, 4096)
        except OSError:
            break
        if not d:
            break
        buf += d
os.write(fd, b'\\x1d')
status = None
canon = None
end = time.time() + 10
while time.time() < end:
    if canon is None or status is None:
        try:
            canon = 1 if termios.tcgetattr(fd)[3] & termios.ICANON else 0
        except termios.error:
            pass
    p, st = os.waitpid(pid, os.WNOHANG)
    if p:
        status = os.waitstatus_to_exitcode(st)
        break
    try:
        if select.select([fd], [], [], 0.1)[0]:
            buf += os.read(fd, 4096)
    except OSError:
        pass
if status is None:
    os.kill(pid, 9)
sys.stdout.write(buf.decode('utf-8', 'replace'))
sys.stdout.write('\\nEXIT %s\\nICANON %s\\n' % (status, canon))
`;

/** Runs `argv` (a console client) on a pty until `banner`, then leaves with Ctrl-]. */
export function consoleOnPty(argv: readonly string[], banner: string, script = CONSOLE_PTY_PY): Promise<RunResult> {
  return runCommand(SYSTEM_PYTHON, ['-c', script, JSON.stringify(argv), banner], { timeoutMs: 70_000 });
}
