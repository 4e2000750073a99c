// Facts the .x files must carry over from libvirt 9.0, checked on the generated modules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XdrReader, XdrWriter } from '../../src/xdr/index.js';
import type { ProcedureSpec, ProgramSpec } from '../../src/rpc/program.js';
import {
  REMOTE_PROGRAM,
  RemoteDomainGetInfoRet,
  RemoteNodeGetInfoRet,
  RemoteProcedure,
  RemoteProcedures,
  remoteProgram,
} from '../../src/protocol/gen/remote.js';
import { QemuProcedures, qemuProgram } from '../../src/protocol/gen/qemu.js';
import { KeepaliveProcedures, keepaliveProgram } from '../../src/rpc/gen/keepalive.js';
import { VIR_NET_MESSAGE_HEADER_MAX, VIR_NET_MESSAGE_MAX, VirNetMessageType } from '../../src/rpc/gen/virnet.js';
import { VirErrorDomain, VirErrorLevel, VirErrorNumber } from '../../src/rpc/gen/virerror.js';

function proc(program: ProgramSpec, n: number): ProcedureSpec {
  const p = program.procedures.get(n);
  assert.ok(p, `procedure ${n} missing`);
  return p;
}

test('program numbers and sizes', () => {
  assert.equal(REMOTE_PROGRAM, 0x20008086);
  assert.equal(remoteProgram.prog, 0x20008086);
  assert.equal(qemuProgram.prog, 0x20008087);
  assert.equal(keepaliveProgram.prog, 0x6b656570);
  for (const p of [remoteProgram, qemuProgram, keepaliveProgram]) assert.equal(p.vers, 1);
  // libvirt 9.0 has exactly procedures 1..443 in REMOTE and 1..7 in QEMU.
  assert.deepEqual([...remoteProgram.procedures.keys()].sort((a, b) => a - b), Array.from({ length: 443 }, (_, i) => i + 1));
  assert.equal(qemuProgram.procedures.size, 7);
  assert.equal(VIR_NET_MESSAGE_MAX, 16777216);
  assert.equal(VIR_NET_MESSAGE_HEADER_MAX, 24);
  assert.equal(VirNetMessageType.STREAM_HOLE, 6);
});

test('procedure numbers across the range', () => {
  const expected: Array<[string, number]> = [
    ['CONNECT_OPEN', 1],
    ['CONNECT_CLOSE', 2],
    ['DOMAIN_GET_XML_DESC', 14],
    ['AUTH_LIST', 66],
    ['DOMAIN_EVENT_LIFECYCLE', 107],
    ['CONNECT_GET_URI', 110],
    ['STORAGE_VOL_UPLOAD', 208],
    ['CONNECT_LIST_ALL_DOMAINS', 273],
    ['DOMAIN_EVENT_CALLBACK_LIFECYCLE', 318],
    ['CONNECT_REGISTER_CLOSE_CALLBACK', 360],
    ['DOMAIN_EVENT_MEMORY_FAILURE', 423],
    ['NETWORK_CREATE_XML_FLAGS', 437],
    ['DOMAIN_FD_ASSOCIATE', 443],
  ];
  for (const [name, n] of expected) {
    assert.equal(proc(remoteProgram, n).name, name, `procedure ${n}`);
    assert.equal(RemoteProcedure[name as keyof typeof RemoteProcedure], n, name);
  }
  assert.equal(QemuProcedures.DOMAIN_MONITOR_COMMAND.proc, 1);
  assert.equal(QemuProcedures.DOMAIN_MONITOR_COMMAND_WITH_FILES.proc, 7);
  assert.equal(KeepaliveProcedures.PING.proc, 1);
  assert.equal(KeepaliveProcedures.PONG.proc, 2);
});

