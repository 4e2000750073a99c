#!/usr/bin/env bash
# Regenerates test/fixtures/qemu-argv/NAME.args from real libvirt 9.0's QEMU driver, one argument
# per line starting at the emulator (libvirt's environment prefix is dropped). Most fixtures go
# through `virsh domxml-to-native qemu-argv`; the ones listed in START are defined and started
# (paused) for real, because domxml-to-native rewrites every interface into a tap fd, and their
# argv is read from /proc/PID/cmdline. Needs root (a private libvirtd, see test/harness/libvirtd.ts).
# Usage: scripts/capture-qemu-argv.sh [NAME...]   (default: every NAME.xml)
set -euo pipefail
cd "$(dirname "$0")/.."
export TSVIRT_CAPTURE_START="net-user"
exec node --import tsx --input-type=module -e "$(cat <<'JS'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLibvirtd } from './test/harness/libvirtd.ts';
import { runVirsh, describeRun } from './test/harness/run.ts';

const dir = 'test/fixtures/qemu-argv';
const start = new Set((process.env.TSVIRT_CAPTURE_START ?? '').split(/\s+/).filter(Boolean));
const wanted = process.argv.slice(1);
const names = readdirSync(dir).filter((f) => f.endsWith('.xml')).map((f) => f.slice(0, -4))
  .filter((n) => wanted.length === 0 || wanted.includes(n)).sort();

// Splits the shell-quoted line virsh prints ('...' quoting only, as libvirt writes it).
function shellSplit(line) {
  const out = [];
  let cur = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === ' ') { if (cur !== null) out.push(cur); cur = null; continue; }
    if (c === "'") { const j = line.indexOf("'", i + 1); cur = (cur ?? '') + line.slice(i + 1, j); i = j; continue; }
    if (c === '\\') { cur = (cur ?? '') + line[++i]; continue; }
    cur = (cur ?? '') + c;
  }
  if (cur !== null) out.push(cur);
  return out;
}

function findQemuArgv(domName) {
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    let args;
    try { args = readFileSync('/proc/' + p + '/cmdline', 'utf8').split('\0').slice(0, -1); } catch { continue; }
    const i = args.indexOf('-name');
    if (i > 0 && args[i + 1].startsWith('guest=' + domName.replaceAll(',', ',,') + ',')) return args;
  }
  throw new Error('no QEMU process for ' + domName);
}

const must = (r, what) => { if (r.code !== 0) throw new Error(what + ': ' + describeRun(r)); return r; };
// The daemon child is unref'ed by the harness; keep this process alive until we are done.
const keepAlive = setInterval(() => undefined, 1000);
const d = await startLibvirtd({ idleTimeoutSeconds: 600 });
try {
  const uri = d.uri('qemu');
  for (const name of names) {
    const xml = join(dir, name + '.xml');
    let argv;
    if (start.has(name)) {
      const domName = /<name>([^<]+)<\/name>/.exec(readFileSync(xml, 'utf8'))[1];
      must(await runVirsh(uri, ['define', xml], { timeoutMs: 180_000 }), 'define ' + name);
      try {
        must(await runVirsh(uri, ['start', '--paused', domName], { timeoutMs: 120_000 }), 'start ' + name);
        // The pid file lives in the daemon's private mount namespace: find the process instead.
        argv = findQemuArgv(domName);
        await runVirsh(uri, ['destroy', domName]);
      } finally {
        await runVirsh(uri, ['undefine', domName]);
      }
    } else {
      // The first call probes QEMU's capabilities, which takes a while.
      const r = must(await runVirsh(uri, ['domxml-to-native', 'qemu-argv', xml], { timeoutMs: 180_000 }), name);
      argv = shellSplit(r.stdout.trim());
      argv = argv.slice(argv.findIndex((a) => !/^[A-Z_]+=/.test(a)));
    }
    writeFileSync(join(dir, name + '.args'), argv.join('\n') + '\n');
    console.log('captured', name, (start.has(name) ? '(start)' : '(domxml-to-native)'), argv.length, 'args');
  }
} finally {
  await d.stop();
  clearInterval(keepAlive);
}
JS
)" "$@"
