/**
 * What an actor is: a definition (name, the command types it serves, limits,
 * supervision) and a behaviour created by `start(ctx)`. The behaviour's
 * `receive` runs synchronously, one message at a time, in mailbox order; it is
 * the only place the actor's state changes. Async work (network, workers,
 * timers) re-enters as `internal` messages through ctx.pipe / ctx.pump /
 * ctx.after; replies of asks to other actors re-enter the same way.
 */
import type { AskCommand, AskType, BaseCommand, ItemOf, ReplyOf, StreamCommand, StreamType } from '../../messages/commands.js'
import type { Envelope } from '../../messages/envelope.js'
import type { Failure } from '../../messages/failure.js'
import type { QueryId } from '../../messages/ids.js'
import type { Clock } from './clock.js'
import type { IdSource } from './ids.js'
import type { MailboxLimits } from './mailbox.js'
import type { Rng } from './rng.js'
import type { SystemStatus } from './system-status.js'

export type CancelReason = 'timeout' | 'aborted' | 'stopped'

/** Why a port was settled from outside the actor. */
export interface Cancel {
  kind: 'cancel'
  id: QueryId
  reason: CancelReason
}

/** The reply a command is answered with: from the CommandMap; `unknown` for a command no map declares (an untyped extension); never for a stream. */
export type ReplyFor<C extends BaseCommand> = C['type'] extends AskType ? ReplyOf<C['type']> : C['type'] extends StreamType ? never : unknown
/** The item a stream command yields: from the StreamMap; `unknown` for an undeclared command; never for a one-shot command. */
export type ItemFor<C extends BaseCommand> = C['type'] extends StreamType ? ItemOf<C['type']> : C['type'] extends AskType ? never : unknown

/**
 * The reply port of one delivered command, typed by that command: a reply of
 * the wrong shape does not compile. Settling goes through the system's port
 * table, so a port still settles exactly once (a second settle returns false
 * and is a `late-settle` dead letter). Keep it (in a map keyed by `id`) to
 * answer later, when the work serving the command completes.
 */
export interface ReplyPort<C extends BaseCommand = BaseCommand> {
  readonly id: QueryId
  /** answer a one-shot command */
  reply(value: ReplyFor<C>): boolean
  /** settle with a failure (one-shot or stream) */
  fail(failure: Failure): boolean
  /** one item of a stream; false if it is closed or its consumer fell too far behind (then it is failed) */
  next(item: ItemFor<C>): boolean
  /** end a stream normally */
  end(): boolean
  /** is the port still open? */
  isOpen(): boolean
  /** fires when the port is settled from outside (deadline, the asker's abort, stop) */
  signal(): AbortSignal
}

/**
 * A command delivered to an actor, with its typed reply port. A union over
 * the actor's commands, discriminated by `type` (the command's type):
 * `switch (msg.type)` narrows `command`, `env` and `port` together.
 */
export type Delivery<C extends BaseCommand> = C extends BaseCommand
  ? { kind: 'command', type: C['type'], command: C, env: Envelope<C>, port: ReplyPort<C> }
  : never

export type Incoming<C extends BaseCommand, I> =
  | Delivery<C>
  | Cancel
  | { kind: 'internal', msg: I }

export type Settled<T> = { ok: true, value: T } | { ok: false, failure: Failure }

export interface AskOptions {
  /** relative deadline; the system default applies when absent */
  timeoutMs?: number
  /**
   * Absolute deadline; wins over timeoutMs. From the host (node.ask,
   * system.ask): a date, ms since the epoch (`Date.now() + 5_000`), taken
   * onto the monotonic clock once, so a later step of the host's clock does
   * not move it. Inside an actor (ctx.ask): a time on ctx.clock.now(), the
   * monotonic clock, such as the envelope's `deadline`.
   */
  deadline?: number
  signal?: AbortSignal
}

export interface SupervisionPolicy {
  /** restarts allowed within periodMs before the actor is stopped for good */
  maxRestarts: number
  periodMs: number
  /** first restart delay; doubles per restart in the period, capped at maxBackoffMs */
  backoffMs: number
  maxBackoffMs: number
}

export const DEFAULT_SUPERVISION: SupervisionPolicy = { maxRestarts: 3, periodMs: 60_000, backoffMs: 10, maxBackoffMs: 5_000 }

export interface ProgressEvent {
  /** e.g. 'kad-dht:query:send-query', 'ipns:resolve:start' */
  type: string
  /** the actor that emitted it */
  actor: string
  /** the query id the event belongs to */
  id?: QueryId
  /** plain data about the event */
  detail?: Record<string, unknown>
}

export interface ActorContext<I> {
  readonly name: string
  readonly clock: Clock
  readonly rng: Rng
  readonly ids: IdSource
  /** restart count of this actor; messages from an older incarnation are dropped */
  readonly incarnation: number

