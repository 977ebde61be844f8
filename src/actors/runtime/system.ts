/**
 * The actor system: registry, routing of commands to actors, the port table
 * (reply ports keyed by query id), deadlines, supervision, dead letters,
 * scheduling and tracing. Everything an actor does to the outside world goes
 * through here, which is what makes the exactly-once and deadline guarantees
 * hold for every actor, and what the trace recorder observes.
 */
import { AbortError, errorToFailure, failureToError, InvalidCommandError, StoppedError, TimeoutError } from '../../messages/errors.js'
import { failure } from '../../messages/failure.js'
import { DEFAULT_SUPERVISION } from './actor.js'
import { DeadLetters } from './dead-letters.js'
import { DeadlineSweeper } from './deadline-sweeper.js'
import { HostStream } from './host-stream.js'
import { createIdSource } from './ids.js'
import { DEFAULT_MAILBOX, Mailbox } from './mailbox.js'
import { createRng } from './rng.js'
import type { ActorBehavior, ActorContext, ActorDefinition, AskOptions, CancelReason, Incoming, ProgressEvent, Settled, SupervisionPolicy } from './actor.js'
import type { Clock } from './clock.js'
import type { DeadLetterReason } from './dead-letters.js'
import type { IdSource } from './ids.js'
import type { Rng } from './rng.js'
import type { SystemStatus } from './system-status.js'
import type { TraceInput, TraceOutput, TraceSink } from './trace-events.js'
import type { AskCommand, AskType, BaseCommand, ItemOf, ReplyOf, StreamCommand, StreamType } from '../../messages/commands.js'
import type { Envelope } from '../../messages/envelope.js'
import type { Failure, FailureKind } from '../../messages/failure.js'
import type { QueryId, Sender } from '../../messages/ids.js'
import type { ActorStatus, CommandCounters } from '../../messages/system.js'

export interface SystemOptions {
  clock: Clock
  /** seed of the system rng (default 1) */
  seed?: number
  ids?: IdSource
  /** deadline of an ask that names none (default 30 s) */
  defaultTimeoutMs?: number
  /** longest deadline an ask may ask for (default 10 min) */
  maxTimeoutMs?: number
  /** reply ports open at once in the whole system (default 100,000) */
  maxOpenPorts?: number
  /** items a stream consumer may fall behind before the stream fails (default 1,024) */
  streamBuffer?: number
  /** progress events per query before further ones are dropped (default 256) */
  progressPerQuery?: number
  /** deliveries per turn before yielding to the host event loop (default 2,048) */
  deliveryBudget?: number
  /**
   * How to continue after a delivery budget is used up. Pass a macrotask
   * (setImmediate) so I/O runs in between, as createNode does; the default,
   * queueMicrotask, never lets the host's I/O in while work remains.
   */
  yieldToHost?: (fn: () => void) => void
  /** replay mode: nothing runs by itself; the replayer steps the system and injects inputs */
  manual?: boolean
  /**
   * wall() − now() at the start (default: read from the clock). A replay
   * passes the recording's; later changes of the offset (clock steps) are
   * inputs of the trace.
   */
  wallOffset?: number
  trace?: TraceSink
}

type SystemMsg<I> =
  | { kind: 'cancel', id: QueryId, reason: CancelReason }
  | { kind: 'internal', msg: I, inc: number }

interface Sink {
  item: (value: unknown) => boolean
  done: (result: Settled<unknown>) => void
}

interface PortEntry {
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

interface Counter { served: number, failed: number, totalMs: number, maxMs: number }

type AnyDef = ActorDefinition<BaseCommand, unknown>
type AnyBehavior = ActorBehavior<BaseCommand, unknown>

class Cell {
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

/** how far wall() − now() may drift before the system takes the new offset (Date.now() has 1 ms steps; NTP slews ≤ 0.5 ms/s) */
export const WALL_TOLERANCE_MS = 10

const CANCEL_ERRORS: Record<CancelReason, (m: string) => Error> = {
  timeout: m => new TimeoutError(m),
  aborted: m => new AbortError(m),
  stopped: m => new StoppedError(m)
}

export class ActorSystem {
  readonly clock: Clock
  readonly rng: Rng
  readonly ids: IdSource
  readonly deadLetters = new DeadLetters()
  private readonly cells = new Map<string, Cell>()
  private readonly routes = new Map<string, { cell: Cell, port: 'once' | 'stream', counter: Counter }>()
  private readonly ports = new Map<QueryId, PortEntry>()
  private readonly sweeper: DeadlineSweeper<PortEntry>
  private readonly runQueue: Cell[] = []
  private runHead = 0
  private drainScheduled = false
  private stopped = false
  private readonly progressListeners = new Set<(e: ProgressEvent) => void>()
  private readonly opts: Required<Omit<SystemOptions, 'trace' | 'ids' | 'seed' | 'clock' | 'wallOffset'>>
  private readonly trace: TraceSink | undefined
  /** mailbox deliveries so far (the replay position) */
  deliveries = 0
  /** the time of the current turn (a delivery, a host call, an external completion, a timer) */
  private frozen: number | undefined
  /**
   * wall() − now() as the actors see it. Sampled at the start of each turn;
   * a change beyond WALL_TOLERANCE_MS (the host's clock was stepped, or the
   * machine slept) is taken and recorded as a `wall` input, so every wall
   * reading inside the system is now() + this offset and a replay reads the
   * same dates.
   */
  private wallOffset: number
  private readonly base: Clock

