// Drives a channel the way libvirt's client starts a session: AUTH_LIST, CONNECT_OPEN, then CONNECT_GET_TYPE.
import { openRemoteChannel } from '../../src/drivers/remote/channel.js';
import { resolveUri, type ResolveOptions } from '../../src/drivers/remote/uri.js';
import { RemoteProcedures } from '../../src/protocol/gen/remote.js';
import { RpcClient } from '../../src/rpc/index.js';

export interface SessionResult {
  authTypes: number[];
  type: string;
  description: string;
  secure: boolean;
  encrypted: boolean;
}

export async function openAndGetType(uri: string, opts: ResolveOptions = {}, timeoutMs = 15_000): Promise<SessionResult> {
  const target = resolveUri(uri, { configFile: null, ...opts });
  const ch = await openRemoteChannel(target, { timeoutMs });
  const client = new RpcClient(ch.channel, { description: ch.description, defaultTimeoutMs: timeoutMs });
  try {
    const auth = await client.call(RemoteProcedures.AUTH_LIST, undefined);
    await client.call(RemoteProcedures.CONNECT_OPEN, { name: target.name, flags: target.readonly ? 1 : 0 });
    const { type } = await client.call(RemoteProcedures.CONNECT_GET_TYPE, undefined);
    // No CONNECT_CLOSE: through virt-ssh-helper its reply is sometimes lost when the daemon hangs up.
    return { authTypes: auth.types.map(Number), type, description: ch.description, secure: ch.secure, encrypted: ch.encrypted };
  } finally {
    void client.close();
    ch.channel.destroy();
  }
}
