import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { libvirtdSkipReason, LibvirtdUnavailableError, startLibvirtd } from './libvirtd.js';
import { describeRun, runPython, runVirsh } from './run.js';

const skip = libvirtdSkipReason();

/** Gone, or a zombie nobody has reaped yet (PID 1 in a container may not reap). */
function processGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
    if (processGone(pid)) return true;
  }
  return processGone(pid);
}

const LIST_DOMAINS_PY = `import sys, libvirt
c = libvirt.open(sys.argv[1])
print(",".join(sorted(d.name() for d in c.listAllDomains())))
c.close()`;

test('private libvirtd answers virsh over TCP and python over UNIX, and stop() ends it', { skip, timeout: 60_000 }, async () => {
  const d = await startLibvirtd({ tcp: true });
  try {
    assert.ok(d.tcpPort !== undefined && d.tcpPort > 0);
    const tcpUri = d.uri('test', { transport: 'tcp' });
    assert.equal(tcpUri, `test+tcp://127.0.0.1:${d.tcpPort}/default`);
    const v = await runVirsh(tcpUri, ['list', '--all']);
    assert.equal(v.code, 0, describeRun(v));
    assert.match(v.stdout, /^\s*1\s+test\s+running\s*$/m, describeRun(v));

    const py = await runPython(LIST_DOMAINS_PY, [d.uri('test')]);
    assert.equal(py.code, 0, describeRun(py));
    assert.equal(py.stdout.trim(), 'test');

    // The read-only socket is a real, separate socket: state changes are refused there.
    const ro = await runVirsh(d.uri('test', { readonly: true }), ['-r', 'suspend', 'test']);
    assert.notEqual(ro.code, 0, describeRun(ro));
    assert.match(ro.stderr, /read only access prevents virDomainSuspend/, describeRun(ro));
  } finally {
    await d.stop();
  }
  assert.ok(processGone(d.pid), `libvirtd ${d.pid} still running after stop()`);
  assert.equal(existsSync(d.dir), false, 'temp dir removed');
  await d.stop(); // idempotent
});

test('two private daemons run at once without sharing sockets or ports', { skip, timeout: 60_000 }, async () => {
  const [a, b] = await Promise.all([startLibvirtd({ tcp: true }), startLibvirtd({ tcp: true })]);
  try {
    assert.notEqual(a.tcpPort, b.tcpPort);
    assert.notEqual(a.unixSocket, b.unixSocket);
    const [ra, rb] = await Promise.all([
      runVirsh(a.uri('test', { transport: 'tcp' }), ['domstate', 'test']),
      runVirsh(b.uri('test'), ['domstate', 'test']),
    ]);
    assert.equal(ra.stdout.trim(), 'running', describeRun(ra));
    assert.equal(rb.stdout.trim(), 'running', describeRun(rb));
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

test('a test process killed without stop() does not leave its libvirtd behind', { skip, timeout: 60_000 }, async () => {
  // The child starts a daemon, reports it, then dies by SIGKILL so no exit hook can run.
  const self = import.meta.url;
  const harness = new URL(self.endsWith('.ts') ? './libvirtd.ts' : './libvirtd.js', self).href;
  const code = `const h = await import(${JSON.stringify(harness)});
const d = await h.startLibvirtd();
process.stdout.write(JSON.stringify({ pid: d.pid, dir: d.dir }) + "\\n", () => process.kill(process.pid, "SIGKILL"));`;
  const args = [...(self.endsWith('.ts') ? ['--import', 'tsx'] : []), '--input-type=module', '-e', code];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  await new Promise((r) => child.once('exit', r));
  const info = JSON.parse(out) as { pid: number; dir: string };
  try {
    assert.ok(await waitGone(info.pid, 5_000), `orphaned libvirtd ${info.pid} survived its parent`);
  } finally {
    if (!processGone(info.pid)) process.kill(info.pid, 'SIGKILL');
    rmSync(info.dir, { recursive: true, force: true });
  }
});

test('startLibvirtd fails with a clear error when libvirtd is not installed', async () => {
  const saved = process.env.TSVIRT_LIBVIRTD;
  process.env.TSVIRT_LIBVIRTD = '/nonexistent/libvirtd';
  try {
    await assert.rejects(startLibvirtd(), (e: unknown) => {
      assert.ok(e instanceof LibvirtdUnavailableError);
      assert.match(e.message, /libvirtd not found at \/nonexistent\/libvirtd/);
      return true;
    });
  } finally {
    if (saved === undefined) delete process.env.TSVIRT_LIBVIRTD;
    else process.env.TSVIRT_LIBVIRTD = saved;
  }
});
