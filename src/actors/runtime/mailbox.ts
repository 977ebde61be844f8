/**
 * A bounded mailbox with two lanes. The user lane takes commands from asks;
 * when it is full the ask fails with `overloaded`. The system lane is reserved
 * for the actor's own completions (network results, replies to its asks,
 * timers, cancellations) so a flood of commands cannot starve them; it is
 * bounded too, and served first.
 */
import { Ring } from './ring.js'

export interface MailboxLimits {
  /** commands waiting (user lane) */
  capacity: number
  /** internal completions waiting (system lane) */
  systemCapacity: number
}

export const DEFAULT_MAILBOX: MailboxLimits = { capacity: 1024, systemCapacity: 8192 }

export class Mailbox<U, S> {
  private readonly user: Ring<U>
  private readonly system: Ring<S>

  constructor (readonly limits: MailboxLimits = DEFAULT_MAILBOX) {
    this.user = new Ring<U>(limits.capacity)
    this.system = new Ring<S>(limits.systemCapacity)
  }

  get depth (): number {
    return this.user.size
  }

  get systemDepth (): number {
    return this.system.size
  }

  get empty (): boolean {
    return this.user.size === 0 && this.system.size === 0
  }

  /** false when the user lane is full */
  offer (msg: U): boolean {
    return this.user.push(msg)
  }

  /** false when the system lane is full */
  offerSystem (msg: S): boolean {
    return this.system.push(msg)
  }

  /** The next internal message, if any (served before commands). */
  takeSystem (): S | undefined {
    return this.system.shift()
  }

  /** The next command, if any. */
  takeUser (): U | undefined {
    return this.user.shift()
  }

  drainUser (): U[] {
    return this.user.drain()
  }

  drainSystem (): S[] {
    return this.system.drain()
  }
}
