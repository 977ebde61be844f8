/**
 * The reply port handed to an actor with each delivered command: a typed
 * view of the port table entry, settling through the incarnation's context
 * (so the port table's exactly-once rule, counters, trace and dead letters
 * apply as for ctx.reply). One small object per delivery, its methods on the
 * prototype.
 */
import type { ActorContext, ItemFor, ReplyFor, ReplyPort } from './actor.js'
import type { BaseCommand } from '../../messages/commands.js'
import type { Failure } from '../../messages/failure.js'
import type { QueryId } from '../../messages/ids.js'

export class DeliveredPort<C extends BaseCommand> implements ReplyPort<C> {
  constructor (private readonly ctx: ActorContext<unknown>, readonly id: QueryId) {}

  reply (value: ReplyFor<C>): boolean {
    return this.ctx.reply(this.id, value)
  }

  fail (failure: Failure): boolean {
    return this.ctx.fail(this.id, failure)
  }

  next (item: ItemFor<C>): boolean {
    return this.ctx.next(this.id, item)
  }

  end (): boolean {
    return this.ctx.end(this.id)
  }

  isOpen (): boolean {
    return this.ctx.isOpen(this.id)
  }

  signal (): AbortSignal {
    return this.ctx.signal(this.id)
  }
}
