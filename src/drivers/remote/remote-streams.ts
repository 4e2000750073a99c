/**
 * Stream procedures over the remote driver (@readstream/@writestream: consoles, channels,
 * screenshots, volume upload and download). The call goes out with RpcClient.callStream; the
 * stream's packets then reuse the call's serial, and the RpcStream it returns is the client end.
 */
import type { ArgsOf, DriverClientStream, ProcName, RetOf } from '../../api/driver.js';
import { RemoteProcedures } from '../../protocol/gen/remote.js';
import type { RpcClient } from '../../rpc/client.js';
import { rpcError } from '../../rpc/errors.js';
import type { ProcedureSpec } from '../../rpc/program.js';

export async function openRemoteStream<K extends ProcName>(
  client: RpcClient,
  name: K,
  args: ArgsOf<K>,
  opts: { signal?: AbortSignal; timeoutMs?: number },
): Promise<{ ret: RetOf<K>; stream: DriverClientStream }> {
  const spec = RemoteProcedures[name] as ProcedureSpec<ArgsOf<K>, RetOf<K>>;
  if (spec.stream === null) throw rpcError(`${spec.name} is not a stream procedure`);
  return client.callStream(spec, args, { signal: opts.signal, timeoutMs: opts.timeoutMs });
}