  constructor (options: SystemOptions) {
    this.trace = options.trace
    this.base = options.clock
    this.wallOffset = options.wallOffset ?? options.clock.wall() - options.clock.now()
    // Actors see time through this facade: one reading per turn, so a replay
    // that sets the clock to each recorded turn's time sees exactly the same
    // values; timer firings are inputs of the trace.
    this.clock = {
      now: () => this.frozen ?? this.base.now(),
      wall: () => (this.frozen ?? this.base.now()) + this.wallOffset,
      setTimer: (at, fn) => {
        const id: number = this.base.setTimer(at, () => {
          this.turn(() => {
            if (!this.opts.manual) this.trace?.input({ type: 'timer', timer: id }, this.now(), this.deliveries)
            fn()
          })
        })
        return id
      },
      clearTimer: id => { this.base.clearTimer(id) }
    }
    this.rng = createRng(options.seed ?? 1)
    this.ids = options.ids ?? createIdSource()
    this.opts = {
      defaultTimeoutMs: options.defaultTimeoutMs ?? 30_000,
      maxTimeoutMs: options.maxTimeoutMs ?? 600_000,
      maxOpenPorts: options.maxOpenPorts ?? 100_000,
      streamBuffer: options.streamBuffer ?? 1024,
      progressPerQuery: options.progressPerQuery ?? 256,
      deliveryBudget: options.deliveryBudget ?? 2048,
      yieldToHost: options.yieldToHost ?? queueMicrotask,
      manual: options.manual ?? false
    }
    this.sweeper = new DeadlineSweeper<PortEntry>(this.clock, e => e.live, e => { this.cancelPort(e.id, 'timeout', 'deadline exceeded') })
  }

  /** The current turn's time. */
  now (): number {
    return this.frozen ?? this.base.now()
  }

  /** The current turn's wall time (ms since the epoch). */
  wall (): number {
    return this.now() + this.wallOffset
  }

  /** wall() − now() as the actors see it now. */
  get wallClockOffset (): number {
    return this.wallOffset
  }

  /**
   * Read the time for a new turn, and take a step of the wall clock against
   * the monotonic one: recorded as an input at the current delivery count.
   */
  private freeze (): number {
    const t = this.base.now()
    if (!this.opts.manual) {
      const offset = this.base.wall() - t
      if (Math.abs(offset - this.wallOffset) > WALL_TOLERANCE_MS) {
        this.wallOffset = offset
        this.trace?.input({ type: 'wall', offset }, t, this.deliveries)
      }
    }
    return t
  }

  /** Replay: the wall clock moved against the monotonic one (a recorded `wall` input). */
  setWallOffset (offset: number): void {
    this.wallOffset = offset
  }

  /** Run fn as one turn: the clock reads the same value throughout. */
  private turn<T> (fn: () => T): T {
    if (this.frozen !== undefined) return fn()
    this.frozen = this.freeze()
    try {
      return fn()
    } finally {
      this.frozen = undefined
    }
  }

  get isStopped (): boolean {
    return this.stopped
  }

  get isReplaying (): boolean {
    return this.opts.manual
  }

  // ───────────────────────────── actors ─────────────────────────────

  spawn<C extends BaseCommand, I> (def: ActorDefinition<C, I>): void {
    if (this.stopped) throw new StoppedError('the system is stopped')
    if (this.cells.has(def.name)) throw new InvalidCommandError('name', `an actor named '${def.name}' already exists`)
    const types = [...def.commands.map(t => ({ t, port: 'once' as const })), ...(def.streams ?? []).map(t => ({ t, port: 'stream' as const }))]
    for (const { t } of types) {
      if (this.routes.has(t)) throw new InvalidCommandError('commands', `command type '${t}' is already served by '${this.routes.get(t)?.cell.def.name ?? ''}'`)
    }
    const cell = new Cell(def as unknown as AnyDef)
    this.cells.set(def.name, cell)
    for (const { t, port } of types) {
      const counter = { served: 0, failed: 0, totalMs: 0, maxMs: 0 }
      cell.counters.set(t, counter)
      this.routes.set(t, { cell, port, counter })
    }
    this.startCell(cell)
  }

