/**
 * The connection's life as data. One client walks this path once:
 * idle -> connecting -> negotiating -> running -> disconnecting -> idle;
 * a failed connect goes from connecting/negotiating straight to disconnecting.
 */
export type QmpState = 'idle' | 'connecting' | 'negotiating' | 'running' | 'disconnecting';

const next: Record<QmpState, readonly QmpState[]> = {
  idle: ['connecting'],
  connecting: ['negotiating', 'disconnecting'],
  negotiating: ['running', 'disconnecting'],
  running: ['disconnecting'],
  disconnecting: ['idle'],
};

export function canTransition(from: QmpState, to: QmpState): boolean {
  return next[from].includes(to);
}

export interface QmpStateChange {
  from: QmpState;
  to: QmpState;
}
