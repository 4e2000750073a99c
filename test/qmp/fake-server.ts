// A scripted QMP peer on a private unix socket, for faults real QEMU will not produce on demand.
// By default it greets, accepts qmp_capabilities and answers every command with {"return": {}};
// `handle` takes over command handling (answer, misbehave or stay silent).
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const FAKE_GREETING = {
  QMP: { version: { qemu: { micro: 0, minor: 2, major: 7 }, package: 'fake' }, capabilities: ['oob'] },
};

export interface FakeCommand {
  execute?: string;
  'exec-oob'?: string;
  arguments?: Record<string, unknown>;
  id?: unknown;
}

export class FakeConn {
  /** Every command the client sent, in order. */
  readonly received: FakeCommand[] = [];
  readonly ended: Promise<void>;

  constructor(readonly socket: Socket) {
    this.ended = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
  }

  /** Sends one JSON message followed by QEMU's CRLF. */
  send(msg: object): void {
    this.raw(JSON.stringify(msg) + '\r\n');
  }

  raw(text: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(text);
  }

  event(name: string, data?: object): void {
    this.send({ event: name, ...(data ? { data } : {}), timestamp: { seconds: 1700000000, microseconds: 42 } });
  }

  reply(cmd: FakeCommand, value: unknown = {}): void {
    this.send({ return: value, id: cmd.id });
  }

  error(cmd: FakeCommand, cls: string, desc: string): void {
    this.send({ id: cmd.id, error: { class: cls, desc } });
  }
}

export interface FakeOptions {
  /** null: never greet. */
  greeting?: object | null;
  /** Runs on connection before the greeting is sent. */
  onConnect?: (c: FakeConn) => void;
  /** Handles every command after qmp_capabilities; default answers {"return": {}}. */
  handle?: (cmd: FakeCommand, c: FakeConn) => void;
  /** Handles qmp_capabilities; default answers {"return": {}}. */
  negotiate?: (cmd: FakeCommand, c: FakeConn) => void;
  /** Listen on 127.0.0.1 (random port) instead of a unix socket. */
  tcp?: boolean;
}

export interface FakeServer {
  path: string;
  /** Set when listening on TCP. */
  port: number;
  conns: FakeConn[];
  /** Resolves with the next connection to arrive (or the first one if already there). */
  connection(): Promise<FakeConn>;
  close(): Promise<void>;
}

export async function startFakeQmp(opts: FakeOptions = {}): Promise<FakeServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tsvirt-qmp-'));
  const path = join(dir, 'qmp.sock');
  const conns: FakeConn[] = [];
  const waiters: ((c: FakeConn) => void)[] = [];
  const server: Server = createServer((socket) => {
    const c = new FakeConn(socket);
    conns.push(c);
    waiters.shift()?.(c);
    opts.onConnect?.(c);
    if (opts.greeting !== null) c.send(opts.greeting ?? FAKE_GREETING);
    let buf = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const cmd = JSON.parse(line) as FakeCommand;
        c.received.push(cmd);
        if (cmd.execute === 'qmp_capabilities') (opts.negotiate ?? ((x: FakeCommand) => c.reply(x)))(cmd, c);
        else if (opts.handle) opts.handle(cmd, c);
        else c.reply(cmd);
      }
    });
  });
  await new Promise<void>((resolve) => (opts.tcp ? server.listen(0, '127.0.0.1', resolve) : server.listen(path, resolve)));
  const addr = server.address();
  return {
    path,
    port: typeof addr === 'object' && addr ? addr.port : 0,
    conns,
    connection: () => (conns.length ? Promise.resolve(conns[conns.length - 1]!) : new Promise((r) => waiters.push(r))),
    async close() {
      for (const c of conns) c.socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