  /** Names of the actors in the registry. */
  actors (): string[] {
    return [...this.cells.keys()]
  }

  private startCell (cell: Cell): void {
    if (this.stopped || cell.state === 'stopped') return
    cell.ctx = this.makeContext(cell)
    try {
      cell.behavior = cell.def.start(cell.ctx)
      cell.state = 'running'
    } catch (err) {
      this.crash(cell, err)
      return
    }
    if (!cell.mailbox.empty) this.enqueueCell(cell)
  }

  // ───────────────────────────── asks ─────────────────────────────

  /** Ask from host code: resolves with the typed reply or rejects with a typed Error. */
  ask<C extends AskCommand> (command: C, options: AskOptions = {}): Promise<ReplyOf<C['type'] & AskType>> {
    return new Promise((resolve, reject) => {
      // a turn, inlined: this is the hot path of every host ask
      if (this.frozen !== undefined) {
        this.open(command, 'once', undefined, options, 'host', undefined, undefined, resolve as (v: unknown) => void, reject)
        return
      }
      this.frozen = this.freeze()
      try {
        this.open(command, 'once', undefined, options, 'host', undefined, undefined, resolve as (v: unknown) => void, reject)
      } finally {
        this.frozen = undefined
      }
    })
  }

  /** Stream from host code: an async iterable of the typed items. */
  stream<C extends StreamCommand> (command: C, options: AskOptions = {}): AsyncIterable<ItemOf<C['type'] & StreamType>> {
    const out = new HostStream<ItemOf<C['type'] & StreamType>>(this.opts.streamBuffer)
    const id = this.turn(() => this.open(command, 'stream', {
      item: v => out.push(v as ItemOf<C['type'] & StreamType>),
      done: r => { out.finish(r) }
    }, options, 'host', undefined))
    out.onCancel = () => { this.hostCancel(id) }
    return out
  }

  /** Cancel a host ask or stream by id (like its AbortSignal firing). */
  hostCancel (id: QueryId): void {
    if (!this.ports.has(id)) return
    this.turn(() => {
      if (!this.opts.manual) this.trace?.input({ type: 'abort', id }, this.now(), this.deliveries)
      this.cancelPort(id, 'aborted', 'aborted by the caller')
    })
  }

