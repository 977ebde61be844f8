/** Protocol of the system actor: the bus's own commands. */

/** Counters of one command type on one actor. */
export interface CommandCounters {
  served: number
  failed: number
  /** mean latency of settled asks, ms */
  meanMs: number
  /** largest latency seen, ms */
  maxMs: number
}

export interface ActorStatus {
  name: string
  state: 'starting' | 'running' | 'restarting' | 'stopped'
  mailbox: { depth: number, systemDepth: number, capacity: number }
  pending: number
  restarts: number
  commands: Record<string, CommandCounters>
  /** what the actor itself reports (queue depths, caches, throughput, …) */
  detail?: Record<string, unknown>
}

export interface SystemPing {
  type: 'system.ping'
}

declare module './commands.js' {
  interface CommandMap {
    /** a no-op round trip through the bus: health checks and the overhead benchmark */
    'system.ping': { command: SystemPing, reply: Record<string, never> }
  }
}
