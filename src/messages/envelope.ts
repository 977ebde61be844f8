import type { BaseCommand } from './commands.js'
import type { QueryId, Sender } from './ids.js'

/**
 * What an actor receives for each ask: the command and the addressing around
 * it. The reply port itself lives in the system's port table, keyed by `id`;
 * actors settle it through their context (ctx.reply / ctx.fail / ctx.next /
 * ctx.end), which guarantees a port settles exactly once.
 */
export interface Envelope<C extends BaseCommand = BaseCommand> {
  /** query id; keys the reply port */
  id: QueryId
  /** who asked */
  from: Sender
  /** clock time the ask was made (ms) */
  sentAt: number
  /** absolute deadline on the system clock (ms); the port times out then */
  deadline: number
  /** 'once' for an ask, 'stream' for a streamed reply */
  port: 'once' | 'stream'
  command: C
}