  /**
   * Open a reply port for a command and queue it. Settles the sink at once
   * (with a failure) when the command cannot be taken. Returns the query id.
   */
  private open (
    command: BaseCommand, port: 'once' | 'stream', sink: Sink | undefined, options: AskOptions, from: Sender,
    asker: Cell | undefined, forcedId?: QueryId, resolve?: (v: unknown) => void, rejectHost?: (e: Error) => void,
    monotonicDeadline = false
  ): QueryId {
    const id = forcedId ?? this.ids.next()
    const now = this.now()
    const reject = (f: Failure): QueryId => {
      this.out({ type: 'settle', id, ok: false, failure: f })
      if (sink !== undefined) sink.done({ ok: false, failure: f })
      else rejectHost?.(failureToError(f))
      return id
    }
    const type = typeof command === 'object' && command !== null ? command.type : undefined
    const route = typeof type === 'string' ? this.routes.get(type) : undefined
    // a host's absolute deadline is a date: taken onto the monotonic clock once,
    // so a later step of the wall clock does not move it (an actor's is monotonic already)
    let deadline = options.deadline === undefined
      ? now + (options.timeoutMs ?? this.opts.defaultTimeoutMs)
      : from === 'host' && !monotonicDeadline ? now + (options.deadline - (now + this.wallOffset)) : options.deadline
    if (from === 'host' && !this.opts.manual) {
      const recorded = route?.cell.def.redact?.(command) ?? command
      const ask: TraceInput = { type: 'ask', id, to: route?.cell.def.name ?? '', port, command: recorded, deadline }
      // an already-aborted signal decides the outcome: the replay must know
      if (options.signal?.aborted === true) ask.aborted = true
      this.trace?.input(ask, now, this.deliveries)
    }
    if (route === undefined) return reject(failure('invalid', `unknown command type '${String(type)}'`, { field: 'type' }))
    if (route.port !== port) {
      return reject(failure('invalid', `'${String(type)}' is a ${route.port === 'stream' ? 'stream: use stream()' : 'one-shot command: use ask()'}`, { field: 'type' }))
    }
    if (options.timeoutMs !== undefined && !(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0)) {
      return reject(failure('invalid', 'timeoutMs must be a positive number', { field: 'timeoutMs' }))
    }
    if (!Number.isFinite(deadline)) return reject(failure('invalid', 'deadline must be a finite time', { field: 'deadline' }))
    deadline = Math.min(deadline, now + this.opts.maxTimeoutMs)
    const cell = route.cell
    let invalid: Failure | undefined
    try {
      invalid = cell.def.validate?.(command)
    } catch (err) {
      invalid = failure('invalid', `command could not be validated: ${errorToFailure(err).message}`, { field: 'command' })
    }
    if (invalid !== undefined) return reject(invalid)
    if (this.stopped || cell.state === 'stopped') return reject(failure('stopped', `actor '${cell.def.name}' is stopped`))
    if (options.signal?.aborted === true) return reject(failure('aborted', 'aborted before it was sent'))
    if (this.ports.size >= this.opts.maxOpenPorts) return reject(failure('overloaded', `too many open queries (${this.opts.maxOpenPorts})`))
    if (deadline <= now) return reject(failure('timeout', 'deadline already passed'))

    const env: Envelope = { id, from, sentAt: now, deadline, port, command }
    if (!cell.mailbox.offer(env)) {
      return reject(failure('overloaded', `mailbox of '${cell.def.name}' is full (${cell.mailbox.limits.capacity})`))
    }
    const entry: PortEntry = {
      live: true, id, type: command.type, port, owner: cell, from, asker, sentAt: now, deadline,
      resolve, reject: rejectHost, sink, counter: route.counter,
      delivered: false, controller: undefined, unlisten: undefined, progress: 0
    }
    this.ports.set(id, entry)
    cell.open++
    this.sweeper.add(entry)
    const signal = options.signal
    if (signal !== undefined) {
      const onAbort = (): void => { this.hostCancel(id) }
      signal.addEventListener('abort', onAbort, { once: true })
      entry.unlisten = () => { signal.removeEventListener('abort', onAbort) }
    }
    if (asker !== undefined) asker.outgoing.add(id)
    this.enqueueCell(cell)
    return id
  }

  /** Settle a port. Returns false if it was not open. */
  private settle (id: QueryId, result: Settled<unknown>, by?: Cell): boolean {
    const e = this.ports.get(id)
    if (e === undefined || (by !== undefined && e.owner !== by)) return false
    this.ports.delete(id)
    e.live = false
    this.sweeper.removed()
    if (e.unlisten !== undefined) e.unlisten()
    e.owner.open--
    if (e.asker !== undefined) e.asker.outgoing.delete(id)
    const ms = this.now() - e.sentAt
    const c = e.counter
    if (result.ok) c.served++
    else c.failed++
    c.totalMs += ms
    if (ms > c.maxMs) c.maxMs = ms
    if (this.trace !== undefined) {
      this.out(result.ok ? { type: 'settle', id, ok: true, value: result.value } : { type: 'settle', id, ok: false, failure: result.failure })
    }
    // the work serving a settled port is no longer wanted: stop it (a get that
    // answered with its first value, a stream that reached its limit)
    if (e.controller !== undefined && !e.controller.signal.aborted) e.controller.abort(new AbortError('the query was settled'))
    if (e.sink !== undefined) e.sink.done(result)
    else if (result.ok) e.resolve?.(result.value)
    else e.reject?.(failureToError(result.failure))
    return true
  }

  /** Settle a port from outside its actor (deadline, abort, stop) and tell the actor. */
  private cancelPort (id: QueryId, reason: CancelReason, message: string, kind: FailureKind = reason === 'aborted' ? 'aborted' : reason === 'timeout' ? 'timeout' : 'stopped'): void {
    const e = this.ports.get(id)
    if (e === undefined) return
    e.controller?.abort(CANCEL_ERRORS[reason](message))
    this.settle(id, { ok: false, failure: failure(kind, `${e.type}: ${message}`) })
    const owner = e.owner
    if (e.delivered && owner.state === 'running') {
      this.postSystem(owner, { kind: 'cancel', id, reason })
    }
  }

  // ─────────────────────────── scheduling ───────────────────────────

  private postSystem (cell: Cell, msg: SystemMsg<unknown>): boolean {
    if (!cell.mailbox.offerSystem(msg)) {
      this.dead('system-lane-full', cell.def.name, msg.kind === 'cancel' ? msg.id : undefined)
      return false
    }
    this.enqueueCell(cell)
    return true
  }