test('event procedures, and only they, are one-way messages', () => {
  const isEvent = /^(CONNECT|DOMAIN|NETWORK|STORAGE_POOL|NODE_DEVICE|SECRET)_EVENT_(?!REGISTER|DEREGISTER)/;
  const messages = [...remoteProgram.procedures.values()].filter((p) => p.kind === 'message').map((p) => p.name);
  const events = [...remoteProgram.procedures.values()].filter((p) => isEvent.test(p.name)).map((p) => p.name);
  assert.deepEqual(messages, events);
  assert.ok(messages.includes('DOMAIN_EVENT_CALLBACK_DEVICE_ADDED'));
  assert.equal(RemoteProcedures.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY.kind, 'call');
  assert.equal(QemuProcedures.DOMAIN_MONITOR_EVENT.kind, 'message');
  assert.equal(KeepaliveProcedures.PING.kind, 'message');
  assert.equal(KeepaliveProcedures.PONG.kind, 'message');
});

test('priorities', () => {
  assert.equal(RemoteProcedures.CONNECT_OPEN.priority, 'high');
  assert.equal(RemoteProcedures.DOMAIN_LOOKUP_BY_NAME.priority, 'high');
  assert.equal(RemoteProcedures.DOMAIN_DESTROY.priority, 'high');
  assert.equal(RemoteProcedures.DOMAIN_GET_INFO.priority, 'low');
  assert.equal(RemoteProcedures.DOMAIN_CREATE.priority, 'low');
  assert.equal(KeepaliveProcedures.PING.priority, 'high');
  assert.equal(QemuProcedures.DOMAIN_MONITOR_COMMAND.priority, 'low');
});

test('read-only access follows libvirt 9.0', () => {
  assert.equal(RemoteProcedures.DOMAIN_GET_XML_DESC.readonly, true);
  assert.equal(RemoteProcedures.CONNECT_LIST_ALL_DOMAINS.readonly, true);
  assert.equal(RemoteProcedures.AUTH_LIST.readonly, true);
  assert.equal(RemoteProcedures.DOMAIN_SUSPEND.readonly, false);
  assert.equal(RemoteProcedures.DOMAIN_DEFINE_XML.readonly, false);
  // Overrides where the ACL alone would guess wrong (observed with a read-only 9.0 connection).
  assert.equal(RemoteProcedures.DOMAIN_SET_SCHEDULER_PARAMETERS.readonly, false);
  assert.equal(RemoteProcedures.DOMAIN_GET_GUEST_VCPUS.readonly, true);
});

test('stream directions', () => {
  assert.equal(proc(remoteProgram, 208).stream, 'write');
  assert.equal(proc(remoteProgram, 208).sparseFlag, 'VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM');
  assert.equal(proc(remoteProgram, 209).stream, 'read');
  assert.equal(proc(remoteProgram, 209).sparseFlag, 'VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM');
  assert.equal(proc(remoteProgram, 211).stream, 'read');
  assert.equal(proc(remoteProgram, 201).stream, 'read');
  assert.equal(proc(remoteProgram, 211).sparseFlag, null);
  assert.equal(RemoteProcedures.DOMAIN_GET_INFO.stream, null);
});

test('error enums', () => {
  assert.equal(VirErrorNumber.NO_DOMAIN, 42);
  assert.equal(VirErrorNumber.RPC, 39);
  assert.equal(VirErrorNumber.MULTIPLE_DOMAINS, 110);
  assert.equal(VirErrorDomain.RPC, 7);
  assert.equal(VirErrorDomain.CH, 72);
  assert.equal(VirErrorLevel.ERROR, 2);
});

test('narrow C types still take a whole XDR word', () => {
  const w = new XdrWriter();
  RemoteDomainGetInfoRet.encode(w, { state: 1, maxMem: 1024n, memory: 512n, nrVirtCpu: 2, cpuTime: 7n });
  assert.equal(w.bytes().length, 32);
  const info = new XdrWriter();
  const model = new Uint8Array(32);
  model.set(new TextEncoder().encode('x86_64'));
  const v = { model, memory: 8n, cpus: 4, mhz: 2000, nodes: 1, sockets: 1, cores: 2, threads: 2 };
  RemoteNodeGetInfoRet.encode(info, v);
  // char model[32] is 32 words, not 32 packed bytes.
  assert.equal(info.bytes().length, 32 * 4 + 8 + 6 * 4);
  assert.deepEqual(RemoteNodeGetInfoRet.decode(new XdrReader(info.bytes())), v);
});
