/**
 * The base layer of the actor system (see system.ts for the whole).
 */
import { DeadLetters } from './dead-letters.js'
import { Incidents } from './incidents.js'
import { createIdSource } from './ids.js'
import { createRng } from './rng.js'
import type { ProgressEvent } from './actor.js'
import type { Clock } from './clock.js'
import type { DeadLetterReason } from './dead-letters.js'
import type { IdSource } from './ids.js'
import type { Rng } from './rng.js'
import type { SystemStatus } from './system-status.js'
import type { TraceOutput, TraceSink } from './trace-events.js'
import type { ActorStatus, CommandCounters } from '../../messages/system.js'
import type { Cell, Counter, PortEntry } from './cell.js'
import type { QueryId } from '../../messages/ids.js'

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
   * Longest the system delivers before it yields to the host, by the
   * system's clock (default Infinity: off, only deliveryBudget counts):
   * counted across the drains of one stretch of microtasks (completions
   * re-entering as they resolve), which would otherwise keep the host's loop
   * from its I/O and timers however small each drain is. A simulated clock
   * does not move within a stretch, so this never yields there. The price:
   * a burst of asks is delivered across several host turns, so work started
   * by its first asks can finish before its last are delivered (1,000
   * concurrent nocache resolves of one name then share 10 DHT queries, not
   * one). docs/benchmarks.md has its effect on the loop's delay.
   */
  deliverySliceMs?: number
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

/** how far wall() − now() may drift before the system takes the new offset (Date.now() has 1 ms steps; NTP slews ≤ 0.5 ms/s) */
export const WALL_TOLERANCE_MS = 10

/**
 * The system's state and its clock, trace and observability: the registry
 * (cells and routes), the turn's frozen time and the wall clock's offset,
 * trace outputs, dead letters, progress events and status. The layers above
 * add the port table, scheduling, supervision and the actor context.
 */
export abstract class SystemBase {
  /** the port table (port-table.ts): status and progress accounting read it */
  protected abstract readonly ports: Map<QueryId, PortEntry>
  readonly clock: Clock
  readonly rng: Rng
  readonly ids: IdSource
  /** failures nobody waits for (a stop that rejected, a listener that threw): counted, kept, observable */
  readonly incidents = new Incidents()
  readonly deadLetters = new DeadLetters(100, err => { this.incidents.add('listener-failed', err, this.base.now()) })
  protected readonly cells = new Map<string, Cell>()
  protected readonly routes = new Map<string, { cell: Cell, port: 'once' | 'stream', counter: Counter }>()
  protected readonly runQueue: Cell[] = []
  protected runHead = 0
  protected drainScheduled = false
  protected stopped = false
  protected readonly progressListeners = new Set<(e: ProgressEvent) => void>()
  protected readonly opts: Required<Omit<SystemOptions, 'trace' | 'ids' | 'seed' | 'clock' | 'wallOffset'>>
  protected readonly trace: TraceSink | undefined
  /** mailbox deliveries so far (the replay position) */
  deliveries = 0
  /** the time of the current turn (a delivery, a host call, an external completion, a timer) */
  protected frozen: number | undefined
  /**
   * wall() − now() as the actors see it. Sampled at the start of each turn;
   * a change beyond WALL_TOLERANCE_MS (the host's clock was stepped, or the
   * machine slept) is taken and recorded as a `wall` input, so every wall
   * reading inside the system is now() + this offset and a replay reads the
   * same dates.
   */
  protected wallOffset: number
  protected readonly base: Clock

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
      deliverySliceMs: options.deliverySliceMs ?? Infinity,
      yieldToHost: options.yieldToHost ?? queueMicrotask,
      manual: options.manual ?? false
    }
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
  protected freeze (): number {
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
  protected turn<T> (fn: () => T): T {
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

  /** Names of the actors in the registry. */
  actors (): string[] {
    return [...this.cells.keys()]
  }

  protected out (ev: TraceOutput): void {
    this.trace?.output(ev, this.now())
  }

  protected dead (reason: DeadLetterReason, actor?: string, id?: string): void {
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

  protected emitProgress (event: ProgressEvent): void {
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
      } catch (err) {
        // the host's listener failed: not the actor's fault, so no crash; an incident
        this.incidents.add('listener-failed', err, this.base.now(), event.actor)
      }
    }
  }

  /** node.on('progress') listeners now */
  get progressWatchers (): number {
    return this.progressListeners.size
  }

  onProgress (fn: (e: ProgressEvent) => void): () => void {
    this.progressListeners.add(fn)
    return () => { this.progressListeners.delete(fn) }
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
      } catch (err) {
        // the status says so (deterministic: a replay's hook throws the same)
        status.detail = { statusError: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }
      }
      actors.push(status)
    }
    return {
      actors,
      deadLetters: { total: this.deadLetters.total, byReason: { ...this.deadLetters.byReason } },
      openPorts: this.ports.size,
      deliveries: this.deliveries
    }
  }
}