  private enqueueCell (cell: Cell): void {
    if (cell.queued || cell.state !== 'running') return
    cell.queued = true
    this.runQueue.push(cell)
    if (!this.drainScheduled && !this.opts.manual) {
      this.drainScheduled = true
      queueMicrotask(this.drainBound)
    }
  }

  private readonly drainBound = (): void => { this.drain() }

  private drain (): void {
    this.drainScheduled = false
    let budget = this.opts.deliveryBudget
    while (budget-- > 0 && this.step()) { /* deliver */ }
    if (this.runHead < this.runQueue.length && !this.drainScheduled) {
      this.drainScheduled = true
      this.opts.yieldToHost(this.drainBound)
    }
  }

  /** Deliver one message (round robin over actors). false when nothing is waiting. */
  step (): boolean {
    while (this.runHead < this.runQueue.length) {
      const cell = this.runQueue[this.runHead++] as Cell
      if (this.runHead > 64 && this.runHead * 2 > this.runQueue.length) {
        this.runQueue.splice(0, this.runHead)
        this.runHead = 0
      }
      cell.queued = false
      if (cell.state !== 'running') continue
      const sysMsg = cell.mailbox.takeSystem()
      const env = sysMsg === undefined ? cell.mailbox.takeUser() : undefined
      if (sysMsg === undefined && env === undefined) continue
      // the turn's time first: a wall step found here is an input before this delivery
      const outer = this.frozen
      if (outer === undefined) this.frozen = this.freeze()
      this.deliveries++
      try {
        if (sysMsg !== undefined) this.deliverSystem(cell, sysMsg)
        else this.deliverCommand(cell, env as Envelope)
      } finally {
        this.frozen = outer
      }
      if (!cell.mailbox.empty) this.enqueueCell(cell)
      return true
    }
    return false
  }

  /** Messages waiting in all mailboxes. */
  get waiting (): number {
    let n = 0
    for (const c of this.cells.values()) n += c.mailbox.depth + c.mailbox.systemDepth
    return n
  }

  private deliverCommand (cell: Cell, env: Envelope): void {
    const entry = this.ports.get(env.id)
    if (entry === undefined) {
      // settled while queued (deadline, abort): nothing to do
      if (this.trace !== undefined) this.out({ type: 'deliver', actor: cell.def.name, kind: 'skip', id: env.id })
      return
    }
    entry.delivered = true
    if (this.trace !== undefined) this.out({ type: 'deliver', actor: cell.def.name, kind: 'command', id: env.id, what: env.command.type })
    this.receive(cell, { kind: 'command', env })
  }

  private deliverSystem (cell: Cell, sm: SystemMsg<unknown>): void {
    if (sm.kind === 'cancel') {
      if (this.trace !== undefined) this.out({ type: 'deliver', actor: cell.def.name, kind: 'cancel', id: sm.id, what: sm.reason })
      this.receive(cell, sm)
      return
    }
    if (sm.inc !== cell.incarnation) {
      if (this.trace !== undefined) this.out({ type: 'deliver', actor: cell.def.name, kind: 'skip' })
      this.dead('stale-incarnation', cell.def.name)
      return
    }
    if (this.trace !== undefined) this.out({ type: 'deliver', actor: cell.def.name, kind: 'internal', what: describe(sm.msg) })
    this.receive(cell, { kind: 'internal', msg: sm.msg })
  }

  private receive (cell: Cell, msg: Incoming<BaseCommand, unknown>): void {
    try {
      cell.behavior?.receive(msg)
    } catch (err) {
      this.crash(cell, err)
    }
  }

  // ─────────────────────────── supervision ───────────────────────────

  private crash (cell: Cell, err: unknown): void {
    const now = this.now()
    this.out({ type: 'crash', actor: cell.def.name, error: errorToFailure(err).message })
    const old = cell.behavior
    cell.behavior = undefined
    cell.incarnation++
    this.clearTimers(cell)
    this.failOpen(cell, true, 'the actor crashed and is restarting')
    // completions and cancels queued for the crashed incarnation had nowhere to go
    for (const m of cell.mailbox.drainSystem()) this.dead('stale-incarnation', cell.def.name, m.kind === 'cancel' ? m.id : undefined)
    cell.stopping = Promise.resolve().then(() => old?.stop?.()).catch(() => {})
    const p = cell.policy
    cell.restartTimes = cell.restartTimes.filter(t => now - t < p.periodMs)
    if (cell.restartTimes.length >= p.maxRestarts) {
      this.stopCell(cell, `crashed ${p.maxRestarts + 1} times within ${p.periodMs} ms`)
      return
    }
    cell.restartTimes.push(now)
    cell.restarts++
    cell.state = 'restarting'
    const backoff = Math.min(p.backoffMs * 2 ** (cell.restartTimes.length - 1), p.maxBackoffMs)
    cell.restartTimer = this.clock.setTimer(now + backoff, () => {
      cell.restartTimer = undefined
      this.startCell(cell)
    })
  }