  /** Settle a one-shot port with a reply. false if the port was already settled (→ dead letters). */
  reply(id: QueryId, value: unknown): boolean
  /** Settle a port (one-shot or stream) with a failure. */
  fail(id: QueryId, failure: Failure): boolean
  /** Send one item on a stream port. false if it is closed or its buffer is full (then it is failed). */
  next(id: QueryId, item: unknown): boolean
  /** End a stream port normally. */
  end(id: QueryId): boolean
  /** Is this port still open? */
  isOpen(id: QueryId): boolean
  /**
   * An AbortSignal that fires when the port is settled from outside (deadline,
   * the asker's abort, stop). Pass it down to the operation serving the ask.
   */
  signal(id: QueryId): AbortSignal

  /**
   * Feed the outcome of external async work back in as an internal message
   * (system lane). The message must be plain data (it is recorded in traces).
   * `owner` names the query the work serves: if the system lane is full the
   * query fails with `overloaded` instead of the completion being lost.
   */
  pipe<T>(work: Promise<T>, toMsg: (r: Settled<T>) => I, owner?: QueryId): void
  /** Feed every item of an async iterable in as internal messages, then its end. */
  pump<T>(source: AsyncIterable<T>, onItem: (item: T) => I, onEnd: (r: Settled<number>) => I, owner?: QueryId): void
  /** Deliver msg to this actor after delayMs on the injected clock. Returns a cancel function. */
  after(delayMs: number, msg: I): () => void
  /** Post a message to this actor's system lane. */
  self(msg: I): void
  /**
   * Deliver a message that originates outside the actors (a callback from
   * libp2p, say). It is recorded as an input of the trace; on replay the
   * recorded copy is delivered instead. Plain data only.
   */
  external(msg: I, owner?: QueryId): void

  /** Ask another actor; its reply re-enters as an internal message. Returns the query id. */
  ask<C extends AskCommand>(command: C, options: AskOptions, toMsg: (r: Settled<ReplyOf<C['type'] & AskType>>) => I): QueryId
  /** (a command type the CommandMap does not know: the reply is untyped) */
  ask(command: BaseCommand, options: AskOptions, toMsg: (r: Settled<unknown>) => I): QueryId
  /** Stream from another actor; items and the end (with the item count) re-enter as internal messages. */
  stream<C extends StreamCommand>(command: C, options: AskOptions, onItem: (item: ItemOf<C['type'] & StreamType>) => I, onEnd: (r: Settled<number>) => I): QueryId
  stream(command: BaseCommand, options: AskOptions, onItem: (item: unknown) => I, onEnd: (r: Settled<number>) => I): QueryId
  /** Cancel an ask or stream this actor made. */
  cancel(id: QueryId): void

  /** Record a state-machine transition in the trace (machines this actor runs). */
  transition(machine: string, id: QueryId, state: string, event: string): void
  /** Emit a progress event to node.on('progress') listeners. */
  progress(event: Omit<ProgressEvent, 'actor'>): void
  /**
   * Whether a progress event would reach anyone now: a node.on('progress')
   * listener or the trace. An actor may skip work that only feeds progress
   * (the swarm actor asks libp2p for no query events then).
   */
  progressWatched(): boolean
  /** Counts and status of the whole system (for status commands). */
  systemStatus(): SystemStatus
}

export interface ActorBehavior<C extends BaseCommand, I> {
  receive(msg: Incoming<C, I>): void
  /** extra fields for status reports */
  status?(): Record<string, unknown>
  /**
   * Release resources. Awaited by system.stop(); after a crash it is called but
   * not awaited before the restart (that would make replay wait on the world):
   * a resource that must be free first is chained by the actor itself, as the
   * swarm actor does with its previous libp2p node.
   */
  stop?(): Promise<void> | void
}

export interface ActorDefinition<C extends BaseCommand = BaseCommand, I = unknown> {
  name: string
  /** command types answered with one reply */
  commands: ReadonlyArray<C['type']>
  /** command types answered with a stream */
  streams?: ReadonlyArray<C['type']>
  mailbox?: Partial<MailboxLimits>
  supervision?: Partial<SupervisionPolicy>
  /**
   * The command as a trace may record it: replace secrets (passphrases) so a
   * trace file never holds them. Replay feeds recorded results, so a redacted
   * field only has to pass validation.
   */
  redact?(command: C): C
  /** Reject a malformed command before it is queued: return a Failure of kind 'invalid' naming the field. */
  validate?(command: C): Failure | undefined
  /** Create the behaviour. Called again, fresh, on every restart. Must not block. */
  start(ctx: ActorContext<I>): ActorBehavior<C, I>
}

/** Identity helper that keeps the command and message types of a definition. */
export function defineActor<C extends BaseCommand, I = never> (def: ActorDefinition<C, I>): ActorDefinition<C, I> {
  return def
}
