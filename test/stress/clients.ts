// Clients for the daemon stress tests: a well-behaved worker that keeps a model of the domains it
// owns and checks every reply and event against it, and the hostile ones (garbage, drop mid-call,
// never read).
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { RpcClient, VirError, type Message } from '../../src/rpc/index.js';
import { RemoteProcedures as R, type RemoteNonnullDomain } from '../../src/protocol/gen/remote.js';
import { VirErrorNumber } from '../../src/rpc/gen/virerror.js';
import { connectTcp, connectUnix } from '../../src/transport/index.js';
import { XdrReader } from '../../src/xdr/index.js';

export type Target = { path: string } | { port: number };

const CALL_TIMEOUT_MS = 20_000;

export async function rawSocket(t: Target): Promise<Socket> {
  return 'path' in t ? connectUnix(t.path) : connectTcp('127.0.0.1', t.port);
}

/** AUTH_LIST + CONNECT_OPEN test:///default, as every libvirt client starts. */
export async function openClient(t: Target): Promise<RpcClient> {
  return (await openWithSocket(t)).client;
}

export async function openWithSocket(t: Target): Promise<{ client: RpcClient; sock: Socket }> {
  const sock = await rawSocket(t);
  const client = new RpcClient(sock, { defaultTimeoutMs: CALL_TIMEOUT_MS });
  await client.call(R.AUTH_LIST, undefined);
  await client.call(R.CONNECT_OPEN, { name: 'test:///default', flags: 0 });
  return { client, sock };
}

export function domainXml(name: string, uuid: string): string {
  return `<domain type='test'><name>${name}</name><uuid>${uuid}</uuid><memory>1024</memory><os><type>hvm</type></os></domain>`;
}

/** A UUID that encodes who made the domain, so failures name the culprit. */
export function makeUuid(round: number, worker: number, n: number): string {
  const h = (v: number, w: number) => v.toString(16).padStart(w, '0');
  return `5eed${h(round, 4)}-0000-4000-8000-${h(worker, 4)}${h(n, 8)}`;
}