  /** Clear the timers the actor set through ctx.after (they belong to the incarnation that ends). */
  private clearTimers (cell: Cell): void {
    for (const t of cell.timers) this.clock.clearTimer(t)
    cell.timers.clear()
  }

  /** Fail the ports this actor serves (only those already delivered, or all) and cancel its own asks. */
  private failOpen (cell: Cell, deliveredOnly: boolean, why: string): void {
    for (const e of [...this.ports.values()]) {
      if (e.owner === cell && (!deliveredOnly || e.delivered)) {
        e.controller?.abort(new StoppedError(why))
        this.settle(e.id, { ok: false, failure: failure('stopped', `${e.type}: ${why}`) })
      }
    }
    for (const id of [...cell.outgoing]) this.cancelPort(id, 'aborted', `asker '${cell.def.name}' stopped`)
    cell.outgoing.clear()
  }

  private stopCell (cell: Cell, why: string): void {
    if (cell.state === 'stopped') return
    const old = cell.behavior
    cell.state = 'stopped'
    cell.behavior = undefined
    cell.incarnation++
    this.clearTimers(cell)
    if (cell.restartTimer !== undefined) this.clock.clearTimer(cell.restartTimer)
    cell.restartTimer = undefined
    this.failOpen(cell, false, why)
    cell.mailbox.drainUser() // their ports were failed above
    for (const m of cell.mailbox.drainSystem()) this.dead('actor-stopped', cell.def.name, m.kind === 'cancel' ? m.id : undefined)
    const prev = cell.stopping ?? Promise.resolve()
    cell.stopping = prev.then(() => old?.stop?.()).catch(() => {})
  }

  /** Stop one actor: its open asks fail with StoppedError, later asks too. */
  async stopActor (name: string): Promise<void> {
    const cell = this.cells.get(name)
    if (cell === undefined) return
    this.stopCell(cell, `actor '${name}' stopped`)
    await cell.stopping
  }

  /** Stop everything: every open ask fails with StoppedError; actors release their resources. */
  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const cell of this.cells.values()) this.stopCell(cell, 'the node is stopping')
    this.sweeper.clear()
    await Promise.all([...this.cells.values()].map(async c => { await c.stopping }))
  }

  // ───────────────────────────── context ─────────────────────────────

