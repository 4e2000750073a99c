import { spawnChannel, type ChildChannel } from './child.js';

/** Runs an external command (`+ext?command=`) and talks RPC over its stdio; its stderr explains failures. */
export function connectExternal(argv: readonly string[], signal?: AbortSignal): Promise<ChildChannel> {
  return spawnChannel(argv, { what: `command '${argv[0] ?? ''}'` }, signal);
}