export function uuidHex(u: Uint8Array): string {
  const h = Buffer.from(u).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** VmRSS of a process in KiB. */
export function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

export interface Lifecycle {
  callbackID: number;
  uuid: string;
  event: number;
  detail: number;
}

export function decodeLifecycle(msg: Message): Lifecycle | null {
  if (msg.header.proc !== R.DOMAIN_EVENT_CALLBACK_LIFECYCLE.proc) return null;
  const v = R.DOMAIN_EVENT_CALLBACK_LIFECYCLE.args.decode(new XdrReader(msg.body));
  return { callbackID: v.callbackID, uuid: uuidHex(v.msg.dom.uuid), event: v.msg.event, detail: v.msg.detail };
}

/** virDomainState numbers the test driver reports. */
const RUNNING = 1;
const PAUSED = 3;
const SHUTOFF = 5;

export interface OwnDomain {
  name: string;
  uuid: string;
  state: typeof RUNNING | typeof PAUSED | typeof SHUTOFF;
  persistent: boolean;
}

export interface WorkerResult {
  calls: number;
  /** Calls whose outcome differed from the model: should stay empty. */
  failures: string[];
  /** Domains this worker leaves behind, with their expected state. */
  domains: OwnDomain[];
  /** Lifecycle events this worker's calls caused (all of its domains). */
  eventsCaused: number;
}

/** Seeded PRNG (mulberry32): each worker's run is reproducible from its index. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A well-behaved client. Only it touches its own domains, so its model predicts every reply
 * and every lifecycle event about them exactly. `global` workers also subscribe to every
 * domain's lifecycle events and count them.
 */
export class Worker {
  readonly client: RpcClient;
  private readonly rand: () => number;
  private readonly own: OwnDomain[] = [];
  private nextDomain = 0;
  private anchor!: OwnDomain;
  private anchorCallback = -1;
  private globalCallback = -1;
  /** Events expected and seen for the anchor domain, in order. */
  readonly anchorExpected: string[] = [];
  readonly anchorSeen: string[] = [];
  globalSeen = 0;
  readonly failures: string[] = [];
  private calls = 0;
  private eventsCaused = 0;

  private constructor(
    client: RpcClient,
    readonly index: number,
    readonly round: number,
    readonly global: boolean,
  ) {
    this.client = client;
    this.rand = rng(index * 7919 + 1);
    client.on('message', (m) => this.onMessage(m));
  }

  static async start(t: Target, index: number, round: number, global: boolean): Promise<Worker> {
    const w = new Worker(await openClient(t), index, round, global);
    // The anchor domain stays defined all round; its per-domain callback sees only its events.
    w.anchor = await w.define();
    const reg = await w.client.call(R.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, { eventID: 0, dom: w.handle(w.anchor) });
    w.anchorCallback = reg.callbackID;
    return w;
  }

  /**
   * Global workers subscribe to every domain's events. Called once every worker has started,
   * then the count of caused events starts from zero, so both sides count the same events.
   */
  async subscribe(): Promise<void> {
    if (this.global) this.globalCallback = (await this.client.call(R.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, { eventID: 0, dom: null })).callbackID;
  }

  startCounting(): void {
    this.eventsCaused = 0;
  }

  private onMessage(m: Message): void {
    const ev = decodeLifecycle(m);
    if (!ev) {
      this.failures.push(`unexpected event procedure ${m.header.proc}`);
      return;
    }
    if (ev.callbackID === this.anchorCallback) {
      if (ev.uuid !== this.anchor.uuid) this.failures.push(`anchor callback got an event for ${ev.uuid}`);
      this.anchorSeen.push(`${ev.event}/${ev.detail}`);
    } else if (ev.callbackID === this.globalCallback) this.globalSeen++;
    else this.failures.push(`event for unknown callback ${ev.callbackID}`);
  }

  private handle(d: OwnDomain): RemoteNonnullDomain {
    return { name: d.name, uuid: new Uint8Array(Buffer.from(d.uuid.replace(/-/g, ''), 'hex')), id: -1 };
  }

  private caused(d: OwnDomain, event: number, detail: number): void {
    this.eventsCaused++;
    if (d === this.anchor) this.anchorExpected.push(`${event}/${detail}`);
  }

  private async expectOk<T>(what: string, p: Promise<T>): Promise<T | undefined> {
    this.calls++;
    try {
      return await p;
    } catch (e) {
      this.failures.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  }

  private async expectError(what: string, code: VirErrorNumber, p: Promise<unknown>): Promise<void> {
    this.calls++;
    try {
      await p;
      this.failures.push(`${what}: succeeded, expected error ${VirErrorNumber[code]}`);
    } catch (e) {
      if (!(e instanceof VirError) || e.code !== code) this.failures.push(`${what}: ${String(e)}, expected ${VirErrorNumber[code]}`);
    }
  }

  private async define(): Promise<OwnDomain> {
    const n = this.nextDomain++;
    const d: OwnDomain = { name: `st${this.round}-${this.index}-${n}`, uuid: makeUuid(this.round, this.index, n), state: SHUTOFF, persistent: true };
    const r = await this.expectOk('define', this.client.call(R.DOMAIN_DEFINE_XML, { xml: domainXml(d.name, d.uuid) }));
    if (r) {
      this.own.push(d);
      this.caused(d, 0, 0);
    }
    return d;
  }

  /** One random step of the mixed workload. */
  async step(): Promise<void> {
    const c = this.client;
    const d = this.own[Math.floor(this.rand() * this.own.length)]!;
    const h = this.handle(d);
    const x = this.rand();
    if (x < 0.1) {
      const r = await this.expectOk('lookup test', c.call(R.DOMAIN_LOOKUP_BY_NAME, { name: 'test' }));
      if (r && r.dom.name !== 'test') this.failures.push('lookup returned another domain');
      await this.expectError('lookup missing', VirErrorNumber.NO_DOMAIN, c.call(R.DOMAIN_LOOKUP_BY_NAME, { name: `nosuch-${this.index}` }));
    } else if (x < 0.2) {
      const r = await this.expectOk('list all', c.call(R.CONNECT_LIST_ALL_DOMAINS, { needResults: 1, flags: 0 }));
      if (r) {
        const seen = new Map(r.domains.map((x) => [uuidHex(x.uuid), x]));
        for (const o of this.own) {
          const s = seen.get(o.uuid);
          if (!s || s.name !== o.name || (s.id >= 0) !== (o.state !== SHUTOFF)) this.failures.push(`list all: ${o.name} missing or wrong id`);
        }
        if (r.ret !== r.domains.length) this.failures.push('list all: count differs from list');
      }
    } else if (x < 0.35) {
      const info = await this.expectOk('get info', c.call(R.DOMAIN_GET_INFO, { dom: h }));
      if (info && info.state !== d.state) this.failures.push(`get info ${d.name}: state ${info.state}, expected ${d.state}`);
      const st = await this.expectOk('get state', c.call(R.DOMAIN_GET_STATE, { dom: h, flags: 0 }));
      if (st && st.state !== d.state) this.failures.push(`get state ${d.name}: ${st.state}, expected ${d.state}`);
    } else if (x < 0.45) {
      if (this.rand() < 0.5) {
        const nets = await this.expectOk('list networks', c.call(R.CONNECT_LIST_ALL_NETWORKS, { needResults: 1, flags: 0 }));
        if (nets && !nets.nets.some((n) => n.name === 'default')) this.failures.push('network default missing');
        await this.expectOk('network lookup', c.call(R.NETWORK_LOOKUP_BY_NAME, { name: 'default' }));
      } else {
        const pools = await this.expectOk('list pools', c.call(R.CONNECT_LIST_ALL_STORAGE_POOLS, { needResults: 1, flags: 0 }));
        if (pools && !pools.pools.some((p) => p.name === 'default-pool')) this.failures.push('pool default-pool missing');
        const p = await this.expectOk('pool lookup', c.call(R.STORAGE_POOL_LOOKUP_BY_NAME, { name: 'default-pool' }));
        if (p) await this.expectOk('pool info', c.call(R.STORAGE_POOL_GET_INFO, { pool: p.pool }));
      }
    } else if (x < 0.5) {
      if (this.own.length < 4) await this.define();
      else if (d !== this.anchor && d.persistent) await this.undefine(d);
    } else if (x < 0.55) {
      // A call that must fail, by the state machine.
      if (d.state === SHUTOFF) await this.expectError('suspend shut off', VirErrorNumber.INTERNAL_ERROR, c.call(R.DOMAIN_SUSPEND, { dom: h }));
      else if (d.state === RUNNING) await this.expectError('resume running', VirErrorNumber.INTERNAL_ERROR, c.call(R.DOMAIN_RESUME, { dom: h }));
      else await this.expectError('start paused', VirErrorNumber.INTERNAL_ERROR, c.call(R.DOMAIN_CREATE, { dom: h }));
    } else {
      await this.transition(d);
    }
  }

  private async undefine(d: OwnDomain): Promise<void> {
    if (!(await this.expectOk('undefine', this.client.call(R.DOMAIN_UNDEFINE, { dom: this.handle(d) }).then(() => true)))) return;
    this.caused(d, 1, 0);
    if (d.state === SHUTOFF) this.own.splice(this.own.indexOf(d), 1);
    else d.persistent = false;
  }

  /** A legal lifecycle move: start, suspend, resume or destroy. */
  private async transition(d: OwnDomain): Promise<void> {
    const c = this.client;
    const h = this.handle(d);
    const ok = (what: string, p: Promise<unknown>) => this.expectOk(what, p.then(() => true));
    if (d.state === SHUTOFF) {
      if (await ok('start', c.call(R.DOMAIN_CREATE, { dom: h }))) {
        d.state = RUNNING;
        this.caused(d, 2, 0);
      }
    } else if (this.rand() < 0.3) {
      if (await ok('destroy', c.call(R.DOMAIN_DESTROY, { dom: h }))) {
        d.state = SHUTOFF;
        this.caused(d, 5, 1);
        if (!d.persistent) this.own.splice(this.own.indexOf(d), 1);
      }
    } else if (d.state === RUNNING) {
      if (await ok('suspend', c.call(R.DOMAIN_SUSPEND, { dom: h }))) {
        d.state = PAUSED;
        this.caused(d, 3, 0);
      }
    } else if (await ok('resume', c.call(R.DOMAIN_RESUME, { dom: h }))) {
      d.state = RUNNING;
      this.caused(d, 4, 0);
    }
  }

  async runUntil(deadline: number): Promise<void> {
    while (Date.now() < deadline) await this.step();
  }

  result(): WorkerResult {
    return { calls: this.calls, failures: this.failures, domains: [...this.own], eventsCaused: this.eventsCaused };
  }
}

/** Resolves once `cond` holds, or rejects after `ms`. */
export async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// ---- hostile clients ----------------------------------------------------------------------

const REMOTE_PROGRAM = 0x20008086;

/** A CALL frame: header words then raw body bytes. */
export function frame(prog: number, proc: number, serial: number, body: Uint8Array = new Uint8Array(0)): Buffer {
  const b = Buffer.alloc(28 + body.length);
  [28 + body.length, prog, 1, proc, 0, serial, 0].forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  b.set(body, 28);
  return b;
}

/** Kinds of garbage, each with what the daemon must do: close the socket, or reply with an error. */
export const GARBAGE: Array<{ name: string; bytes: () => Buffer; expect: 'close' | 'error-reply' }> = [
  { name: 'length over the limit', bytes: () => Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4]), expect: 'close' },
  { name: 'length under the header size', bytes: () => Buffer.from([0, 0, 0, 8, 0, 0, 0, 0]), expect: 'close' },
  { name: 'unknown program', bytes: () => frame(0x12345678, 1, 7), expect: 'error-reply' },
  { name: 'unknown procedure', bytes: () => frame(REMOTE_PROGRAM, 0x7fff, 8), expect: 'error-reply' },
  { name: 'undecodable arguments', bytes: () => frame(REMOTE_PROGRAM, R.DOMAIN_LOOKUP_BY_NAME.proc, 9, Buffer.from([0xff, 0xff, 0xff, 0xf0])), expect: 'error-reply' },
];

