import { CallAbortedError, type VirError } from '../rpc/errors.js';

/**
 * Runs a connect-style operation that an AbortSignal can cancel. `start` begins the work, calls
 * `done` once, and returns how to undo it (e.g. destroy the half-open socket).
 */
export function abortable<T>(
  start: (done: (err: VirError | null, value?: T) => void) => () => void,
  signal?: AbortSignal,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new CallAbortedError('connect', signal.reason));
      return;
    }
    let settled = false;
    const onAbort = () => {
      if (settled) return;
      settled = true;
      undo();
      reject(new CallAbortedError('connect', signal?.reason));
    };
    const undo = start((err, value) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(value as T);
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
