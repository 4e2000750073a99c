// What each golden capture runs against the private libvirtd, and what it must contain to be useful.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describeRun, runVirsh, SYSTEM_PYTHON, type RunResult } from '../../test/harness/run.js';
import type { Libvirtd } from '../../test/harness/libvirtd.js';
import type { GoldenMessage } from '../../test/harness/golden.js';
import { unknownProcSession } from './raw-client.js';

export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** The command line as a person would type it; PORT stands for the daemon's TCP port. */
  readonly command: string;
  run(d: Libvirtd, scratch: string): Promise<void>;
  /** Problems that make the capture useless (missing the exchange it exists for). */
  check(m: readonly GoldenMessage[]): string[];
}

const REMOTE = 0x20008086;
const KEEPALIVE = 0x6b656570;
const CALL = 0, REPLY = 1, MESSAGE = 2, STREAM = 3;
const OK = 0, ERROR = 1, CONTINUE = 2;

const tcp = (d: Libvirtd): string => d.uri('test', { transport: 'tcp' });

function need(ok: boolean, what: string): string[] {
  return ok ? [] : [`missing: ${what}`];
}

function has(m: readonly GoldenMessage[], p: Partial<GoldenMessage> & { minLen?: number; len?: number }): boolean {
  return m.some((x) => {
    const bytes = x.hex.length / 2;
    if (p.len !== undefined && bytes !== p.len) return false;
    if (p.minLen !== undefined && bytes < p.minLen) return false;
    return (['dir', 'prog', 'proc', 'type', 'serial', 'status'] as const).every((k) => p[k] === undefined || p[k] === x[k]);
  });
}

async function virsh(uri: string, args: string[], expectOk = true, timeoutMs = 20_000): Promise<RunResult> {
  const r = await runVirsh(uri, args, { timeoutMs });
  if (r.timedOut || (expectOk ? r.code !== 0 : r.code === 0)) throw new Error(`virsh ${args.join(' ')}: ${describeRun(r)}`);
  return r;
}

const HOLDER_PY = `import sys, time, libvirt
c = libvirt.open(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
d = c.lookupByName("test")
d.suspend()
time.sleep(0.5)
d.resume()
print("done", flush=True)
sys.stdin.readline()
c.close()`;

/**
 * Holds a UNIX-socket connection (so test:///default keeps its state, and stays off the TCP capture)
 * and, when told, suspends and resumes domain `test`.
 */
