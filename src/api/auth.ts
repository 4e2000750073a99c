/**
 * Credentials a connection may need while authenticating, in libvirt's vocabulary
 * (virConnectCredentialType). The application supplies them through one callback that answers
 * a batch of prompts, as virConnectAuth does; nothing is prompted for unless the server asks.
 */
export enum CredentialType {
  USERNAME = 1,
  AUTHNAME = 2,
  LANGUAGE = 3,
  CNONCE = 4,
  PASSPHRASE = 5,
  ECHOPROMPT = 6,
  NOECHOPROMPT = 7,
  REALM = 8,
  EXTERNAL = 9,
}

export interface CredentialRequest {
  readonly type: CredentialType;
  /** What to show the user ("Please enter your password"). */
  readonly prompt: string;
  /** Mechanism-specific extra text (e.g. the SASL realm), if any. */
  readonly challenge?: string;
  /** The default answer, if any. */
  readonly defaultResult?: string;
}

export interface AuthOptions {
  /** The credential types this application can answer; others are never asked for. */
  readonly credentials: readonly CredentialType[];
  /** Answers the prompts in order; null leaves one unanswered. Rejecting cancels authentication. */
  callback(requests: readonly CredentialRequest[], signal?: AbortSignal): Promise<ReadonlyArray<string | null>>;
}

/** Convenience: an AuthOptions answering username and password prompts from fixed values. */
export function staticCredentials(username: string, password: string): AuthOptions {
  return {
    credentials: [CredentialType.USERNAME, CredentialType.AUTHNAME, CredentialType.PASSPHRASE, CredentialType.NOECHOPROMPT],
    callback: async (requests) =>
      requests.map((r) =>
        r.type === CredentialType.USERNAME || r.type === CredentialType.AUTHNAME ? username : r.type === CredentialType.PASSPHRASE || r.type === CredentialType.NOECHOPROMPT ? password : null,
      ),
  };
}
