// Holds a test:///default connection open on a daemon, so its shared state survives between
// separate virsh runs (libvirtd discards it when the last connection closes; so does tsvirtd).
import { RpcClient } from '../../src/rpc/index.js';
import { RemoteProcedures as R } from '../../src/protocol/gen/remote.js';
import { connectUnix } from '../../src/transport/index.js';

export interface Holder {
  readonly client: RpcClient;
  release(): Promise<void>;
}

export async function holdDefault(socketPath: string, uri = 'test:///default'): Promise<Holder> {
  const client = new RpcClient(await connectUnix(socketPath));
  await client.call(R.AUTH_LIST, undefined);
  await client.call(R.CONNECT_OPEN, { name: uri, flags: 0 });
  return {
    client,
    async release() {
      await client.call(R.CONNECT_CLOSE, undefined).catch(() => undefined);
      await client.close();
      // Let the daemon notice the disconnect before the next scenario opens a fresh state.
      await new Promise((r) => setTimeout(r, 50));
    },
  };
}
