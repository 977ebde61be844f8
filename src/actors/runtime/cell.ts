/**
 * The system's bookkeeping types: a Cell is one registered actor (its
 * definition, mailbox, current incarnation, supervision state, timers and
 * counters); a PortEntry is one open reply port in the port table.
 */
import { DEFAULT_SUPERVISION } from './actor.js'
import { DEFAULT_MAILBOX, Mailbox } from './mailbox.js'
import type { ActorBehavior, ActorContext, ActorDefinition, CancelReason, Settled, SupervisionPolicy } from './actor.js'
import type { BaseCommand } from '../../messages/commands.js'
import type { Envelope } from '../../messages/envelope.js'
import type { QueryId, Sender } from '../../messages/ids.js'
import type { ActorStatus } from '../../messages/system.js'

export type SystemMsg<I> =
  | { kind: 'cancel', id: QueryId, reason: CancelReason }
  | { kind: 'internal', msg: I, inc: number }

export interface Sink {
  item: (value: unknown) => boolean
  done: (result: Settled<unknown>) => void
}

export interface PortEntry {
  live: boolean
  id: QueryId
  type: string
  port: 'once' | 'stream'
  owner: Cell
  from: Sender
  /** the asking actor, when an actor asked */
  asker: Cell | undefined
  sentAt: number
  deadline: number
  /** host asks resolve directly (no sink object on the hot path) */
  resolve: ((value: unknown) => void) | undefined
  reject: ((err: Error) => void) | undefined
  sink: Sink | undefined
  counter: Counter
  delivered: boolean
  controller: AbortController | undefined
  unlisten: (() => void) | undefined
  progress: number
}

export interface Counter { served: number, failed: number, totalMs: number, maxMs: number }

export type AnyDef = ActorDefinition<BaseCommand, unknown>
export type AnyBehavior = ActorBehavior<BaseCommand, unknown>

export class Cell {
  behavior: AnyBehavior | undefined
  ctx!: ActorContext<unknown>
  incarnation = 0
  state: ActorStatus['state'] = 'starting'
  restarts = 0
  restartTimes: number[] = []
  open = 0
  readonly outgoing = new Set<QueryId>()
  /** timers set through ctx.after by the current incarnation (cleared on crash and stop) */
  readonly timers = new Set<number>()
  /** the pending restart after a crash */
  restartTimer: number | undefined
  readonly counters = new Map<string, Counter>()
  queued = false
  readonly mailbox: Mailbox<Envelope, SystemMsg<unknown>>
  readonly policy: SupervisionPolicy
  stopping: Promise<void> | undefined

  constructor (readonly def: AnyDef) {
    this.mailbox = new Mailbox({ ...DEFAULT_MAILBOX, ...def.mailbox })
    this.policy = { ...DEFAULT_SUPERVISION, ...def.supervision }
  }
}
