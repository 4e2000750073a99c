// Authentication right after the transport connects: AUTH_LIST, then the exchange the server's
// first (or the URI's chosen) method needs. Polkit needs nothing from us; SASL is not spoken yet.
import type { AuthOptions } from '../../api/auth.js';
import { RemoteAuthType, RemoteProcedures as R } from '../../protocol/gen/remote.js';
import type { CallOptions, RpcClient } from '../../rpc/client.js';
import { VirError, VirErrorDomain, VirErrorNumber } from '../../rpc/errors.js';

export interface AuthSetup {
  /** `?auth=` from the URI: 'sasl', 'sasl.MECH' or 'polkit'; undefined takes the server's first. */
  readonly wanted?: string;
  readonly auth?: AuthOptions;
}

function authError(code: VirErrorNumber, detail: string): VirError {
  const template = code === VirErrorNumber.AUTH_FAILED ? 'authentication failed: %s' : 'authentication unavailable: %s';
  return VirError.format(code, VirErrorDomain.AUTH, template, detail);
}

/** Runs libvirt's client authentication; resolves when the server will take CONNECT_OPEN. */
export async function authenticate(client: RpcClient, setup: AuthSetup, opts: CallOptions): Promise<void> {
  let types: RemoteAuthType[];
  try {
    types = (await client.call(R.AUTH_LIST, undefined, opts)).types;
  } catch (err) {
    // Servers older than AUTH_LIST answer "unknown procedure": no authentication there.
    if (err instanceof VirError && err.code === VirErrorNumber.RPC && err.message.startsWith('unknown procedure')) return;
    throw err;
  }
  if (types.length === 0) return;
  const wanted = setup.wanted?.split('.')[0];
  const choice = wanted === undefined ? types[0] : wanted === 'sasl' ? RemoteAuthType.SASL : wanted === 'polkit' ? RemoteAuthType.POLKIT : undefined;
  if (choice === undefined || !types.includes(choice)) {
    throw authError(VirErrorNumber.AUTH_FAILED, `requested authentication type ${setup.wanted ?? '?'} rejected`);
  }
  switch (choice) {
    case RemoteAuthType.NONE:
      return;
    case RemoteAuthType.POLKIT: {
      const { complete } = await client.call(R.AUTH_POLKIT, undefined, opts);
      if (!complete) throw authError(VirErrorNumber.AUTH_FAILED, 'polkit authentication did not complete');
      return;
    }
    case RemoteAuthType.SASL:
      // The credential callback (setup.auth) is where a SASL exchange will get its answers.
      throw authError(VirErrorNumber.AUTH_UNAVAILABLE, 'SASL authentication is not supported by this client yet');
    default:
      throw authError(VirErrorNumber.AUTH_FAILED, `unknown authentication type ${String(choice)}`);
  }
}