async function withSuspendResumeHolder(uri: string, during: (trigger: () => Promise<void>) => Promise<void>): Promise<void> {
  const py = spawn(SYSTEM_PYTHON, ['-c', HOLDER_PY, uri], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((r) => py.once('exit', r));
  const lines = createInterface({ input: py.stdout })[Symbol.asyncIterator]();
  const expect = async (word: string): Promise<void> => {
    const l = await lines.next();
    if (l.done || l.value !== word) throw new Error(`holder: expected ${word}, got ${String(l.value)}`);
  };
  try {
    await expect('ready');
    await during(async () => {
      py.stdin.write('go\n');
      await expect('done');
    });
  } finally {
    py.stdin.end('close\n');
    await exited;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'version',
    description: 'Full virsh handshake (AUTH_LIST, SUPPORTS_FEATURE, CONNECT_OPEN "test:///default", close callback), GET_TYPE, GET_VERSION, teardown.',
    command: 'virsh -c test+tcp://127.0.0.1:PORT/default version',
    run: async (d) => void (await virsh(tcp(d), ['version'])),
    check: (m) => [
      ...need(m[0]?.proc === 66 && m[0].serial === 0 && m[0].type === CALL, 'AUTH_LIST call at serial 0 first'),
      ...need(has(m, { dir: 'c2s', proc: 1, type: CALL, serial: 2 }), 'CONNECT_OPEN call serial 2'),
      ...need(has(m, { dir: 's2c', proc: 4, type: REPLY, status: OK }), 'CONNECT_GET_VERSION reply'),
      ...need(has(m, { dir: 's2c', proc: 2, type: REPLY, status: OK }), 'CONNECT_CLOSE reply'),
    ],
  },
  {
    name: 'list-all',
    description: 'CONNECT_LIST_ALL_DOMAINS (need_results=1, flags=3) with one domain record, then DOMAIN_GET_STATE per domain.',
    command: 'virsh -c test+tcp://127.0.0.1:PORT/default list --all',
    run: async (d) => void (await virsh(tcp(d), ['list', '--all'])),
    check: (m) => [
      ...need(has(m, { dir: 's2c', proc: 273, type: REPLY, status: OK }), 'LIST_ALL_DOMAINS reply'),
      ...need(has(m, { dir: 's2c', proc: 212, type: REPLY, status: OK }), 'DOMAIN_GET_STATE reply'),
    ],
  },
  {
    name: 'dominfo',
    description: 'LOOKUP_BY_NAME, GET_OS_TYPE, GET_INFO (32-byte reply), IS_PERSISTENT, GET_AUTOSTART, HAS_MANAGED_SAVE_IMAGE, NODE_GET_SECURITY_MODEL and DOMAIN_GET_SECURITY_LABEL (char<> arrays, one word per char), DOMAIN_GET_MESSAGES.',
    command: 'virsh -c test+tcp://127.0.0.1:PORT/default dominfo test',
    run: async (d) => void (await virsh(tcp(d), ['dominfo', 'test'])),
    check: (m) => [
      ...need(has(m, { dir: 's2c', proc: 16, type: REPLY, status: OK, len: 28 + 32 }), 'GET_INFO reply of 32 payload bytes'),
      ...need(has(m, { dir: 's2c', proc: 122, type: REPLY, status: OK }), 'NODE_GET_SECURITY_MODEL reply'),
      ...need(has(m, { dir: 's2c', proc: 121, type: REPLY, status: OK }), 'DOMAIN_GET_SECURITY_LABEL reply'),
    ],
  },
  {
    name: 'nodeinfo',
    description: 'NODE_GET_INFO: char model[32] sent as 32 words (128 bytes), memory hyper, six ints: 160 payload bytes.',
    command: 'virsh -c test+tcp://127.0.0.1:PORT/default nodeinfo',
    run: async (d) => void (await virsh(tcp(d), ['nodeinfo'])),
    check: (m) => need(has(m, { dir: 's2c', proc: 6, type: REPLY, status: OK, len: 28 + 160 }), 'NODE_GET_INFO reply of 160 payload bytes'),
  },
  {
    name: 'error-resume',
    description: "DOMAIN_RESUME on a running domain with no other client: REPLY ERROR with remote_error code 1 domain 12 \"internal error: domain 'test' not paused\", str1/str2 set, int1=int2=-1.",
    command: 'virsh -c test+tcp://127.0.0.1:PORT/default resume test',
    run: async (d) => void (await virsh(tcp(d), ['resume', 'test'], false)),
    check: (m) => need(has(m, { dir: 's2c', proc: 28, type: REPLY, status: ERROR }), 'DOMAIN_RESUME error reply'),
  },
  {
    name: 'event',
    description: 'virsh registers a lifecycle callback (CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY) while a python client on the UNIX socket suspends and resumes `test`: two DOMAIN_EVENT_CALLBACK_LIFECYCLE MESSAGE frames (serial 1), then deregistration.',
    command: 'virsh -c test+tcp://127.0.0.1:PORT/default event --loop --event lifecycle --timeout 4  (python3 on the UNIX socket: suspend; resume)',
    run: (d) =>
      withSuspendResumeHolder(d.uri('test'), async (trigger) => {
        const listener = virsh(tcp(d), ['event', '--loop', '--event', 'lifecycle', '--timeout', '4']);
        await sleep(1_500); // virsh is connected and registered by now
        await trigger();
        const r = await listener;
        if (!/events received: 2/.test(r.stdout)) throw new Error(`event: ${describeRun(r)}`);
      }),
    check: (m) => [
      ...need(has(m, { dir: 's2c', proc: 316, type: REPLY, status: OK }), 'REGISTER_ANY reply'),
      ...need(m.filter((x) => x.dir === 's2c' && x.prog === REMOTE && x.proc === 318 && x.type === MESSAGE && x.serial === 1).length === 2, 'two lifecycle events with serial 1'),
      ...need(has(m, { dir: 's2c', proc: 317, type: REPLY, status: OK }), 'DEREGISTER_ANY reply'),
    ],
  },
  {
    name: 'keepalive',
    description: 'virsh with a 1 s keepalive interval idles in an event loop for 3 s: client PING (program 0x6b656570, proc 1, MESSAGE, serial 0) answered by server PONG (proc 2).',
    command: 'virsh -k 1 -c test+tcp://127.0.0.1:PORT/default event --loop --event lifecycle --timeout 3',
    run: async (d) => {
      // With no event, virsh reports the timeout with exit status 1: that is the expected ending here.
      const r = await runVirsh(tcp(d), ['-k', '1', 'event', '--loop', '--event', 'lifecycle', '--timeout', '3'], { timeoutMs: 20_000 });
      if (r.timedOut || !/event loop timed out/.test(r.stdout)) throw new Error(`keepalive: ${describeRun(r)}`);
    },
    check: (m) => [
      ...need(has(m, { dir: 'c2s', prog: KEEPALIVE, proc: 1, type: MESSAGE, serial: 0, len: 28 }), 'client PING'),
      ...need(has(m, { dir: 's2c', prog: KEEPALIVE, proc: 2, type: MESSAGE, serial: 0, len: 28 }), 'server PONG'),
    ],
  },
  {
    name: 'stream',
    description: 'DOMAIN_SCREENSHOT on the test driver: REPLY with mime "image/png", STREAM CONTINUE data packet(s) with the raw PNG, an empty CONTINUE (EOF), then STREAM OK from the client and STREAM OK from the server.',
    command: 'virsh -c test+tcp://127.0.0.1:PORT/default screenshot test FILE',
    run: async (d, scratch) => void (await virsh(tcp(d), ['screenshot', 'test', `${scratch}/screenshot.png`])),
    check: (m) => [
      ...need(has(m, { dir: 's2c', proc: 211, type: REPLY, status: OK }), 'SCREENSHOT reply'),
      ...need(has(m, { dir: 's2c', proc: 211, type: STREAM, status: CONTINUE, minLen: 29 }), 'data packet'),
      ...need(has(m, { dir: 's2c', proc: 211, type: STREAM, status: CONTINUE, len: 28 }), 'empty CONTINUE (EOF)'),
      ...need(has(m, { dir: 'c2s', proc: 211, type: STREAM, status: OK, len: 28 }), 'client STREAM OK'),
      ...need(has(m, { dir: 's2c', proc: 211, type: STREAM, status: OK, len: 28 }), 'server STREAM OK'),
    ],
  },
  {
    name: 'unknown-proc',
    description: 'Hand-built client: AUTH_LIST, CONNECT_OPEN "test:///default", REMOTE proc 9999 (-> "unknown procedure: 9999"), program 0x12345678 proc 1 (-> "Cannot find program 305419896 version 1"), CONNECT_CLOSE.',
    command: 'node scripts/capture/raw-client.ts (frames built by hand)',
    run: async (d) => {
      if (d.tcpPort === undefined) throw new Error('needs TCP');
      await unknownProcSession(d.tcpPort);
    },
    check: (m) => [
      ...need(has(m, { dir: 's2c', prog: REMOTE, proc: 9999, type: REPLY, status: ERROR, serial: 2 }), 'unknown procedure error'),
      ...need(has(m, { dir: 's2c', proc: 1, type: REPLY, status: ERROR, serial: 3 }), 'unknown program error'),
      ...need(has(m, { dir: 's2c', proc: 2, type: REPLY, status: OK, serial: 4 }), 'CONNECT_CLOSE still works afterwards'),
    ],
  },
];
