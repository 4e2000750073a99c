// A small program for engine tests, built from the generated remote procedure table so the
// codecs are the real ones; priorities are overridden where a test needs a known value.
import { REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, RemoteProcedures } from '../../src/protocol/gen/remote.js';
import type { ProcedureSpec, ProgramSpec } from '../../src/rpc/index.js';

export const P = {
  getType: { ...RemoteProcedures.CONNECT_GET_TYPE, priority: 'low' as const },
  lookup: { ...RemoteProcedures.DOMAIN_LOOKUP_BY_NAME, priority: 'low' as const },
  /** Treated as high priority in these tests. */
  destroy: { ...RemoteProcedures.DOMAIN_DESTROY, priority: 'high' as const },
  listAll: RemoteProcedures.CONNECT_LIST_ALL_DOMAINS,
  lifecycle: RemoteProcedures.DOMAIN_EVENT_CALLBACK_LIFECYCLE,
  download: RemoteProcedures.STORAGE_VOL_DOWNLOAD,
  upload: RemoteProcedures.STORAGE_VOL_UPLOAD,
};

export const testProgram: ProgramSpec = {
  name: 'REMOTE_PROGRAM',
  prog: REMOTE_PROGRAM,
  vers: REMOTE_PROTOCOL_VERSION,
  procedures: new Map<number, ProcedureSpec>(
    Object.values(P).map((p) => [p.proc, p as ProcedureSpec]),
  ),
};

export const uuid = (n: number) => Uint8Array.from({ length: 16 }, (_, i) => (i === 15 ? n : 0xaa));
export const dom = (name: string, id = -1) => ({ name, uuid: uuid(name.length), id });