/**
 * Sends one kind of garbage on a fresh connection and reports what the daemon did:
 * 'close' when it hung up, 'error-reply' when it answered with an ERROR status reply.
 */
export function sendGarbage(t: Target, bytes: Buffer, timeoutMs = 5000): Promise<'close' | 'error-reply' | 'nothing'> {
  return new Promise((resolve, reject) => {
    const sock = connect('path' in t ? { path: t.path } : { host: '127.0.0.1', port: t.port });
    let got = Buffer.alloc(0);
    const done = (r: 'close' | 'error-reply' | 'nothing') => {
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done('nothing'), timeoutMs);
    sock.once('connect', () => sock.write(bytes));
    sock.on('data', (c: Buffer) => {
      got = Buffer.concat([got, c]);
      // Header: len prog vers proc type serial status; a REPLY (1) with status ERROR (1).
      if (got.length >= 28 && got.readUInt32BE(16) === 1 && got.readUInt32BE(24) === 1) done('error-reply');
    });
    sock.once('close', () => done('close'));
    sock.once('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? done('close') : reject(e)));
  });
}

/** Random bytes: the daemon may hang up or answer, but must stay up. */
export function randomGarbage(seed: number): Buffer {
  const r = rng(seed);
  const b = Buffer.alloc(8 + Math.floor(r() * 200));
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256);
  return b;
}

/** Opens, writes a call (or half of one) and closes the socket at once, before any reply. */
export async function dropMidCall(t: Target, n: number): Promise<void> {
  const { client: c, sock } = await openWithSocket(t);
  const calls = [
    () => c.call(R.CONNECT_LIST_ALL_DOMAINS, { needResults: 1, flags: 0 }),
    () => c.call(R.DOMAIN_LOOKUP_BY_NAME, { name: 'test' }),
    () => c.call(R.CONNECT_LIST_ALL_NETWORKS, { needResults: 1, flags: 0 }),
  ];
  const pending = [calls[n % 3]!(), calls[(n + 1) % 3]!()].map((p) => p.catch(() => undefined));
  if (n % 4 === 0) sock.write(frame(REMOTE_PROGRAM, R.DOMAIN_LOOKUP_BY_NAME.proc, 99).subarray(0, 20));
  sock.destroy();
  await Promise.all(pending);
}