  private makeContext (cell: Cell): ActorContext<unknown> {
    const inc = cell.incarnation
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the context's closures read better as sys.x
    const sys = this
    const name = cell.def.name
    // this incarnation, from start() on ('starting'/'restarting' too: a reply to an ask made in start() must not be lost)
    const alive = (): boolean => cell.incarnation === inc && cell.state !== 'stopped'
    const external = (msg: unknown, owner: QueryId | undefined): void => {
      this.turn(() => {
        // recorded even when it is going to be a dead letter: the replay must
        // produce that dead letter at the same point
        if (this.trace !== undefined) {
          const input: TraceInput = { type: 'external', actor: name, incarnation: inc, msg }
          if (owner !== undefined) input.owner = owner
          this.trace.input(input, this.now(), this.deliveries)
        }
        this.injectExternal(name, inc, msg, owner)
      })
    }
    const ctx: ActorContext<unknown> = {
      name,
      clock: this.clock,
      rng: this.rng,
      ids: this.ids,
      incarnation: inc,
      reply: (id, value) => {
        if (sys.ports.get(id)?.port === 'stream') return sys.settleOrDead(cell, id, { ok: false, failure: failure('failed', 'a stream was answered with a single reply') })
        return sys.settleOrDead(cell, id, { ok: true, value })
      },
      fail: (id, f) => sys.settleOrDead(cell, id, { ok: false, failure: f }),
      end: id => sys.settleOrDead(cell, id, { ok: true, value: undefined }),
      next: (id, item) => {
        const e = sys.ports.get(id)
        if (e === undefined || e.owner !== cell || e.port !== 'stream') {
          sys.dead('late-item', name, id)
          return false
        }
        sys.out({ type: 'item', id, item })
        if (e.sink === undefined || !e.sink.item(item)) {
          sys.cancelPort(id, 'aborted', `the consumer fell more than ${sys.opts.streamBuffer} items behind`, 'overloaded')
          return false
        }
        return true
      },
      isOpen: id => sys.ports.get(id)?.owner === cell,
      signal: id => {
        const e = sys.ports.get(id)
        if (e === undefined) {
          const c = new AbortController()
          c.abort(new AbortError('the query is no longer open'))
          return c.signal
        }
        e.controller ??= new AbortController()
        return e.controller.signal
      },
      pipe: (work, toMsg, owner) => {
        if (sys.opts.manual) {
          work.catch(() => {})
          return
        }
        work.then(
          value => { external(toMsg({ ok: true, value }), owner) },
          (err: unknown) => { external(toMsg({ ok: false, failure: errorToFailure(err) }), owner) }
        ).catch(() => {
          // toMsg threw: the completion had nowhere to go; never an unhandled rejection in the host
          sys.dead('late-settle', name, owner)
        })
      },
      pump: (source, onItem, onEnd, owner) => {
        if (sys.opts.manual) return
        void (async () => {
          let n = 0
          try {
            for await (const item of source) {
              if (!alive()) break
              n++
              external(onItem(item), owner)
              if (owner !== undefined && !sys.ports.has(owner)) break
            }
            external(onEnd({ ok: true, value: n }), owner)
          } catch (err) {
            try {
              external(onEnd({ ok: false, failure: errorToFailure(err) }), owner)
            } catch {
              sys.dead('late-settle', name, owner)
            }
          }
        })()
      },
      after: (delayMs, msg) => {
        const timer = sys.clock.setTimer(sys.clock.now() + delayMs, () => {
          cell.timers.delete(timer)
          sys.injectInternal(cell, inc, msg, undefined)
        })
        cell.timers.add(timer)
        return () => {
          cell.timers.delete(timer)
          sys.clock.clearTimer(timer)
        }
      },
      self: msg => { sys.injectInternal(cell, inc, msg, undefined) },
      external: (msg, owner) => { if (!sys.opts.manual) external(msg, owner) },
      ask: (command: BaseCommand, options: AskOptions, toMsg: (r: Settled<unknown>) => unknown) => sys.open(command, 'once', {
        item: () => false,
        done: r => { if (alive()) sys.injectInternal(cell, inc, toMsg(r), undefined) }
      }, options, name, cell),
      stream: (command: BaseCommand, options: AskOptions, onItem: (item: unknown) => unknown, onEnd: (r: Settled<number>) => unknown) => {
        let n = 0
        return sys.open(command, 'stream', {
          item: v => { n++; return alive() && sys.injectInternal(cell, inc, onItem(v), undefined) },
          done: r => { if (alive()) sys.injectInternal(cell, inc, onEnd(r.ok ? { ok: true, value: n } : r), undefined) }
        }, options, name, cell)
      },
      cancel: id => {
        if (cell.outgoing.has(id)) sys.cancelPort(id, 'aborted', `cancelled by '${name}'`)
      },
      progress: event => { sys.emitProgress({ ...event, actor: name }) },
      transition: (machine, id, state, event) => { if (sys.trace !== undefined) sys.out({ type: 'transition', actor: name, machine, id, state, event }) },
      systemStatus: () => sys.status()
    }
    return ctx
  }

  /** Put an internal message on an actor's system lane. When full, the owning query fails with overloaded. */
  private injectInternal (cell: Cell, inc: number, msg: unknown, owner: QueryId | undefined): boolean {
    if (cell.incarnation !== inc) {
      this.dead('stale-incarnation', cell.def.name, owner)
      return false
    }
    if (this.postSystem(cell, { kind: 'internal', msg, inc })) return true
    if (owner !== undefined) this.cancelPort(owner, 'aborted', `system lane of '${cell.def.name}' is full`, 'overloaded')
    return false
  }

  /** Replay: deliver a recorded external completion. */
  injectExternal (actor: string, incarnation: number, msg: unknown, owner?: QueryId): void {
    const cell = this.cells.get(actor)
    if (cell === undefined || cell.incarnation !== incarnation || cell.state === 'stopped') {
      this.dead(cell?.state === 'stopped' ? 'actor-stopped' : 'stale-incarnation', actor, owner)
      return
    }
    this.injectInternal(cell, incarnation, msg, owner)
  }

  /** Replay: an ask from the host. false if the id source does not issue the recorded id. */
  replayAsk (recordedId: QueryId, command: BaseCommand, port: 'once' | 'stream', deadline: number, aborted = false): boolean {
    const id = this.ids.next()
    if (id !== recordedId) return false
    const options: AskOptions = { deadline }
    if (aborted) options.signal = AbortSignal.abort()
    // the recorded deadline is on the monotonic clock already
    this.turn(() => this.open(command, port, { item: () => true, done: () => {} }, options, 'host', undefined, id, undefined, undefined, true))
    return true
  }

