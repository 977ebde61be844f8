/**
 * The actor system's reply-port table (see system.ts for the whole).
 */
import { AbortError, errorToFailure, failureToError, StoppedError, TimeoutError } from '../../messages/errors.js'
import { failure } from '../../messages/failure.js'
import { DeadlineSweeper } from './deadline-sweeper.js'
import type { AskOptions, CancelReason, Settled } from './actor.js'
import type { TraceInput } from './trace-events.js'
import type { BaseCommand } from '../../messages/commands.js'
import type { Envelope } from '../../messages/envelope.js'
import type { Failure, FailureKind } from '../../messages/failure.js'
import type { QueryId, Sender } from '../../messages/ids.js'
import { invariant } from './invariant.js'
import { SystemBase } from './system-base.js'
import type { SystemOptions } from './system-base.js'
import type { Cell, PortEntry, Sink, SystemMsg } from './cell.js'

const CANCEL_ERRORS: Record<CancelReason, (m: string) => Error> = {
  timeout: m => new TimeoutError(m),
  aborted: m => new AbortError(m),
  stopped: m => new StoppedError(m)
}

/**
 * The port table: one reply port per query id, settled exactly once (a late
 * settle is a dead letter), its deadline in the sweeper, its counters
 * updated and its settle traced; opening a port checks the ask and queues it.
 */
export abstract class PortTable extends SystemBase {
  protected readonly ports = new Map<QueryId, PortEntry>()
  protected readonly sweeper: DeadlineSweeper<PortEntry>

  constructor (options: SystemOptions) {
    super(options)
    this.sweeper = new DeadlineSweeper<PortEntry>(this.clock, e => e.live, e => { this.cancelPort(e.id, 'timeout', 'deadline exceeded') })
  }

  protected abstract enqueueCell (cell: Cell): void
  protected abstract postSystem (cell: Cell, msg: SystemMsg<unknown>): boolean

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
  protected open (
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
    // the table and the heap stay within their bounds (the heap: about twice the open ports, see deadline-sweeper.ts)
    invariant(this.ports.size <= this.opts.maxOpenPorts, () => `${this.ports.size} ports open, more than maxOpenPorts ${this.opts.maxOpenPorts}`)
    invariant(this.sweeper.heapSize <= 2 * this.ports.size + 66, () => `the deadline heap holds ${this.sweeper.heapSize} entries for ${this.ports.size} open ports`)
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
  protected settle (id: QueryId, result: Settled<unknown>, by?: Cell): boolean {
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
  protected cancelPort (id: QueryId, reason: CancelReason, message: string, kind: FailureKind = reason === 'aborted' ? 'aborted' : reason === 'timeout' ? 'timeout' : 'stopped'): void {
    const e = this.ports.get(id)
    if (e === undefined) return
    e.controller?.abort(CANCEL_ERRORS[reason](message))
    this.settle(id, { ok: false, failure: failure(kind, `${e.type}: ${message}`) })
    const owner = e.owner
    if (e.delivered && owner.state === 'running') {
      this.postSystem(owner, { kind: 'cancel', id, reason })
    }
  }

  protected settleOrDead (cell: Cell, id: QueryId, result: Settled<unknown>): boolean {
    if (this.settle(id, result, cell)) return true
    this.dead('late-settle', cell.def.name, id)
    return false
  }

  /** Open reply ports in the whole system. */
  get openPorts (): number {
    return this.ports.size
  }

  /** Heap entries in the deadline sweeper (bounded by ~2× open ports). */
  get sweeperSize (): number {
    return this.sweeper.heapSize
  }
}