  private settleOrDead (cell: Cell, id: QueryId, result: Settled<unknown>): boolean {
    if (this.settle(id, result, cell)) return true
    this.dead('late-settle', cell.def.name, id)
    return false
  }

  // ─────────────────────────── observability ───────────────────────────

  private out (ev: TraceOutput): void {
    this.trace?.output(ev, this.now())
  }

  private dead (reason: DeadLetterReason, actor?: string, id?: string): void {
    const d = { reason, at: this.now() } as { reason: DeadLetterReason, at: number, actor?: string, id?: string }
    if (actor !== undefined) d.actor = actor
    if (id !== undefined) d.id = id
    this.deadLetters.add(d)
    if (this.trace !== undefined) {
      const ev: TraceOutput = { type: 'dead', reason }
      if (actor !== undefined) ev.actor = actor
      if (id !== undefined) ev.id = id
      this.out(ev)
    }
  }

  private emitProgress (event: ProgressEvent): void {
    if (event.id !== undefined) {
      const e = this.ports.get(event.id)
      if (e !== undefined && ++e.progress > this.opts.progressPerQuery) {
        if (e.progress === this.opts.progressPerQuery + 1) this.dead('progress-dropped', event.actor, event.id)
        return
      }
    }
    this.out({ type: 'progress', event })
    for (const l of this.progressListeners) {
      try {
        l(event)
      } catch { /* a listener's failure is its own */ }
    }
  }

  onProgress (fn: (e: ProgressEvent) => void): () => void {
    this.progressListeners.add(fn)
    return () => { this.progressListeners.delete(fn) }
  }

  /** Open reply ports in the whole system. */
  get openPorts (): number {
    return this.ports.size
  }

  /** Heap entries in the deadline sweeper (bounded by ~2× open ports). */
  get sweeperSize (): number {
    return this.sweeper.heapSize
  }

  status (): SystemStatus {
    const actors: ActorStatus[] = []
    for (const cell of this.cells.values()) {
      const commands: Record<string, CommandCounters> = {}
      for (const [type, c] of cell.counters) {
        if (c.served + c.failed === 0) continue
        const n = c.served + c.failed
        commands[type] = { served: c.served, failed: c.failed, meanMs: n === 0 ? 0 : c.totalMs / n, maxMs: c.maxMs }
      }
      const status: ActorStatus = {
        name: cell.def.name,
        state: cell.state,
        mailbox: { depth: cell.mailbox.depth, systemDepth: cell.mailbox.systemDepth, capacity: cell.mailbox.limits.capacity },
        pending: cell.open,
        restarts: cell.restarts,
        commands
      }
      try {
        const detail = cell.behavior?.status?.()
        if (detail !== undefined) status.detail = detail
      } catch { /* a status hook that throws reports nothing */ }
      actors.push(status)
    }
    return {
      actors,
      deadLetters: { total: this.deadLetters.total, byReason: { ...this.deadLetters.byReason } },
      openPorts: this.ports.size,
      deliveries: this.deliveries
    }
  }

  /**
   * Tests: deliver everything waiting, let async completions come in, and (on
   * a simulated clock with `advance`) move time to the next timer, until
   * nothing is left or the step limit is reached. Returns the deliveries made.
   */
  async runUntilQuiet (options: { advance?: (to: number) => void, nextTimerAt?: () => number | undefined, maxSteps?: number, maxRounds?: number } = {}): Promise<number> {
    const maxSteps = options.maxSteps ?? 1_000_000
    const maxRounds = options.maxRounds ?? 10_000
    let steps = 0
    for (let round = 0; round < maxRounds && steps < maxSteps; round++) {
      while (steps < maxSteps && this.step()) steps++
      for (let i = 0; i < 8; i++) await Promise.resolve()
      if (this.runHead < this.runQueue.length) continue
      // A completion several promise hops away (async layers in a port fake)
      // must land before virtual time moves on, or it turns into a spurious
      // timeout: one host macrotask turn runs every pending microtask first.
      // eslint-disable-next-line no-restricted-globals -- test driver, not actor code: it moves no virtual time
      await new Promise<void>(resolve => { setImmediate(resolve) })
      if (this.runHead < this.runQueue.length) continue
      const next = options.nextTimerAt?.()
      if (options.advance === undefined || next === undefined) break
      options.advance(next)
    }
    return steps
  }
}

function describe (msg: unknown): string | undefined {
  if (typeof msg === 'object' && msg !== null && 'type' in msg && typeof msg.type === 'string') return msg.type
  return undefined
}
